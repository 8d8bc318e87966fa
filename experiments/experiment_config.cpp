// Loading, hashing and validation of ExperimentConfig; see experiment_config.h.
#include "experiments/experiment_config.h"

#include "baselines/factory.h"
#include "core/device.h"
#include "core/json_io.h"

#include <algorithm>
#include <filesystem>

namespace fs = std::filesystem;

namespace lb {

nlohmann::json experiment_config_json(const ExperimentConfig& cfg) { return config_to_json(cfg); }

namespace {
// Selection knobs added after results were committed, left out of the hash at their neutral value:
// lead.min_round_samples = 0 (no round floor), selection.fixed_ids_from = "" (no replay list),
// selection.full_batch_rounds = false (rounds with partial batches) and
// train.length_micro_batches = false (micro-batches in the batch's order).
void drop_neutral_selection_fields(nlohmann::json& config) {
  auto erase_if = [](nlohmann::json& section, const char* key, const nlohmann::json& neutral) {
    if (!section.is_object()) return;
    const auto it = section.find(key);
    if (it != section.end() && *it == neutral) section.erase(it);
  };
  if (config.contains("lead")) erase_if(config["lead"], "min_round_samples", 0);
  if (config.contains("selection")) erase_if(config["selection"], "fixed_ids_from", "");
  // selection.full_batch_rounds: no effect on selectors without rounds (static ones, fixed, base),
  // so never hashed for them; for the others hashed when true (false is the older arithmetic).
  if (config.contains("selection") && config["selection"].is_object()) {
    nlohmann::json& selection = config["selection"];
    const nlohmann::json selector = selection.value("selector", nlohmann::json());
    const bool has_rounds =
        selector.is_string() && (selector == "lead" || is_iterative_baseline(selector.get<std::string>()));
    if (has_rounds)
      erase_if(selection, "full_batch_rounds", false);
    else
      selection.erase("full_batch_rounds");
  }
  // train.length_micro_batches = false: the arithmetic every committed record was made with.
  if (config.contains("train")) erase_if(config["train"], "length_micro_batches", false);
}

// The real-run keys (checkpoint, pool, truncation, proxy checkpoint, real suites), hashed only when set.
void drop_neutral_real_run_fields(nlohmann::json& config) {
  auto erase_if = [](nlohmann::json& section, const char* key, const nlohmann::json& neutral) {
    if (!section.is_object()) return;
    const auto it = section.find(key);
    if (it != section.end() && *it == neutral) section.erase(it);
  };
  if (config.contains("model") && config["model"].is_object() && config["model"].value("checkpoint", std::string()).empty()) {
    erase_if(config["model"], "checkpoint", "");
    erase_if(config["model"], "chat_template", "tulu");
  }
  if (config.contains("pool")) {
    nlohmann::json& pool = config["pool"];
    erase_if(pool, "path", "");
    erase_if(pool, "skip_bad", false);
    if (pool.is_object() && pool.empty()) config.erase("pool");
  }
  if (config.contains("train")) erase_if(config["train"], "max_length", 0);
  if (config.contains("baselines")) erase_if(config["baselines"], "proxy_checkpoint", "");
  if (config.contains("eval")) {
    erase_if(config["eval"], "suites", nlohmann::json::array());
    erase_if(config["eval"], "data", "");
  }
}
}  // namespace

nlohmann::json experiment_hash_view(nlohmann::json config) {
  if (!config.is_object()) return config;
  config.erase("runtime");
  drop_neutral_selection_fields(config);
  drop_neutral_real_run_fields(config);
  if (config.contains("pretrain")) drop_neutral_pretrain_fields(config["pretrain"]);
  for (const char* m : {"model", "proxy_model"})
    if (config.contains(m)) drop_neutral_model_fields(config[m]);
  if (config.contains("world")) drop_neutral_world_fields(config["world"]);
  if (config.contains("eval")) drop_neutral_eval_fields(config["eval"]);
  return config;
}

std::string experiment_config_hash(const ExperimentConfig& cfg) { return config_hash(experiment_hash_view(config_to_json(cfg))); }

namespace {

nlohmann::json read_chain(const std::string& path, int depth, std::vector<std::string>* files_read,
                          nlohmann::json* sweep) {
  if (depth > 16) throw ConfigError(path + ": `extends` chain is deeper than 16 files (a cycle?)");
  if (!file_exists(path)) throw ConfigError(path + ": config file not found");
  nlohmann::json j = parse_config_json(read_text_file(path), path);  // duplicate keys, 1e999: errors
  if (!j.is_object()) throw ConfigError(path + ": a config file must be a JSON object");
  if (files_read) files_read->push_back(path);
  nlohmann::json base;  // the parent's chain node, null when none
  if (j.contains("extends")) {
    if (!j["extends"].is_string())
      throw ConfigError("config key 'extends' in " + path + " must be a string (a path relative to this file)");
    fs::path parent = fs::path(path).parent_path() / j["extends"].get<std::string>();
    base = read_chain(parent.string(), depth + 1, files_read, sweep);
    j.erase("extends");
  }
  if (j.contains("sweep")) {
    if (sweep) *sweep = j["sweep"];  // the nearest file's sweep wins
    j.erase("sweep");
  }
  j.erase("description");  // free text for readers
  // Each file's keys stay separate so that errors name the file they came from.
  return nlohmann::json{{"base", base}, {"self", j}, {"path", path}};
}

// Applies a chain (innermost first) to cfg.
void apply_chain(ExperimentConfig& cfg, const nlohmann::json& node, ConfigSources* sources) {
  if (node.contains("base") && node["base"].is_object() && node["base"].contains("self"))
    apply_chain(cfg, node["base"], sources);
  config_apply_json(cfg, node["self"], node["path"].get<std::string>(), sources);
}

void merge_into(nlohmann::json& dst, const nlohmann::json& src) {
  for (auto it = src.begin(); it != src.end(); ++it) {
    if (it.value().is_object() && dst.contains(it.key()) && dst[it.key()].is_object())
      merge_into(dst[it.key()], it.value());
    else
      dst[it.key()] = it.value();
  }
}

void flatten_chain(const nlohmann::json& node, nlohmann::json& out) {
  if (node.contains("base") && node["base"].is_object() && node["base"].contains("self")) flatten_chain(node["base"], out);
  merge_into(out, node["self"]);
}

}  // namespace

nlohmann::json load_config_file_chain(const std::string& path, std::vector<std::string>* files_read) {
  nlohmann::json chain = read_chain(path, 0, files_read, nullptr);
  nlohmann::json flat = nlohmann::json::object();
  flatten_chain(chain, flat);
  return flat;
}

nlohmann::json load_sweep_section(const std::string& path) {
  nlohmann::json sweep;
  read_chain(path, 0, nullptr, &sweep);
  return sweep;
}

ExperimentConfig load_experiment_config(const std::string& path, const std::vector<std::string>& overrides,
                                        ConfigSources* sources) {
  ExperimentConfig cfg;
  if (!path.empty()) {
    nlohmann::json chain = read_chain(path, 0, nullptr, nullptr);
    apply_chain(cfg, chain, sources);
  }
  config_apply_overrides(cfg, overrides, sources);
  return cfg;
}

std::vector<std::string> known_selectors() {
  std::vector<std::string> names = {"lead", "base", "fixed"};
  for (const auto& b : baseline_names()) names.push_back(b);
  return names;
}

void ExperimentConfig::validate(const ConfigCheck& c) const {
  auto names = known_selectors();
  if (std::find(names.begin(), names.end(), selection.selector) == names.end()) {
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    c.fail("selection.selector", "unknown selector '" + selection.selector + "'; known: " + list);
  }
  if (runtime.device != "auto" && runtime.device != "cpu" && runtime.device.rfind("cuda", 0) != 0)
    c.fail("runtime.device", "must be auto, cpu or cuda, got '" + runtime.device + "'");
  if (world.pool_size < 1)
    c.fail("world.pool_size", "must be >= 1: a run selects from and trains on the pool, got " + std::to_string(world.pool_size));
  try {
    check_world_config(world);
  } catch (const ConfigError& e) {
    throw ConfigError(std::string(e.what()) + " (in " + c.where("world") + ")");
  }
  if (runtime.threads > max_threads())
    c.fail("runtime.threads", "must be at most " + std::to_string(max_threads()) + " (4 x this machine's hardware threads, at least 256), got " +
                                  std::to_string(runtime.threads));
  if (selection.selector == "fixed" && selection.fixed_ids_from.empty())
    c.fail("selection.fixed_ids_from", "selector fixed needs the samples to train: a run record, a JSON list of uids or a file of uids");
  if (selection.selector != "fixed" && !selection.fixed_ids_from.empty())
    c.fail("selection.fixed_ids_from", "is only read by selector fixed, but the selector is '" + selection.selector + "'");
  // A checkpoint run: its pool, template, proxy and suites (the files are read, and checked, when the run starts).
  if (uses_checkpoint() && pool.path.empty())
    c.fail("pool.path", "model.checkpoint needs a real pool: a messages-format JSONL (`leadbench data convert` writes one)");
  if (!uses_checkpoint() && !pool.path.empty())
    c.fail("pool.path", "a real pool is tuned on a pretrained model: set model.checkpoint too (the synthetic world brings its own pool)");
  if (!uses_checkpoint() && model.chat_template != "tulu")
    c.fail("model.chat_template", "is read only with model.checkpoint (the synthetic world uses the byte tokenizer's template)");
  if (!uses_checkpoint() && !baselines.proxy_checkpoint.empty())
    c.fail("baselines.proxy_checkpoint", "is read only with model.checkpoint (the synthetic world pre-trains proxy_model)");
  if (uses_checkpoint() && selection.selector == "superfiltering" && baselines.proxy_checkpoint.empty())
    c.fail("baselines.proxy_checkpoint", "superfiltering scores with a much smaller model: set the proxy checkpoint (same tokenizer)");
  if (!uses_checkpoint() && !eval.suites.empty())
    c.fail("eval.suites", "is read only with model.checkpoint (the synthetic world evaluates its own four suites)");
  if (!eval.suites.empty() && eval.data.empty())
    c.fail("eval.data", "eval.suites needs the suites' files: a folder holding mmlu/, gsm8k/, humaneval/, tydiqa/");
  if (!uses_checkpoint() && train.max_length > model.max_seq_len)
    c.fail("train.max_length", "is " + std::to_string(train.max_length) + " but the model's context is model.max_seq_len = " +
                                   std::to_string(model.max_seq_len));
  if (!uses_checkpoint() && model.max_seq_len < world.max_seq_len)
    c.fail("model.max_seq_len", "is " + std::to_string(model.max_seq_len) + " but the world's samples need up to world.max_seq_len = " +
                                    std::to_string(world.max_seq_len) + " tokens; raise it or lower world.max_seq_len");
}

void validate_experiment_config(const ExperimentConfig& cfg, const std::string& source, const ConfigSources* sources) {
  config_check(cfg, source, sources);
  validate_eval_config(cfg.eval, "eval.", source, sources);
  // pass@k of the world's code suite: the k values against the samples actually drawn per problem.
  const int code_n = cfg.eval.code_samples > 0 ? cfg.eval.code_samples : cfg.world.code_samples;
  for (int k : cfg.eval.pass_ks.empty() ? cfg.world.code_pass_ks : cfg.eval.pass_ks)
    if (k > code_n)
      throw_config_key_error(cfg.eval.pass_ks.empty() ? "world.code_pass_ks" : "eval.pass_ks",
                             "entry " + std::to_string(k) + " needs at least " + std::to_string(k) + " samples per problem, but " +
                                 (cfg.eval.code_samples > 0 ? "eval.code_samples" : "world.code_samples") + " is " + std::to_string(code_n),
                             source, sources);
}

}  // namespace lb
