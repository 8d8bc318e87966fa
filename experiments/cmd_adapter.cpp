// `leadbench adapter check|merge`: argument parsing and the summary lines; the work is in
// core/peft_adapter and core/hf_checkpoint.
#include "experiments/cmd_adapter.h"

#include "core/device.h"
#include "core/hf_checkpoint.h"
#include "core/json_io.h"
#include "core/peft_adapter.h"
#include "experiments/cli.h"

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <sstream>

namespace lb {

namespace {

const char* const kAdapterUsage =
    "usage: leadbench adapter check --base HF_DIR --adapter PEFT_DIR [--device cpu|cuda]\n"
    "       leadbench adapter merge --base HF_DIR --adapter PEFT_DIR --out OUT_DIR [--dtype D] [--max-shard-gb G]\n"
    "LoRA adapters in Hugging Face PEFT's format (adapter_config.json + adapter_model.safetensors) on the\n"
    "Hugging Face checkpoint HF_DIR (config.json + model.safetensors or shards; Llama, Mistral, Qwen2, Qwen3).\n"
    "  check   loads the adapter onto the checkpoint, verifying every option and tensor (plain LoRA: r,\n"
    "          lora_alpha, lora_dropout, target_modules; rslora, DoRA, patterns, biases, modules_to_save are\n"
    "          errors), and prints what it holds\n"
    "  merge   writes OUT_DIR, a Hugging Face model folder with W + (lora_alpha / r) B A in every adapted\n"
    "          projection: config.json and the tokenizer files copied from HF_DIR, model.safetensors (shards\n"
    "          and an index above --max-shard-gb, default 5). OUT_DIR must not exist; it appears complete\n"
    "          or not at all.\n"
    "  --dtype D   float32 | bfloat16 | float16 | base (default: the checkpoint's own dtype)\n";

std::string need(const ParsedArgs& a, const std::string& flag) {
  const std::string v = a.value(flag);
  if (v.empty()) throw UsageError(flag + " is required\n" + kAdapterUsage);
  return v;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ",") + peft_module_name(x);
  return s;
}

}  // namespace

int cmd_adapter(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h") {
    (args.empty() ? std::cerr : std::cout) << kAdapterUsage;
    return args.empty() ? 2 : 0;
  }
  const std::string sub = args[0];
  if (sub != "check" && sub != "merge")
    throw UsageError("unknown subcommand '" + sub + "' (check or merge)\n" + kAdapterUsage);
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  const ParsedArgs a = parse_args(rest, {"--base", "--adapter", "--out", "--dtype", "--max-shard-gb"}, {});
  if (a.common.help) {
    std::cout << kAdapterUsage;
    return 0;
  }
  if (!a.positional.empty()) throw UsageError("unexpected argument '" + a.positional[0] + "'\n" + kAdapterUsage);
  if (!a.overrides.empty()) throw UsageError("unexpected argument '" + a.overrides[0] + "'\n" + kAdapterUsage);
  if (sub == "check")
    for (const char* f : {"--out", "--dtype", "--max-shard-gb"})
      if (a.has(f)) throw UsageError(std::string(f) + " belongs to `adapter merge`\n" + kAdapterUsage);
  apply_common_flags(a.common);
  const std::string base = need(a, "--base"), adapter = need(a, "--adapter");

  MergedExportOptions opt;
  std::string out;
  if (sub == "merge") {
    out = need(a, "--out");
    if (std::filesystem::exists(out)) throw UsageError("--out " + out + " already exists; choose a new folder");
    const std::string d = a.value("--dtype", "base");
    if (d == "float32") opt.dtype = torch::kFloat32;
    else if (d == "bfloat16") opt.dtype = torch::kBFloat16;
    else if (d == "float16") opt.dtype = torch::kFloat16;
    else if (d != "base") throw UsageError("--dtype must be float32, bfloat16, float16 or base, got '" + d + "'");
    if (a.has("--max-shard-gb")) {
      const std::string g = a.value("--max-shard-gb");
      double gb = 0;
      try {
        size_t pos = 0;
        gb = std::stod(g, &pos);
        if (pos != g.size()) gb = 0;
      } catch (const std::exception&) {
        gb = 0;
      }
      if (!(gb > 0) || gb > 1e6) throw UsageError("--max-shard-gb needs a positive number, got '" + g + "'");
      opt.max_shard_bytes = static_cast<int64_t>(gb * 1024.0 * 1024.0 * 1024.0);
    }
  }

  const torch::Device device = resolve_device(a.common.device);
  // The adapter's config is checked before the (possibly large) base is loaded.
  const ModelConfig mc = read_hf_config(base);
  const PeftAdapterConfig pc = read_peft_config(adapter, mc.n_layers);
  LoadedHfModel loaded = load_hf_checkpoint(base, device);
  const PeftLoadResult r = load_peft_adapter(loaded.model, adapter);
  loaded.model->eval();
  std::ostringstream s;
  s << "adapter " << adapter << ": LORA r " << pc.lora.rank << ", lora_alpha " << pc.lora.alpha << " (scale "
    << pc.lora.alpha / pc.lora.rank << "), lora_dropout " << pc.lora.dropout << ", target_modules " << join(pc.lora.targets)
    << " in all " << mc.n_layers << " layers; " << r.tensors << " tensors, " << r.parameters << " parameters";
  if (!pc.peft_version.empty()) s << "; written by PEFT " << pc.peft_version;
  s << "\nbase " << base << ": " << loaded.info.architecture << ", " << loaded.model->parameter_count(false) - r.parameters
    << " parameters";
  std::cout << s.str() << "\n";
  if (sub == "merge") {
    save_merged_hf_checkpoint(loaded.model, base, out, opt);
    std::cout << "merged: wrote " << out << "\n";
  }
  return 0;
}

}  // namespace lb
