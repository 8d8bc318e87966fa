// ExperimentConfig: everything one run depends on, one section per concern (world, model, LoRA,
// proxy model, pre-training, training, inference, evaluation, LEAD, baselines, selection, runtime),
// each field with its default and the reason. Config files may `extends` another file and may carry
// a `sweep` section (list-valued keys and named variants) that `run` ignores and `sweep` expands.
//
// Validation: each field declares its rule beside its default and reason (core/config.h), and
// cross-field rules live in validate() hooks (ModelConfig, PretrainConfig, ExperimentConfig);
// validate_experiment_config runs all of them on the resolved config before any work, and `sweep`
// (also with --dry-run) runs it on every run of the plan.
//
// The struct defaults are not "the default world" of experiments; they are the smallest config
// that runs, kept stable because config hashes and committed records depend on them. `run`
// without a config file builds exactly these defaults (a plain 3-epoch world that, as README says,
// does not discriminate between selectors); the worlds experiments use are the files in
// experiments/configs/ (demo.json, quick.json, paper_main.json, ...), which override the defaults.
// Changing a default changes the hash of every config that does not set that key, so defaults
// stay as they are and new behaviour comes in through config files.
#pragma once

#include "baselines/baseline_config.h"
#include "core/config.h"
#include "core/inference.h"
#include "core/model.h"
#include "core/trainer.h"
#include "evaluation/evaluator.h"
#include "evaluation/world.h"
#include "experiments/base_model.h"
#include "lead/lead_config.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace lb {

struct SelectionConfig {
  std::string selector = "lead";  // lead | base (no training) | any baseline name
  double budget_fraction = 0.025;  // unique samples to select, as a share of the pool (paper: 2.5 %)
  int64_t max_rounds = 10000;      // runner's cap on rounds for any selector
  std::string fixed_ids_from;      // selector fixed: the samples to train (a run record, a JSON list or a file of uids)
  // Rounds in whole batches (LEAD, iterative baselines): the fairness rule's optimizer steps
  // (paper/FAIRNESS.md). false: the rounds of records made before the rule.
  bool full_batch_rounds = true;

  template <class V> void visit(V& v) {
    v.field("selector", selector, "lead | base (no training: the discrimination check) | a baseline name (see `leadbench run --help`)");
    v.field("budget_fraction", budget_fraction, "share of the pool to select (unique samples); the paper's headline is 2.5 %", Range{0, 1, "(]"});
    v.field("max_rounds", max_rounds, "the runner stops any selector after this many rounds", Positive{});
    v.field("fixed_ids_from", fixed_ids_from,
            "selector fixed (the replay control) only: a run record (its selected.uids), a JSON list of uids or a file of uids, one per line");
    v.field("full_batch_rounds", full_batch_rounds,
            "selectors with rounds (lead, iterative_ifd, diverse_evol, prompt_uncertainty) size every round in whole batches of "
            "train.batch_size, so that they take the static protocol's optimizer steps for the same sample passes; false: the "
            "older rounds with a partial batch each (hashed only for those selectors, and only when true)");
  }
};

// The base model: the synthetic world's decoder, pre-trained here (ModelConfig's fields), or a
// pretrained checkpoint whose config.json gives the shape (then ModelConfig's fields are not read).
// The two fields below are left out of the config hash while checkpoint is empty.
struct RunModelConfig : ModelConfig {
  std::string checkpoint;              // "" = the synthetic world's model; else a Hugging Face folder
  std::string chat_template = "tulu";  // template the pool and chat prompts are rendered with (authors: tulu)

  template <class V> void visit(V& v) {
    ModelConfig::visit(v);
    v.field("checkpoint", checkpoint,
            "a pretrained checkpoint (Hugging Face folder: config.json, safetensors, tokenizer.json); empty = the synthetic "
            "world's model. Needs pool.path");
    v.field("chat_template", chat_template,
            "with a checkpoint: the chat template of the pool and of chat prompts; tulu as LEAD's authors trained, auto = the "
            "tokenizer's own", OneOf{"tulu", "llama3", "chatml", "qwen3", "auto"});
  }
};

