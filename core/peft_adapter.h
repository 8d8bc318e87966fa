// LoRA adapters in Hugging Face PEFT's format (a folder holding adapter_config.json and
// adapter_model.safetensors, what `PeftModel.save_pretrained` writes and `PeftModel.from_pretrained`
// reads), on DecoderModels whose base is a Hugging Face checkpoint (core/hf_checkpoint.h), and the
// merged export (W + scale * B A) as a Hugging Face model folder.
//
// The mapping: leadbench's adapter of projection "blocks.N.attn.q" (lora_a [r, in], lora_b [out, r],
// scale alpha / r) is PEFT's `base_model.model.model.layers.N.self_attn.q_proj.lora_A.weight` ([r, in])
// and `...lora_B.weight` ([out, r]), saved without the adapter name; target "q" is "q_proj", "gate"
// is "gate_proj", and so on. Only plain LoRA is supported: options that change the math another way
// (use_rslora, DoRA, rank or alpha patterns, a subset of layers, biases, modules_to_save, embedding
// adapters, fan_in_fan_out, initialisations that rewrite the base weights) are an InputError naming
// the file and the field, raised before the model is touched.
//
// Every folder is written atomically: into a temporary sibling, then renamed, so a reader never sees
// a half-written adapter or checkpoint; an existing output folder is never overwritten.
#pragma once

#include "core/model.h"

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace lb {

// PEFT's name of a leadbench LoRA target ("q" -> "q_proj"); empty for an unknown target.
std::string peft_module_name(const std::string& target);

// PEFT's tensor names of one projection's adapter: {"...lora_A.weight", "...lora_B.weight"} for layer
// `layer` and target `target` ("q", ..., "down").
std::pair<std::string, std::string> peft_tensor_names(int layer, const std::string& target);

// What adapter_config.json says, checked against what leadbench implements.
struct PeftAdapterConfig {
  LoraConfig lora;                      // rank (r), alpha (lora_alpha), dropout (lora_dropout), targets
  std::string base_model_name_or_path;  // as written (informational; not checked)
  std::string peft_version;             // as written; empty when absent
};

// Parses and checks `folder`/adapter_config.json for a model with `n_layers` blocks (target_modules
// given as a regex are matched against every layer's module names, as PEFT does). InputError naming
// the file and the field for anything not supported.
PeftAdapterConfig read_peft_config(const std::string& folder, int n_layers);

struct PeftLoadResult {
  PeftAdapterConfig config;
  int64_t tensors = 0;     // lora_A and lora_B tensors read
  int64_t parameters = 0;  // adapter parameters (elements) loaded
};

// Loads the PEFT adapter in `folder` onto `model`. A model without adapters gets them (base frozen,
// as LoraConfig's default); one that already carries adapters must have the same r, alpha, dropout
// and targets, and has their values replaced. Every check runs before the model changes: the
// config (read_peft_config), the safetensors file, every expected tensor present with its shape
// ([r, in] for A, [out, r] for B) and a floating-point dtype, no extra tensor. Errors are
// InputErrors naming the file and the tensor or field.
PeftLoadResult load_peft_adapter(DecoderModel& model, const std::string& folder);

struct PeftExportOptions {
  std::string base_model_name_or_path;  // written into adapter_config.json (PEFT loads the base from it)
};

// Writes the model's adapter (float32) as `folder`/adapter_model.safetensors and adapter_config.json
// with r, lora_alpha, lora_dropout and target_modules from model->lora_config(). The model must carry
// adapters and a frozen base (lora.train_base would change the base weights, which an adapter file
// does not hold: export merged weights instead). `folder` must not exist yet.
void save_peft_adapter(DecoderModel& model, const std::string& folder, const PeftExportOptions& opt = {});

struct MergedExportOptions {
  // dtype of the written weights; c10::nullopt = the base checkpoint's stored dtype (config.json's
  // dtype / torch_dtype). config.json's dtype field is rewritten when it differs.
  c10::optional<torch::ScalarType> dtype;
  // Tensors are grouped into shards of at most this many bytes (one tensor larger than it gets a
  // shard of its own); more than one shard adds model.safetensors.index.json, as transformers does.
  int64_t max_shard_bytes = int64_t{5} << 30;
};

// Writes the model's weights with every adapter merged in (W + (alpha / r) B A, computed in float32,
// converted once) as a Hugging Face model folder `out_folder`: config.json copied from `base_folder`
// (the checkpoint the model was loaded from, which must describe the same model), model.safetensors
// (or shards with an index) with the checkpoint's tensor names, and the tokenizer and generation
// files found in `base_folder`. load_hf_checkpoint (and transformers) load it back. `out_folder`
// must not exist yet. A model without adapters is written as it is.
void save_merged_hf_checkpoint(DecoderModel& model, const std::string& base_folder, const std::string& out_folder,
                               const MergedExportOptions& opt = {});

}  // namespace lb
