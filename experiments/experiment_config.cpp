// Loading, hashing and validation of ExperimentConfig; see experiment_config.h.
#include "experiments/experiment_config.h"

#include "baselines/factory.h"
#include "core/json_io.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

namespace fs = std::filesystem;

namespace lb {

nlohmann::json experiment_config_json(const ExperimentConfig& cfg) { return config_to_json(cfg); }

namespace {
// Selection knobs added after results were committed, left out of the hash at their neutral value:
// lead.min_round_samples = 0 (no round floor) and selection.fixed_ids_from = "" (no replay list).
void drop_neutral_selection_fields(nlohmann::json& config) {
  auto erase_if = [](nlohmann::json& section, const char* key, const nlohmann::json& neutral) {
    if (!section.is_object()) return;
    const auto it = section.find(key);
    if (it != section.end() && *it == neutral) section.erase(it);
  };
  if (config.contains("lead")) erase_if(config["lead"], "min_round_samples", 0);
  if (config.contains("selection")) erase_if(config["selection"], "fixed_ids_from", "");
}
}  // namespace

nlohmann::json experiment_hash_view(nlohmann::json config) {
  if (!config.is_object()) return config;
  config.erase("runtime");
  drop_neutral_selection_fields(config);
  if (config.contains("pretrain")) drop_neutral_pretrain_fields(config["pretrain"]);
  for (const char* m : {"model", "proxy_model"})
    if (config.contains(m)) drop_neutral_model_fields(config[m]);
  if (config.contains("world")) drop_neutral_world_fields(config["world"]);
  return config;
}

std::string experiment_config_hash(const ExperimentConfig& cfg) { return config_hash(experiment_hash_view(config_to_json(cfg))); }

namespace {

nlohmann::json read_chain(const std::string& path, int depth, std::vector<std::string>* files_read,
                          nlohmann::json* sweep) {
  if (depth > 16) throw ConfigError(path + ": `extends` chain is deeper than 16 files (a cycle?)");
  if (!file_exists(path)) throw ConfigError(path + ": config file not found");
  nlohmann::json j = read_json_file(path);
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
void apply_chain(ExperimentConfig& cfg, const nlohmann::json& node) {
  if (node.contains("base") && node["base"].is_object() && node["base"].contains("self")) apply_chain(cfg, node["base"]);
  config_apply_json(cfg, node["self"], node["path"].get<std::string>());
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

ExperimentConfig load_experiment_config(const std::string& path, const std::vector<std::string>& overrides) {
  ExperimentConfig cfg;
  if (!path.empty()) {
    nlohmann::json chain = read_chain(path, 0, nullptr, nullptr);
    apply_chain(cfg, chain);
  }
  config_apply_overrides(cfg, overrides);
  return cfg;
}

std::vector<std::string> known_selectors() {
  std::vector<std::string> names = {"lead", "base", "fixed"};
  for (const auto& b : baseline_names()) names.push_back(b);
  return names;
}

void validate_experiment_config(const ExperimentConfig& cfg, const std::string& source) {
  auto fail = [&](const std::string& key, const std::string& what) {
    throw ConfigError("config key '" + key + "' in " + source + ": " + what);
  };
  auto names = known_selectors();
  if (std::find(names.begin(), names.end(), cfg.selection.selector) == names.end()) {
    std::string list;
    for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
    fail("selection.selector", "unknown selector '" + cfg.selection.selector + "'; known: " + list);
  }
  if (!(cfg.selection.budget_fraction > 0 && cfg.selection.budget_fraction <= 1))
    fail("selection.budget_fraction", "must be in (0, 1], got " + std::to_string(cfg.selection.budget_fraction));
  if (cfg.selection.max_rounds < 1) fail("selection.max_rounds", "must be >= 1");
  if (cfg.runtime.progress != "auto" && cfg.runtime.progress != "on" && cfg.runtime.progress != "off")
    fail("runtime.progress", "must be auto, on or off, got '" + cfg.runtime.progress + "'");
  if (cfg.runtime.threads < 0) fail("runtime.threads", "must be >= 0 (0 = all cores)");
  if (cfg.runtime.device != "auto" && cfg.runtime.device != "cpu" && cfg.runtime.device.rfind("cuda", 0) != 0)
    fail("runtime.device", "must be auto, cpu or cuda, got '" + cfg.runtime.device + "'");
  if (cfg.model.d_model % std::max(1, cfg.model.n_heads) != 0)
    fail("model.d_model", "must be divisible by model.n_heads");
  if (cfg.proxy_model.d_model % std::max(1, cfg.proxy_model.n_heads) != 0)
    fail("proxy_model.d_model", "must be divisible by proxy_model.n_heads");
  if (cfg.model.max_seq_len < cfg.world.max_seq_len)
    fail("model.max_seq_len", "is " + std::to_string(cfg.model.max_seq_len) + " but the world's samples need up to world.max_seq_len = " +
                                  std::to_string(cfg.world.max_seq_len) + " tokens; raise it or lower world.max_seq_len");
  if (cfg.train.batch_size < 1) fail("train.batch_size", "must be >= 1");
  if (cfg.pretrain.epochs < 0) fail("pretrain.epochs", "must be >= 0");
  if (cfg.pretrain.copy_warmup_steps < 0) fail("pretrain.copy_warmup_steps", "must be >= 0");
  if (cfg.pretrain.copy_warmup_steps > 0 && cfg.pretrain.epochs == 0)
    fail("pretrain.copy_warmup_steps", "needs pretrain.epochs >= 1 (with 0 the random initialisation stands in and nothing is pre-trained)");
  if (!(cfg.pretrain.copy_warmup_lr > 0) || !std::isfinite(cfg.pretrain.copy_warmup_lr))
    fail("pretrain.copy_warmup_lr", "must be a positive number");
  if (!(cfg.pretrain.copy_warmup_restatements >= 0 && cfg.pretrain.copy_warmup_restatements <= 1))
    fail("pretrain.copy_warmup_restatements", "must be a share between 0 and 1");
  if (!(cfg.pretrain.copy_warmup_suffixes >= 0 && cfg.pretrain.copy_warmup_suffixes <= 1))
    fail("pretrain.copy_warmup_suffixes", "must be a share between 0 and 1");
  validate_eval_config(cfg.eval, "eval.", source);
  // pass@k of the world's code suite: the k values against the samples actually drawn per problem.
  const int code_n = cfg.eval.code_samples > 0 ? cfg.eval.code_samples : cfg.world.code_samples;
  for (int k : cfg.eval.pass_ks.empty() ? cfg.world.code_pass_ks : cfg.eval.pass_ks)
    if (k > code_n)
      fail(cfg.eval.pass_ks.empty() ? "world.code_pass_ks" : "eval.pass_ks",
           "entry " + std::to_string(k) + " needs at least " + std::to_string(k) + " samples per problem, but " +
               (cfg.eval.code_samples > 0 ? "eval.code_samples" : "world.code_samples") + " is " +
               std::to_string(code_n));
  if (cfg.selection.selector == "lead") cfg.lead.validate();
  if (cfg.selection.selector == "fixed" && cfg.selection.fixed_ids_from.empty())
    fail("selection.fixed_ids_from", "selector fixed needs the samples to train: a run record, a JSON list of uids or a file of uids");
  if (cfg.selection.selector != "fixed" && !cfg.selection.fixed_ids_from.empty())
    fail("selection.fixed_ids_from", "is only read by selector fixed, but the selector is '" + cfg.selection.selector + "'");
}

}  // namespace lb
