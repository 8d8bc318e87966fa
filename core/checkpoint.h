// One entry point for pretrained checkpoints: a Hugging Face model folder (core/hf_checkpoint.h)
// or a llama.cpp .gguf file (core/gguf_checkpoint.h), and the tokenizer that comes with either.
#pragma once

#include "core/hf_checkpoint.h"
#include "core/hf_tokenizer.h"

#include <string>

namespace lb {

// A folder: load_hf_checkpoint; a file ending in .gguf or starting with the GGUF magic:
// load_gguf_checkpoint. Anything else is an InputError saying what is accepted.
// info.format says which ("safetensors" or "gguf").
LoadedHfModel load_checkpoint(const std::string& path, torch::Device device = torch::kCPU,
                              c10::optional<torch::ScalarType> dtype = c10::nullopt);

// The checkpoint's tokenizer: the folder's tokenizer.json (with tokenizer_config.json) or the
// GGUF file's tokenizer.ggml.* metadata (HfTokenizer::load accepts both).
HfTokenizer load_checkpoint_tokenizer(const std::string& path);

}  // namespace lb
