// `leadbench adapter`: LoRA adapters in Hugging Face PEFT's format on a Hugging Face checkpoint:
// check one (load it onto the base, every tensor and option verified) or merge one into the base
// weights as a new Hugging Face model folder.
#pragma once

#include <string>
#include <vector>

namespace lb {

// args: the words after `leadbench adapter`. Returns the exit status (0 done); usage errors throw
// UsageError, bad input InputError (file and tensor or field named), as main expects.
int cmd_adapter(const std::vector<std::string>& args);

}  // namespace lb
