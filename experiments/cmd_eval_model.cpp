// `leadbench eval --model`: a checkpoint evaluated on a real suite; see cmd_eval_model.h.
#include "experiments/cmd_eval_model.h"

#include "core/config.h"
#include "core/device.h"
#include "core/json_io.h"
#include "core/ledger.h"
#include "core/peft_adapter.h"
#include "core/progress.h"
#include "core/sha256.h"
#include "evaluation/eval_command.h"
#include "evaluation/evaluator.h"
#include "evaluation/prompts.h"
#include "evaluation/sandbox.h"
#include "experiments/real_run.h"
#include "experiments/record.h"

#include <cstdio>
#include <filesystem>
#include <iostream>

namespace fs = std::filesystem;

namespace lb {

std::string eval_model_usage() {
  return "usage: leadbench eval --model PATH --suite mmlu|gsm8k|humaneval|tydiqa --data PATH --out DIR\n"
         "                      [--adapter DIR] [--chat-template tulu|llama3|chatml|qwen3|auto] [--seed N]\n"
         "                      [--unsafe-no-sandbox] [key=value ...] [--device D] [--threads N]\n"
         "  Evaluates a checkpoint (a Hugging Face folder with config.json, safetensors and tokenizer.json)\n"
         "  on one real suite with the same prompts and metric code as `run`, and writes\n"
         "  DIR/<suite>.predictions.jsonl (what the model answered; `eval --predictions` re-scores it) and\n"
         "  DIR/<suite>.scores.json, with DIR/<suite>.lm_eval.json (lm-evaluation-harness's layout) and\n"
         "  DIR/<suite>.samples.jsonl (one line per item). key=value: evaluation settings as for\n"
         "  `eval --predictions`, e.g. limit=200 (a seeded subsample stratified by MMLU subject and TyDiQA\n"
         "  language; says so), max_new_tokens=256, code_samples=20 pass_ks=1,10.\n"
         "  --config FILE    evaluation settings from FILE's \"eval\" section (experiments/configs/paper_eval.json)\n"
         "  --chat-template  how chat prompts are rendered (default tulu, as LEAD's authors trained)\n"
         "  --adapter        a PEFT LoRA adapter folder (adapter_config.json, adapter_model.safetensors) to apply\n";
}

int cmd_eval_model(const ParsedArgs& p) {
  const std::string model_path = p.value("--model"), suite_name = p.value("--suite"), data = p.value("--data"),
                    out_dir = p.value("--out"), template_name = p.value("--chat-template", "tulu");
  try {
    if (p.has("--predictions")) throw UsageError("give either --model (evaluate a checkpoint) or --predictions (score a file), not both");
    if (p.has("--json")) throw UsageError("with --model the scores go to --out DIR/<suite>.scores.json; --json is for --predictions");
    for (const char* flag : {"--lm-eval-json", "--samples", "--predictions-format"})
      if (p.has(flag))
        throw UsageError(std::string(flag) + " is for --predictions; with --model, DIR/<suite>.lm_eval.json and "
                         "DIR/<suite>.samples.jsonl are always written");
    if (model_path.empty() || suite_name.empty() || data.empty() || out_dir.empty())
      throw UsageError("--model, --suite, --data and --out are required");
    if (suite_name != "mmlu" && suite_name != "gsm8k" && suite_name != "humaneval" && suite_name != "tydiqa")
      throw UsageError("unknown suite '" + suite_name + "'; choose one of mmlu, gsm8k, humaneval, tydiqa");
  } catch (const UsageError& e) {
    std::cerr << "leadbench eval: " << e.what() << "\n" << eval_model_usage();
    return 2;
  }
  try {
    uint64_t seed = 0;
    if (p.has("--seed")) {
      const std::string s = p.value("--seed");
      size_t used = 0;
      try {
        seed = std::stoull(s, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != s.size() || s.empty() || s[0] == '-') throw ConfigError("--seed needs a whole number >= 0, not '" + s + "'");
    }
    EvalConfig cfg;
    ConfigSources sources;
    const std::string config_file = p.value("--config");
    if (!config_file.empty()) apply_eval_config_file(cfg, config_file, &sources);  // as `eval --predictions --config`
    config_apply_overrides(cfg, p.overrides, &sources);
    const std::string where = config_file.empty() ? std::string("the command line") : config_file;
    config_check(cfg, where, &sources);
    validate_eval_config(cfg, "", where, &sources);
    // The cheap checks first: tokenizer, suite, sandbox; then the weights.
    torch::Device device = resolve_device(p.common.device);
    HfChatTokenizer tok = load_run_tokenizer(model_path, template_name);
    std::shared_ptr<Sandbox> sandbox;
    std::vector<Suite> suites = load_run_suites({suite_name}, data, cfg, &sandbox, p.has("--unsafe-no-sandbox"));
    const int64_t items_in_suite = static_cast<int64_t>(suites[0].items.size());
    // A partial run (eval.limit): the seeded, stratified subsample `eval --predictions` uses too.
    LimitedSuite limited;
    try {
      limited = limit_suite(suites[0], cfg.limit, cfg.limit_seed);
    } catch (const std::invalid_argument& e) {
      throw ConfigError("config key 'limit' in " + (sources.count("limit") ? sources["limit"] : std::string("the command line")) +
                        ": " + e.what());
    }
    if (!limited.warning.empty()) std::cerr << "WARNING: " << limited.warning << "\n";
    suites[0] = std::move(limited.suite);
    cfg.limit = 0;  // applied above; evaluate_suite must not thin the subsample again
    const double t0 = now_seconds();
    RunCheckpoint ckpt = load_run_checkpoint(model_path, device);
    check_tokenizer_fits(tok, ckpt.model->config(), model_path);
    nlohmann::json adapter_info;
    if (p.has("--adapter")) {
      const std::string adapter = p.value("--adapter");
      const PeftLoadResult loaded = load_peft_adapter(ckpt.model, adapter);
      ckpt.model->eval();
      adapter_info = {{"path", adapter},
                      {"r", loaded.config.lora.rank},
                      {"alpha", loaded.config.lora.alpha},
                      {"tensors", loaded.tensors},
                      {"parameters", loaded.parameters},
                      {"sha256", sha256_file((fs::path(adapter) / "adapter_model.safetensors").string())}};
      log_line("eval: adapter " + adapter + " applied (r " + std::to_string(loaded.config.lora.rank) + ", " +
               std::to_string(loaded.parameters) + " parameters)");
    }
    log_line("eval: " + model_path + " (" + ckpt.info.value("architecture", std::string("?")) + ", " +
             std::to_string(ckpt.info.value("parameters", int64_t(0))) + " parameters) loaded in " +
             std::to_string(now_seconds() - t0).substr(0, 5) + " s; " +
             memory_estimate_text(ckpt.model->config(), LoraConfig{}, cfg.generation_batch_size,
                                  ckpt.model->config().max_seq_len, ckpt.compute_dtype, false));
    Ledger ledger(device);
    std::vector<Prediction> preds;
    const double te = now_seconds();
    SuiteResult res = evaluate_suite(ckpt.model, tok, suites[0], cfg, ledger, device, seed, &preds);
    const double eval_seconds = now_seconds() - te;
    if (sandbox && sandbox->unsafe()) res.warnings.push_back("UNSAFE: code ran without the bubblewrap sandbox");
    std::cout << format_results_table({res});

    std::error_code ec;
    fs::create_directories(out_dir, ec);
    if (ec) throw InputError(out_dir + ": cannot create the output folder (" + ec.message() + ")");
    std::string lines;
    for (const auto& pr : preds) {
      nlohmann::json line = {{"id", pr.id}};
      if (pr.outputs.size() == 1) line["output"] = pr.outputs[0];
      else line["outputs"] = pr.outputs;
      if (pr.choice >= 0) line["choice"] = pr.choice;
      lines += line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
    }
    const std::string pred_path = (fs::path(out_dir) / (suite_name + ".predictions.jsonl")).string();
    const std::string score_path = (fs::path(out_dir) / (suite_name + ".scores.json")).string();
    write_file_atomic(pred_path, lines);
    // The same results for other tools: lm-evaluation-harness's layout and one line per item.
    const std::string lm_path = (fs::path(out_dir) / (suite_name + ".lm_eval.json")).string();
    const std::string samples_path = (fs::path(out_dir) / (suite_name + ".samples.jsonl")).string();
    EvalConfig shown = cfg;
    shown.limit = limited.record.is_object() ? limited.record.value("limit", int64_t(0)) : 0;
    write_json_atomic(lm_path, lm_eval_results({res}, {suites[0]}, {items_in_suite}, shown));
    write_samples_jsonl(samples_path, suites[0], preds, res);
    const auto& st = ledger.stats(Phase::evaluation);
    nlohmann::json j = res.to_json();
    j["format"] = "leadbench-model-eval/1";
    j["checkpoint"] = ckpt.info;
    if (!adapter_info.is_null()) j["adapter"] = adapter_info;
    j["tokenizer"] = tok.to_json();
    j["data"] = data;
    j["predictions_file"] = pred_path;
    j["config"] = config_to_json(cfg);
    j["seed"] = seed;
    j["command"] = command_line();
    j["git_sha"] = build_git_sha();
    j["device"] = device_description(device);
    j["date"] = utc_now_iso8601();
    j["seconds"] = eval_seconds;
    j["forward_tokens"] = st.forward_tokens;
    j["padding_efficiency"] = st.padding_efficiency();
    j["tokens_per_second"] = eval_seconds > 0 ? static_cast<double>(st.forward_tokens) / eval_seconds : 0.0;
    if (limited.record.is_object() && !limited.warning.empty()) j["limit"] = limited.record;
    j["lm_eval_file"] = lm_path;
    j["samples_file"] = samples_path;
    write_json_atomic(score_path, j);
    log_line("eval: wrote " + pred_path + ", " + score_path + ", " + lm_path + " and " + samples_path);
    return 0;
  } catch (const ConfigError& e) {
    std::cerr << "leadbench eval: " << e.what() << "\n";
    return 2;
  } catch (const InputError& e) {
    std::cerr << "leadbench eval: " << e.what() << "\n";
    return 1;
  } catch (const SandboxUnavailable& e) {
    std::cerr << "leadbench eval: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace lb
