// Hugging Face model folders (config.json + model.safetensors, or shards listed in
// model.safetensors.index.json) of LlamaForCausalLM (SmolLM2, Llama 3.x), MistralForCausalLM,
// Qwen2ForCausalLM and Qwen3ForCausalLM, loaded into leadbench's DecoderModel.
//
// Every config.json field that changes the computation is read and honoured (see read_hf_config);
// an unsupported architecture or value is an InputError naming the file, the field and what is
// supported. Tensors are read from memory-mapped files and converted once into the compute dtype,
// each mapped tensor's pages dropped after its conversion, so loading holds one copy of the weights.
#pragma once

#include "core/model.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace lb {

// What config.json says beyond the model's shape.
struct HfCheckpointInfo {
  std::string folder;
  std::string architecture;            // e.g. "LlamaForCausalLM"
  std::string model_type;              // e.g. "llama"
  torch::ScalarType stored_dtype = torch::kFloat32;  // torch_dtype / dtype (absent: float32)
  std::vector<int64_t> bos_token_ids;  // config.json may give one id, a list, or none
  std::vector<int64_t> eos_token_ids;
  int64_t pad_token_id = -1;           // -1: none
  std::vector<std::string> weight_files;  // the safetensors files, in index order (a .gguf: the file)
  std::string format = "safetensors";     // "safetensors" (a Hugging Face folder) or "gguf"
};

// The same from a parsed config.json (`source` names it in errors; the GGUF loader passes the
// llama.* metadata rewritten under config.json's field names). info->folder is left empty.
ModelConfig hf_config_from_json(const nlohmann::json& root, const std::string& source, HfCheckpointInfo* info = nullptr);

// Parses `folder`/config.json into the model config (max_seq_len = max_position_embeddings) and
// the info above. InputError naming config.json and the field for anything not supported.
ModelConfig read_hf_config(const std::string& folder, HfCheckpointInfo* info = nullptr);

// The checkpoint's name of one of the model's parameters ("blocks.3.attn.q.weight" ->
// "model.layers.3.self_attn.q_proj.weight"); empty for a name with no counterpart.
std::string hf_tensor_name(const std::string& leadbench_name);

struct LoadedHfModel {
  DecoderModel model{nullptr};  // eval mode, no adapters, every weight from the checkpoint
  HfCheckpointInfo info;
};

// The dtype weights are converted to: float32 on the CPU; on CUDA the stored dtype when it is
// bfloat16 or float16 (a frozen base keeps it), else float32.
torch::ScalarType hf_compute_dtype(torch::ScalarType stored, const torch::Device& device);

// Loads the folder onto `device`. dtype: the compute dtype (default: hf_compute_dtype). Every
// check (config, index, shards, tensor names, shapes, dtypes) runs before any weight is copied; a
// missing, extra or wrongly-shaped tensor, a shard listed in the index but absent, or an invalid
// index is an InputError naming the file and the tensor.
LoadedHfModel load_hf_checkpoint(const std::string& folder, torch::Device device = torch::kCPU,
                                 c10::optional<torch::ScalarType> dtype = c10::nullopt);

// Memory a run will need, in bytes, by part (the estimate printed before a run starts).
struct MemoryEstimate {
  int64_t weights = 0;      // base weights in their compute dtype
  int64_t adapters = 0;     // LoRA A and B (float32)
  int64_t gradients = 0;    // of the trainable parameters (float32)
  int64_t optimizer = 0;    // AdamW's two moments of the trainable parameters (float32)
  int64_t activations = 0;  // kept for the backward pass at (batch, seq_len), an upper-bound model
  int64_t total() const { return weights + adapters + gradients + optimizer + activations; }
};

// weight_bytes: bytes per base weight (4 fp32, 2 bf16). training = false: inference (no gradients,
// optimizer, or stored activations beyond one layer's).
MemoryEstimate estimate_memory(const ModelConfig& model, const LoraConfig& lora, int64_t batch, int64_t seq_len,
                               int weight_bytes, bool training);
// A few lines: each part in GiB and the total.
std::string format_memory_estimate(const MemoryEstimate& m);

}  // namespace lb
