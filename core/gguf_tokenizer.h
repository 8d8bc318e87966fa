// The tokenizer a GGUF file describes in its tokenizer.ggml.* metadata, as a Hugging Face tokenizer
// (HfTokenizer::load calls load_gguf_tokenizer for a .gguf path). Needs no LibTorch.
#pragma once

#include "core/gguf.h"
#include "core/hf_tokenizer.h"

#include <nlohmann/json.hpp>

#include <string>

namespace lb {

// The tokenizer.json document (and in *config the tokenizer_config.json fields: bos_token,
// eos_token, chat_template, clean_up_tokenization_spaces) that the file's tokenizer.ggml.* metadata
// describes. Supported: tokenizer.ggml.model "gpt2" (byte-level BPE) with tokenizer.ggml.pre one of
// gguf_pre_tokenizers(); anything else is an InputError naming the file and the key.
nlohmann::json gguf_tokenizer_json(const gguf::File& file, nlohmann::json* config);
// The pre-tokenizer types gguf_tokenizer_json knows, comma-separated.
std::string gguf_pre_tokenizers();
// HfTokenizer from a .gguf file.
HfTokenizer load_gguf_tokenizer(const std::string& path);

}  // namespace lb
