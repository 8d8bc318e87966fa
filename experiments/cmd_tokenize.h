// `leadbench tokenize`: a Hugging Face tokenizer (tokenizer.json, a folder holding one, or a .gguf)
// applied to a JSONL file of texts, or of conversations through a chat template, for users and scripts.
#pragma once

#include <string>
#include <vector>

namespace lb {

// args: the words after `leadbench tokenize`. Returns the exit status (0 done); usage errors throw
// UsageError, bad input InputError (file and line named), as main expects.
int cmd_tokenize(const std::vector<std::string>& args);

}  // namespace lb