// A real instruction pool (the messages format `leadbench data convert` writes). Left out of the
// config hash while path is empty.
struct PoolConfig {
  std::string path;       // "" = the synthetic world's pool
  bool skip_bad = false;  // skip (and count) invalid records instead of stopping at the first

  template <class V> void visit(V& v) {
    v.field("path", path, "messages-format JSONL pool for a run on model.checkpoint; empty = the synthetic world's pool");
    v.field("skip_bad", skip_bad, "skip invalid pool records (counted in the record) instead of stopping at the first");
  }
};

// The shared trainer's settings and the truncation of the pool's sequences.
struct RunTrainConfig : TrainConfig {
  int max_length = 0;  // tokens a sample keeps; 0 = model.max_seq_len (a checkpoint: its max_position_embeddings)

  template <class V> void visit(V& v) {
    TrainConfig::visit(v);
    v.field("max_length", max_length,
            "tokens a pool sample keeps (longer ones keep their start; the record counts them); 0 = the model's context "
            "(model.max_seq_len, or a checkpoint's max_position_embeddings)", AtLeast{0});
  }
};

// The baselines' settings and, with a checkpoint, Superfiltering's proxy checkpoint.
struct RunBaselineConfig : BaselineConfig {
  std::string proxy_checkpoint;  // with model.checkpoint: the smaller model Superfiltering scores with

  template <class V> void visit(V& v) {
    BaselineConfig::visit(v);
    v.field("proxy_checkpoint", proxy_checkpoint,
            "with model.checkpoint: Superfiltering's much smaller proxy checkpoint (same tokenizer as the model)");
  }
};

// Evaluation; with a checkpoint, which real suites the tuned model is evaluated on.
struct RunEvalConfig : EvalConfig {
  std::vector<std::string> suites;  // with model.checkpoint: real suites to evaluate; empty = none
  std::string data;                 // the folder holding them (mmlu/, gsm8k/, humaneval/, tydiqa/) or one suite's file

  template <class V> void visit(V& v) {
    EvalConfig::visit(v);
    v.field("suites", suites, "with model.checkpoint: the real suites the tuned model is evaluated on; empty = none",
            OneOf{"mmlu", "gsm8k", "humaneval", "tydiqa"});
    v.field("data", data, "with eval.suites: a folder holding mmlu/, gsm8k/, humaneval/, tydiqa/ (e.g. ../shared/data)");
  }
};

struct RuntimeConfig {
  std::string device = "auto";          // auto | cpu | cuda
  int threads = 0;                      // LibTorch intra-op threads; 0 = all cores
  std::string cache_dir = ".leadbench-cache";  // pre-trained base/proxy models, by config hash
  std::string out_dir = "results/runs";        // where run records go
  std::string progress = "auto";        // auto (on a terminal) | on | off
  bool save_predictions = false;        // also write <record>.predictions.jsonl (what the model answered)
  bool reuse_offline = true;            // reuse LEAD's offline stage across runs from cache_dir/results (core/result_cache.h)
  double dist_timeout = 300;            // seconds a collective waits for the other data-parallel ranks

  template <class V> void visit(V& v) {
    v.field("device", device, "auto (CUDA when present) | cpu | cuda; --device overrides");
    v.field("threads", threads, "LibTorch threads; 0 = all cores (Debian's LibTorch would start with 1); --threads overrides", AtLeast{0});
    v.field("cache_dir", cache_dir, "cache of pre-trained base and proxy models, keyed by config hash");
    v.field("out_dir", out_dir, "folder run records are written into (sweep: the results folder)");
    v.field("progress", progress, "auto | on | off: per-step progress lines on stderr; --progress/--quiet override", OneOf{"auto", "on", "off"});
    v.field("save_predictions", save_predictions,
            "write the model's answer to every suite item beside the record (<record>.predictions.jsonl), to inspect or re-score");
    v.field("reuse_offline", reuse_offline,
            "reuse LEAD's offline stage (warm-up model, IFD, base-model losses) from cache_dir/results when a run with the same content key computed it (LEAD's ablations of one seed): bit-identical results, the measured cost charged and the reuse listed in the record's `reused`");
    v.field("dist_timeout", dist_timeout,
            "data-parallel runs (RANK/WORLD_SIZE set, or run --nproc N): seconds a collective or the rendezvous waits for the other ranks before the run stops with an error naming it", Positive{});
  }
};

