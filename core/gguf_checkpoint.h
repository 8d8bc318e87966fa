// GGUF checkpoints of the `llama` architecture (llama.cpp's format; SmolLM2, Llama 2/3.x converted
// by convert_hf_to_gguf.py) loaded into leadbench's DecoderModel (the tokenizer of a GGUF file:
// core/gguf_tokenizer.h).
//
// The llama.* metadata is rewritten under config.json's field names and goes through the same
// mapping and checks as a Hugging Face folder (hf_config_from_json). Tensors are dequantised once
// from the mapped file into the compute dtype (F32, F16, BF16, Q8_0, Q4_0, Q4_1; any other type is an
// InputError naming the tensor), and llama.cpp's row permutation of the query and key projections
// (convert_hf_to_gguf.py's `permute`, for its interleaved rotary layout) is undone, as transformers'
// GGUF loader does, so that the model computes what the original Hugging Face checkpoint computes.
#pragma once

#include "core/gguf.h"
#include "core/hf_checkpoint.h"
#include "core/gguf_tokenizer.h"

#include <nlohmann/json.hpp>

#include <string>

namespace lb {

// A tensor of the file as a float32 CPU tensor of its PyTorch shape (the GGUF dims reversed),
// decoded in parallel. InputError for a type that cannot be dequantised.
torch::Tensor gguf_dequantize(const gguf::File& file, const gguf::TensorInfo& t);

// The model config and info of a GGUF file (general.architecture must be "llama"). InputError
// naming the file and the metadata key for anything missing or unsupported.
ModelConfig read_gguf_config(const gguf::File& file, HfCheckpointInfo* info = nullptr);

// The GGUF name of one of the model's parameters ("blocks.3.attn.q.weight" -> "blk.3.attn_q.weight");
// empty for a name with no counterpart.
std::string gguf_tensor_name(const std::string& leadbench_name);

// Undoes convert_hf_to_gguf.py's permute(w, n_head) of a query or key projection (weight [rows, in]
// or bias [rows], rows = n_head * head_dim): GGUF row order -> Hugging Face row order.
torch::Tensor gguf_unpermute_rows(const torch::Tensor& w, int64_t n_head);

// Loads a .gguf file onto `device` (dtype: default hf_compute_dtype of float32, i.e. float32). Every
// check (metadata, tensor names, shapes, types) runs before any weight is converted.
LoadedHfModel load_gguf_checkpoint(const std::string& path, torch::Device device = torch::kCPU,
                                   c10::optional<torch::ScalarType> dtype = c10::nullopt);

}  // namespace lb
