// `leadbench eval --suite S --data PATH --predictions FILE.jsonl [--json FILE] [--skip-bad]
// [--unsafe-no-sandbox] [key=value ...]`: load the suite, read predictions, score, print, write JSON.
#include "evaluation/eval_command.h"

#include "core/config.h"
#include "core/json_io.h"
#include "core/progress.h"

#include <algorithm>
#include <iostream>

namespace lb {

std::string eval_usage() {
  return "usage: leadbench eval --suite mmlu|gsm8k|humaneval|tydiqa --data PATH --predictions FILE.jsonl\n"
         "                      [--json OUT.json] [--skip-bad] [--unsafe-no-sandbox] [key=value ...]\n"
         "                      [--threads N] [--progress|--quiet]\n"
         "  --data         the suite's file or folder, or a folder holding it under the suite's name\n"
         "                 (e.g. ../shared/data)\n"
         "  --predictions  JSONL, one object per line: {\"id\": ID, \"output\": TEXT} or\n"
         "                 {\"id\": ID, \"outputs\": [TEXT, ...]} (several samples, for pass@k). IDs:\n"
         "                 mmlu \"<subject>/<row>\" (0-based row of the test CSV; the output's first letter\n"
         "                 A-D counts), gsm8k the 0-based line number, humaneval the task_id (output: the\n"
         "                 completion after the prompt), tydiqa the question id (output: the answer)\n"
         "  --json         also write the result as JSON (atomically)\n"
         "  --skip-bad     skip malformed data records and prediction lines, and report how many\n"
         "  --unsafe-no-sandbox  run HumanEval programs without bubblewrap (throwaway machines only)\n"
         "  key=value      evaluation settings, e.g. sandbox.timeout_s=5 sandbox.workers=4 pass_ks=1,10\n"
         "  --threads N, --progress|--quiet as for every command (HumanEval programs run sandbox.workers at\n"
         "                 once); --device is accepted and unused: scoring runs no model\n";
}

std::vector<Prediction> read_predictions(const std::string& path, bool skip_bad, int64_t* skipped) {
  if (!file_exists(path)) throw InputError(path + ": predictions file not found");
  std::vector<Prediction> out;
  int64_t local_skipped = 0;
  for_each_jsonl(
      path,
      [&](const nlohmann::json& j, int64_t line) {
        const std::string where = path + ":" + std::to_string(line);
        if (!j.is_object()) throw InputError(where + ": expected an object {\"id\": ..., \"output\": ...}");
        Prediction p;
        const auto& id = require_field(j, "id", where);
        if (id.is_string()) p.id = id.get<std::string>();
        else if (id.is_number_integer()) p.id = std::to_string(id.get<int64_t>());
        else throw InputError(where + ": field 'id' must be a string or an integer");
        const bool has_one = j.contains("output"), has_many = j.contains("outputs");
        if (has_one == has_many)
          throw InputError(where + ": give exactly one of 'output' (a string) or 'outputs' (a list of strings)");
        if (has_one) {
          if (!j["output"].is_string()) throw InputError(where + ": field 'output' must be a string");
          p.outputs.push_back(j["output"].get<std::string>());
        } else {
          if (!j["outputs"].is_array() || j["outputs"].empty())
            throw InputError(where + ": field 'outputs' must be a non-empty list of strings");
          for (const auto& o : j["outputs"]) {
            if (!o.is_string()) throw InputError(where + ": field 'outputs' must hold strings only");
            p.outputs.push_back(o.get<std::string>());
          }
        }
        out.push_back(std::move(p));
      },
      skip_bad, &local_skipped);
  if (skipped) *skipped += local_skipped;
  return out;
}

int cmd_eval(const std::vector<std::string>& args) {
  std::string suite_name, data, predictions_path, json_out;
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
      else if (a == "--json") json_out = value("--json");
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
  } catch (const ConfigError& e) {
    std::cerr << "leadbench eval: " << e.what() << "\n" << eval_usage();
    return 2;
  }
  try {
    EvalConfig cfg;
    config_apply_overrides(cfg, overrides);
    validate_eval_config(cfg);  // before the sandbox is probed or any file is read
    std::shared_ptr<Sandbox> sandbox;
    if (suite_name == "humaneval") sandbox = std::make_shared<Sandbox>(cfg.sandbox, unsafe);  // probed below
    int64_t skipped_data = 0, skipped_preds = 0;
    LoadOptions opt;
    opt.skip_bad = skip_bad;
    opt.skipped = &skipped_data;
    Suite suite = load_real_suite(suite_name, data, cfg, sandbox, opt);
    if (suite_name == "humaneval" && !cfg.pass_ks.empty()) suite.pass_ks = cfg.pass_ks;
    auto preds = read_predictions(predictions_path, skip_bad, &skipped_preds);
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
             std::to_string(preds.size()) + " predictions");
    SuiteResult res = score_predictions(suite, preds);
    if (skipped_data)
      res.warnings.push_back("--skip-bad: skipped " + std::to_string(skipped_data) + " malformed data records");
    if (skipped_preds)
      res.warnings.push_back("--skip-bad: skipped " + std::to_string(skipped_preds) + " malformed prediction lines");
    res.details["skipped_data_records"] = skipped_data;
    res.details["skipped_prediction_lines"] = skipped_preds;
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
