// `leadbench eval --suite S --data PATH --predictions FILE.jsonl [--json FILE] [--skip-bad]
// [--unsafe-no-sandbox] [key=value ...]`: load the suite, read predictions, score, print, write JSON.
#include "evaluation/eval_command.h"
#include "evaluation/predictions.h"

#include "core/config.h"
#include "core/json_io.h"
#include "core/progress.h"

#include "core/device.h"
#include "evaluation/metrics.h"

#include <algorithm>
#include <ctime>
#include <iostream>
#include <map>
#include <set>

namespace lb {


std::string eval_usage() {
  return "usage: leadbench eval --suite mmlu|gsm8k|humaneval|tydiqa --data PATH --predictions FILE.jsonl\n"
         "                      [--config FILE.json] [--predictions-format auto|leadbench|open-instruct]\n"
         "                      [--json OUT.json] [--lm-eval-json OUT.json] [--samples OUT.jsonl]\n"
         "                      [--skip-bad] [--unsafe-no-sandbox] [key=value ...] [--threads N] [--progress|--quiet]\n"
         "  --data         the suite's file or folder, or a folder holding it under the suite's name\n"
         "                 (e.g. ../shared/data)\n"
         "  --predictions  JSONL, one object per line: {\"id\": ID, \"output\": TEXT} or\n"
         "                 {\"id\": ID, \"outputs\": [TEXT, ...]} (several samples, for pass@k). IDs:\n"
         "                 mmlu \"<subject>/<row>\" (0-based row of the test CSV; the output's first letter\n"
         "                 A-D counts), gsm8k the 0-based line number, humaneval the task_id (output: the\n"
         "                 completion after the prompt), tydiqa the question id (output: the answer).\n"
         "                 open-instruct's files are read too: gsm8k predictions.jsonl (no ids: line k is\n"
         "                 problem k, checked by its question text), humaneval codex_eval_predictions.jsonl\n"
         "                 (one line per sample), tydiqa tydiaqa_predictions.jsonl\n"
         "  --predictions-format  auto (default: from the first line's fields), leadbench or open-instruct\n"
         "  --config       a JSON file whose \"eval\" section sets the evaluation settings (e.g.\n"
         "                 experiments/configs/paper_eval.json); key=value arguments override it\n"
         "  --json         also write the result as JSON (atomically)\n"
         "  --lm-eval-json also write an lm-evaluation-harness-style results file (fractions, not percent)\n"
         "  --samples      also write one JSON line per scored item (outputs, target, metric value)\n"
         "  --skip-bad     skip malformed data records and prediction lines, and report how many\n"
         "  --unsafe-no-sandbox  run HumanEval programs without bubblewrap (throwaway machines only)\n"
         "  key=value      evaluation settings, e.g. limit=200 limit_seed=1 sandbox.timeout_s=5 pass_ks=1,10;\n"
         "                 limit > 0 scores a seeded subsample stratified by MMLU subject / TyDiQA language\n"
         "                 (a PARTIAL RUN, recorded and warned about)\n"
         "  --threads N, --progress|--quiet as for every command (HumanEval programs run sandbox.workers at\n"
         "                 once); --device is accepted and unused: scoring runs no model\n";
}

namespace {
// Metric name and filter of a suite in lm-eval's "<metric>,<filter>" keys.
std::pair<std::string, std::string> lm_eval_metric(const SuiteResult& r) {
  if (r.metric == "accuracy") return {"acc", "none"};
  if (r.metric == "exact_match") return {"exact_match", "last_number"};
  return {r.metric, "none"};
}

const char* output_type(SuiteKind k) { return k == SuiteKind::multiple_choice ? "multiple_choice" : "generate_until"; }
}  // namespace

void apply_eval_config_file(EvalConfig& cfg, const std::string& config_file, ConfigSources* sources) {
  // The file's "eval" section (a run config or paper_eval.json); "description" is free text.
  const nlohmann::json j = parse_config_json(read_text_file(config_file), config_file);
  if (!j.is_object()) throw ConfigError(config_file + ": a config must be a JSON object");
  for (auto it = j.begin(); it != j.end(); ++it)
    if (it.key() != "eval" && it.key() != "description")
      throw ConfigError(config_file + ": key '" + it.key() +
                        "': eval --config reads only the \"eval\" section (and \"description\"); give evaluation "
                        "settings there or as key=value");
  if (j.contains("eval")) config_apply_json(cfg, j["eval"], config_file, sources);
}

nlohmann::json lm_eval_results(const std::vector<SuiteResult>& results, const std::vector<Suite>& suites,
                               const std::vector<int64_t>& items_in_suite, const EvalConfig& cfg) {
  nlohmann::json out = {{"results", nlohmann::json::object()},   {"configs", nlohmann::json::object()},
                        {"versions", nlohmann::json::object()},  {"n-shot", nlohmann::json::object()},
                        {"higher_is_better", nlohmann::json::object()}, {"n-samples", nlohmann::json::object()},
                        {"group_subtasks", nlohmann::json::object()}};
  for (size_t i = 0; i < results.size(); ++i) {
    const SuiteResult& r = results[i];
    const Suite& s = suites[i];
    const auto names = lm_eval_metric(r);
    const std::string metric = names.first, filter = names.second;
    auto put = [&](const std::string& task, const std::string& m, const nlohmann::json& score) {
      auto& t = out["results"][task];
      t["alias"] = task;
      t[m + "," + filter] = score["value"].get<double>() / 100.0;
      t[m + "_stderr," + filter] = score["stderr"].get<double>() / 100.0;
    };
    put(r.suite, metric, score_to_json(r.headline));
    if (r.details.contains("exact_match") && r.suite == "tydiqa") put(r.suite, "exact_match", r.details["exact_match"]);
    if (r.details.contains("pass_at_k"))
      for (const auto& [k, v] : r.details["pass_at_k"].items()) put(r.suite, k, v);
    nlohmann::json subtasks = nlohmann::json::array();
    if (r.details.contains("groups"))
      for (const auto& [g, v] : r.details["groups"].items()) {
        const std::string task = r.suite + "_" + g;
        put(task, metric, v);
        if (r.details.contains("groups_exact_match") && r.details["groups_exact_match"].contains(g))
          put(task, "exact_match", r.details["groups_exact_match"][g]);
        subtasks.push_back(task);
      }
    if (!subtasks.empty()) out["group_subtasks"][r.suite] = subtasks;
    int shots = 0;
    if (s.name == "mmlu") shots = cfg.prompts.mmlu_shots;
    else if (s.name == "gsm8k") shots = cfg.prompts.gsm8k_shots;
    else if (s.name == "tydiqa") shots = cfg.prompts.tydiqa_shots;
    nlohmann::json gen = {{"max_gen_toks", s.generation.max_new_tokens},
                          {"temperature", s.generation.temperature},
                          {"top_p", s.generation.top_p},
                          {"until", s.generation.stop}};
    nlohmann::json conf = {{"task", s.name},
                           {"output_type", output_type(s.kind)},
                           {"num_fewshot", shots},
                           {"apply_chat_template", s.chat_template},
                           {"metric_list", nlohmann::json::array({{{"metric", metric}, {"aggregation", "mean"}, {"higher_is_better", true}}})},
                           {"metadata", {{"version", s.version}, {"leadbench_kind", suite_kind_name(s.kind)}}}};
    if (s.kind != SuiteKind::multiple_choice) conf["generation_kwargs"] = gen;
    if (s.kind == SuiteKind::code) conf["repeats"] = s.samples_per_item;
    out["configs"][r.suite] = conf;
    out["versions"][r.suite] = s.version;
    out["n-shot"][r.suite] = shots;
    out["higher_is_better"][r.suite] = {{metric, true}};
    out["n-samples"][r.suite] = {{"original", i < items_in_suite.size() ? items_in_suite[i] : static_cast<int64_t>(s.items.size())},
                                 {"effective", static_cast<int64_t>(s.items.size())}};
  }
  out["config"] = {{"limit", cfg.limit > 0 ? nlohmann::json(cfg.limit) : nlohmann::json(nullptr)},
                   {"limit_seed", cfg.limit_seed},
                   {"eval", config_to_json(cfg)}};
  out["git_hash"] = build_git_sha();
  out["date"] = static_cast<double>(std::time(nullptr));
  out["harness"] = "leadbench";
  return out;
}

void write_samples_jsonl(const std::string& path, const Suite& suite, const std::vector<Prediction>& predictions,
                         const SuiteResult& result) {
  std::map<std::string, const Prediction*> by_id;
  for (const auto& p : predictions) by_id.emplace(p.id, &p);
  std::string text;
  for (size_t i = 0; i < suite.items.size(); ++i) {
    const SuiteItem& it = suite.items[i];
    nlohmann::json line = {{"doc_id", i}, {"id", it.id}, {"group", it.group}};
    auto p = by_id.find(it.id);
    line["resps"] = p == by_id.end() ? nlohmann::json::array() : nlohmann::json(p->second->outputs);
    if (suite.kind == SuiteKind::multiple_choice) line["target"] = it.answer >= 0 ? std::string(1, char('A' + it.answer)) : "";
    else if (suite.kind == SuiteKind::code) line["target"] = it.entry_point;
    else line["target"] = it.references;
    line["metric"] = result.metric;
    if (i < result.per_item.size())
      for (const auto& [k, v] : result.per_item[i].items())
        if (k != "id" && k != "target") line[k] = v;
    text += line.dump() + "\n";
  }
  write_file_atomic(path, text);
}

int cmd_eval(const std::vector<std::string>& args) {
  std::string suite_name, data, predictions_path, json_out, lm_eval_out, samples_out, config_file;
  std::string predictions_format = "auto";
  bool skip_bad = false, unsafe = false;
  std::vector<std::string> overrides;
  try {
    for (size_t i = 0; i < args.size(); ++i) {
      const std::string& a = args[i];
      auto value = [&](const char* flag) -> std::string {
        if (i + 1 >= args.size()) throw ConfigError(std::string(flag) + " needs a value");
        return args[++i];
      };
      if (a == "--suite") suite_name = value("--suite");
      else if (a == "--data") data = value("--data");
      else if (a == "--predictions") predictions_path = value("--predictions");
      else if (a == "--predictions-format") predictions_format = value("--predictions-format");
      else if (a == "--config") config_file = value("--config");
      else if (a == "--json") json_out = value("--json");
      else if (a == "--lm-eval-json") lm_eval_out = value("--lm-eval-json");
      else if (a == "--samples") samples_out = value("--samples");
      else if (a == "--skip-bad") skip_bad = true;
      else if (a == "--unsafe-no-sandbox") unsafe = true;
      else if (a == "-h" || a == "--help") {
        std::cout << eval_usage();
        return 0;
      } else if (a.find('=') != std::string::npos && a.rfind("--", 0) != 0) overrides.push_back(a);
      else throw ConfigError("unknown argument '" + a + "'");
    }
    if (suite_name.empty() || data.empty() || predictions_path.empty())
      throw ConfigError("--suite, --data and --predictions are required");
    if (predictions_format != "auto" && predictions_format != "leadbench" && predictions_format != "open-instruct")
      throw ConfigError("--predictions-format must be auto, leadbench or open-instruct, got '" + predictions_format + "'");
  } catch (const ConfigError& e) {
    std::cerr << "leadbench eval: " << e.what() << "\n" << eval_usage();
    return 2;
  }
  try {
    EvalConfig cfg;
    ConfigSources sources;
    if (!config_file.empty()) apply_eval_config_file(cfg, config_file, &sources);
    config_apply_overrides(cfg, overrides, config_file.empty() ? nullptr : &sources);
    // Before the sandbox is probed or any file is read; with a config file, errors name where a value came from.
    if (config_file.empty()) validate_eval_config(cfg);
    else validate_eval_config(cfg, "", config_file, &sources);
    std::shared_ptr<Sandbox> sandbox;
    if (suite_name == "humaneval") sandbox = std::make_shared<Sandbox>(cfg.sandbox, unsafe);  // probed below
    int64_t skipped_data = 0, skipped_preds = 0;
    LoadOptions opt;
    opt.skip_bad = skip_bad;
    opt.skipped = &skipped_data;
    Suite full = load_real_suite(suite_name, data, cfg, sandbox, opt);
    if (suite_name == "humaneval" && !cfg.pass_ks.empty()) full.pass_ks = cfg.pass_ks;
    const std::string format = predictions_format == "auto" ? detect_predictions_format(predictions_path) : predictions_format;
    auto preds = format == "open-instruct" ? read_open_instruct_predictions(predictions_path, full, skip_bad, &skipped_preds)
                                           : read_predictions(predictions_path, skip_bad, &skipped_preds);
    // A partial run: a seeded, stratified subsample, and only its predictions.
    LimitedSuite limited;
    try {
      limited = limit_suite(full, cfg.limit, cfg.limit_seed);
    } catch (const std::invalid_argument& e) {
      throw ConfigError("config key 'limit' in " + (sources.count("limit") ? sources["limit"] : std::string("the command line")) +
                        ": " + e.what());
    }
    const Suite& suite = limited.suite;
    int64_t outside_limit = 0;
    if (limited.suite.items.size() < full.items.size()) {
      std::set<std::string> kept;
      for (const auto& it : suite.items) kept.insert(it.id);
      std::vector<Prediction> in;
      for (auto& p : preds) {
        if (kept.count(p.id)) in.push_back(std::move(p));
        else ++outside_limit;
      }
      preds = std::move(in);
      std::cerr << "WARNING: " << limited.warning << "\n";
    }
    if (suite_name == "humaneval" && !cfg.pass_ks.empty()) {
      // pass@k asked for explicitly: every problem's prediction must hold at least k samples.
      const int k_max = *std::max_element(cfg.pass_ks.begin(), cfg.pass_ks.end());
      for (const auto& p : preds)
        if (static_cast<int64_t>(p.outputs.size()) < k_max)
          throw ConfigError("pass_ks entry " + std::to_string(k_max) + " needs at least " + std::to_string(k_max) +
                            " samples per problem, but the prediction for " + p.id + " in " + predictions_path +
                            " has " + std::to_string(p.outputs.size()) +
                            "; give more 'outputs' per problem or lower pass_ks");
    }
    if (sandbox) sandbox->require_available();  // after every config and input check
    log_line("eval: " + suite.name + " (" + suite.version + "): " + std::to_string(suite.items.size()) + " items, " +
             std::to_string(preds.size()) + " predictions (" + format + " layout)");
    SuiteResult res = score_predictions(suite, preds);
    if (!limited.warning.empty()) res.warnings.insert(res.warnings.begin(), limited.warning);
    if (skipped_data)
      res.warnings.push_back("--skip-bad: skipped " + std::to_string(skipped_data) + " malformed data records");
    if (skipped_preds)
      res.warnings.push_back("--skip-bad: skipped " + std::to_string(skipped_preds) + " malformed prediction lines");
    res.details["skipped_data_records"] = skipped_data;
    res.details["skipped_prediction_lines"] = skipped_preds;
    res.details["predictions_format"] = format;
    res.details["items_in_suite"] = full.items.size();
    res.details["items_evaluated"] = suite.items.size();
    if (cfg.limit > 0) {
      res.details["limit"] = limited.record;
      res.details["predictions_outside_limit"] = outside_limit;
    }
    if (sandbox && sandbox->unsafe()) res.warnings.push_back("UNSAFE: code ran without the bubblewrap sandbox");
    std::cout << format_results_table({res});
    if (!json_out.empty()) {
      nlohmann::json j = res.to_json();
      j["predictions_file"] = predictions_path;
      j["data"] = data;
      j["config"] = config_to_json(cfg);
      write_json_atomic(json_out, j);
      log_line("eval: wrote " + json_out);
    }
    if (!lm_eval_out.empty()) {
      write_json_atomic(lm_eval_out, lm_eval_results({res}, {suite}, {static_cast<int64_t>(full.items.size())}, cfg));
      log_line("eval: wrote " + lm_eval_out);
    }
    if (!samples_out.empty()) {
      write_samples_jsonl(samples_out, suite, preds, res);
      log_line("eval: wrote " + samples_out);
    }
    return 0;
  } catch (const InputError& e) {
    std::cerr << "leadbench eval: " << e.what() << "\n";
    return 1;
  } catch (const ConfigError& e) {
    std::cerr << "leadbench eval: " << e.what() << "\n";
    return 2;
  } catch (const SandboxUnavailable& e) {
    std::cerr << "leadbench eval: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace lb