struct ExperimentConfig {
  std::string name;   // row label in tables; "" = the selector's name
  uint64_t seed = 0;  // run seed: init, data order, selection and few-shot seeds derive from it
  WorldConfig world;
  RunModelConfig model;
  PoolConfig pool;
  LoraConfig lora;
  ModelConfig proxy_model = [] {
    ModelConfig m;
    m.d_model = 64;
    m.n_layers = 2;
    m.n_heads = 2;
    m.n_kv_heads = 2;
    m.d_ff = 176;
    return m;
  }();
  PretrainConfig pretrain;
  RunTrainConfig train;
  InferenceConfig inference;
  RunEvalConfig eval;
  LeadConfig lead;
  RunBaselineConfig baselines;
  SelectionConfig selection;
  RuntimeConfig runtime;

  template <class V> void visit(V& v) {
    v.field("name", name, "row label in tables (ablation variants); empty = the selector's name");
    v.field("seed", seed, "run seed; the init/data-order/selection/few-shot seeds derive from it (SeedConfig::from_run_seed)");
    v.section("world", world, "the seeded synthetic world: base corpus, instruction pool, four suites");
    v.section("model", model, "the base model being tuned (pre-trained on the world's base corpus once, cached), or a checkpoint");
    v.section("pool", pool, "a real instruction pool for a run on model.checkpoint (else the world's pool)");
    v.section("lora", lora, "adapters of the tuned copy; rank 0 trains all weights");
    v.section("proxy_model", proxy_model, "the much smaller model Superfiltering scores with (pre-trained like the base model)");
    v.section("pretrain", pretrain, "pre-training of the base and proxy models on the base corpus");
    v.section("train", train, "the shared trainer of instruction tuning");
    v.section("inference", inference, "the batched no-grad scoring engine shared by every selector");
    v.section("eval", eval, "evaluation of the tuned model on every suite of the world");
    v.section("lead", lead, "LEAD's constants and ablation switches");
    v.section("baselines", baselines, "settings of the baseline selectors");
    v.section("selection", selection, "which selector, what budget");
    v.section("runtime", runtime, "device, threads, folders, progress: does not change results, not hashed");
  }

  std::string label() const { return name.empty() ? selection.selector : name; }
  bool uses_checkpoint() const { return !model.checkpoint.empty(); }
  // Cross-section rules: a known selector and device, a non-empty pool, the world's own checks,
  // the model's context holding the world's samples.
  void validate(const ConfigCheck& c) const;
};

// The resolved config as JSON and its hash; `runtime` is left out of the hash (it does not change
// what is measured), and so are knobs at their neutral value (drop_neutral_*_fields).
nlohmann::json experiment_config_json(const ExperimentConfig& cfg);
std::string experiment_config_hash(const ExperimentConfig& cfg);
// A config as JSON (resolved, or as a record stored it) reduced to what its hash covers.
nlohmann::json experiment_hash_view(nlohmann::json config);

// A config file, its `extends` chain applied first (paths relative to the file), without its
// `sweep` section. Errors name the key and the file.
nlohmann::json load_config_file_chain(const std::string& path, std::vector<std::string>* files_read = nullptr);
// The `sweep` section of a file (or its `extends` chain); null when none.
nlohmann::json load_sweep_section(const std::string& path);

// Defaults <- file chain <- overrides ("a.b=value"). path "" = defaults only. `sources`, when
// given, records which file or override set each key (for validate_experiment_config's errors).
ExperimentConfig load_experiment_config(const std::string& path, const std::vector<std::string>& overrides,
                                        ConfigSources* sources = nullptr);

// Checks every declared rule and cross-field constraint of a resolved config (budget in (0, 1],
// known selector, KV heads dividing the heads, ...); throws ConfigError naming the dotted key, the
// file or override that set it (from `sources`, else `source`), the value and what is allowed.
void validate_experiment_config(const ExperimentConfig& cfg, const std::string& source,
                                const ConfigSources* sources = nullptr);

// Every selector name `selection.selector` accepts: lead, base and the baselines.
std::vector<std::string> known_selectors();

}  // namespace lb
