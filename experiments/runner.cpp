// The experiment runner and the `run` / `demo` commands; see runner.h.
#include "experiments/runner.h"

#include "baselines/factory.h"
#include "baselines/fixed_selector.h"
#include "core/device.h"
#include "core/inference.h"
#include "core/json_io.h"
#include "core/progress.h"
#include "core/result_cache.h"
#include "core/selector.h"
#include "core/sha256.h"
#include "core/tokenizer.h"
#include "evaluation/copy_probe.h"
#include "evaluation/evaluator.h"
#include "evaluation/world.h"
#include "experiments/base_model.h"
#include "experiments/cli.h"
#include "experiments/plots.h"
#include "experiments/launch.h"
#include "experiments/real_run.h"
#include "experiments/record.h"
#include "experiments/record_lock.h"
#include "experiments/sweep.h"
#include "experiments/table.h"
#include "lead/lead_selector.h"

#include <unistd.h>

#include <csignal>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <thread>

namespace fs = std::filesystem;

namespace lb {

namespace {

bool g_quiet = false;

void stage(const std::string& line) {
  if (!g_quiet) log_line(line);
}

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof(b), f, v);
  return b;
}

std::string fnv_hex(const std::vector<std::string>& docs) {
  uint64_t h = 1469598103934665603ull;
  for (const auto& d : docs) {
    for (unsigned char c : d) {
      h ^= c;
      h *= 1099511628211ull;
    }
    h ^= 0xff;
    h *= 1099511628211ull;
  }
  char b[17];
  std::snprintf(b, sizeof(b), "%016llx", static_cast<unsigned long long>(h));
  return b;
}

// The corpus and, when pre-training opens with a copy warm-up, its echo documents (batch_size per
// step, each seen once); the fingerprint covers both.
BaseCorpus corpus_of(const World& world, const WorldConfig& world_cfg, const PretrainConfig& pre) {
  BaseCorpus c{world.base_corpus, {}, std::string(kWorldVersion) + ":" + fnv_hex(world.base_corpus)};
  if (pre.copy_warmup_steps > 0) {
    const int64_t n = static_cast<int64_t>(pre.copy_warmup_steps) * std::max(1, pre.train.batch_size);
    c.warmup_documents = copy_warmup_documents(world_cfg, n, pre.copy_warmup_restatements, pre.copy_warmup_suffixes);
    c.fingerprint += ":warmup:" + fnv_hex(c.warmup_documents);
  }
  return c;
}

std::unique_ptr<Selector> make_selector(const ExperimentConfig& cfg, const std::vector<SampleId>& fixed_ids) {
  const std::string& name = cfg.selection.selector;
  if (name == "base") return nullptr;
  if (name == "lead") return std::make_unique<LeadSelector>(cfg.lead);
  if (name == "fixed") return std::make_unique<FixedSelector>(fixed_ids, cfg.selection.fixed_ids_from);
  return make_baseline(name, cfg.baselines);
}

bool selector_uses_proxy(const std::string& name) { return name == "superfiltering"; }

// Test hook for the rank-failure tests: LEADBENCH_FAULT_KILL_RANK=R kills rank R (SIGKILL, as the
// OOM killer would) after its first training round.
void kill_rank_for_test(int rank, int64_t round) {
  const char* v = std::getenv("LEADBENCH_FAULT_KILL_RANK");
  if (v && round == 0 && std::to_string(rank) == v) {
    std::cerr << "leadbench run: rank " << rank << ": killed by LEADBENCH_FAULT_KILL_RANK (a test of rank failures)\n";
    std::raise(SIGKILL);
  }
}

void apply_runtime(const ExperimentConfig& cfg) {
  set_threads(cfg.runtime.threads);
  if (cfg.runtime.progress == "on") Progress::force(true);
  if (cfg.runtime.progress == "off") Progress::force(false);
  g_quiet = cfg.runtime.progress == "off";
}

}  // namespace

std::string default_record_path(const ExperimentConfig& cfg) {
  return (fs::path(cfg.runtime.out_dir) / run_record_file_name(cfg.label(), cfg.selection.budget_fraction, cfg.seed,
                                                                 experiment_config_hash(cfg)))
      .string();
}

nlohmann::json execute_run(const ExperimentConfig& cfg, const RunOptions& options) {
  const double t_start = now_seconds();
  torch::Device device = resolve_device(cfg.runtime.device);
  reset_peak_memory(device);
  const std::string label = cfg.label();
  const SeedConfig seeds = SeedConfig::from_run_seed(cfg.seed);

  if (device.is_cpu() && blas_core() == "Prescott" && (__builtin_cpu_supports("avx512f") || __builtin_cpu_supports("avx2")))
    stage(std::string("note: OpenBLAS runs its generic Prescott (SSE3) kernels on this CPU, which it does not recognise (LEADBENCH_KEEP_BLAS is set, or the restart failed); ") +
          "OPENBLAS_CORETYPE=" + (__builtin_cpu_supports("avx512f") ? "SkylakeX" : "Haswell") +
          " makes matrix products several times faster but rounds differently (benchmarks/README.md): records made "
          "without it are reproduced only without it");
  // World, pool, tokens: the synthetic world's, or a checkpoint's tokenizer over a real pool.
  const bool real = cfg.uses_checkpoint();
  World world;
  Pool real_pool;
  std::unique_ptr<ChatTokenizer> tok_owner;
  const HfChatTokenizer* hf_tok = nullptr;
  std::vector<Suite> real_suites;
  std::shared_ptr<Sandbox> sandbox;
  nlohmann::json pool_info, memory_json;
  RunCheckpoint ckpt;
  if (!real) {
    stage("run " + label + ": generating the world (pool " + std::to_string(cfg.world.pool_size) + ", seed " +
          std::to_string(cfg.world.seed) + ")");
    world = generate_world(cfg.world);
    tok_owner = std::make_unique<ByteTokenizer>();
  } else {
    // The cheap checks first (tokenizer, pool, suites, sandbox), then the weights.
    stage("run " + label + ": checkpoint " + cfg.model.checkpoint + ", pool " + cfg.pool.path);
    auto owned = std::make_unique<HfChatTokenizer>(load_run_tokenizer(cfg.model.checkpoint, cfg.model.chat_template));
    hf_tok = owned.get();
    tok_owner = std::move(owned);
    int64_t skipped = 0;
    real_pool = Pool::load_jsonl(cfg.pool.path, cfg.pool.skip_bad, &skipped);
    pool_info = {{"path", cfg.pool.path},
                 {"sha256", sha256_file(cfg.pool.path)},
                 {"samples", real_pool.size()},
                 {"skipped_records", skipped},
                 {"datasets", real_pool.tasks}};
    if (skipped) stage("run " + label + ": WARNING pool.skip_bad skipped " + std::to_string(skipped) + " invalid records of " + cfg.pool.path);
    real_suites = load_run_suites(cfg.eval.suites, cfg.eval.data, cfg.eval, &sandbox);
    ckpt = load_run_checkpoint(cfg.model.checkpoint, device);
    check_tokenizer_fits(*hf_tok, ckpt.model->config(), cfg.model.checkpoint);
  }
  const Pool& pool = real ? real_pool : world.pool;
  const ChatTokenizer& tok = *tok_owner;
  const int model_context = real ? ckpt.model->config().max_seq_len : cfg.model.max_seq_len;
  if (cfg.train.max_length > model_context)
    throw ConfigError("config key 'train.max_length' is " + std::to_string(cfg.train.max_length) +
                      " but the model's context is " + std::to_string(model_context) + " tokens" +
                      (real ? " (max_position_embeddings of " + cfg.model.checkpoint + "/config.json)" : std::string()) +
                      "; lower it");
  const int max_len = cfg.train.max_length > 0 ? cfg.train.max_length : model_context;
  TokenCache tokens = TokenCache::build(pool, tok, max_len);
  if (tokens.truncated)
    stage("run " + label + ": " + std::to_string(tokens.truncated) + " of " + std::to_string(pool.size()) +
          " samples are longer than " + std::to_string(max_len) + " tokens and keep their first " + std::to_string(max_len) +
          (tokens.truncated_without_target ? " (" + std::to_string(tokens.truncated_without_target) + " of them lose their whole response)" : std::string()));
  // The replay control's list, checked against the pool before any training.
  std::vector<SampleId> fixed_ids;
  if (cfg.selection.selector == "fixed") fixed_ids = load_fixed_ids(cfg.selection.fixed_ids_from, pool);

  // Base model: a checkpoint, or pre-trained (cached); the proxy model when the selector needs it
  // (loaded or pre-trained before the run's clock so that it is not charged to any phase, like a
  // downloaded checkpoint).
  PretrainedModel base;
  BaseCorpus corpus;
  if (real) {
    base.model = ckpt.model;
    base.hash = "checkpoint:" + ckpt.info.value("config_sha256", ckpt.info.value("sha256", std::string())).substr(0, 16);
    base.path = cfg.model.checkpoint;
  } else {
    corpus = corpus_of(world, cfg.world, cfg.pretrain);
    base = ensure_pretrained("base model", cfg.model, cfg.pretrain, corpus, cfg.runtime.cache_dir, device);
  }
  PretrainedModel proxy;
  nlohmann::json proxy_info;
  auto ensure_proxy = [&]() {
    if (!proxy.model.is_empty()) return;
    if (real) {
      RunCheckpoint p = load_run_checkpoint(cfg.baselines.proxy_checkpoint, device);
      check_proxy_tokenizer(*hf_tok, cfg.baselines.proxy_checkpoint, p.model->config());
      proxy.model = p.model;
      proxy.path = cfg.baselines.proxy_checkpoint;
      proxy_info = p.info;
    } else {
      proxy = ensure_pretrained("proxy model", cfg.proxy_model, cfg.pretrain, corpus, cfg.runtime.cache_dir, device);
    }
  };
  if (selector_uses_proxy(cfg.selection.selector)) ensure_proxy();
  {
    const int64_t micro = cfg.train.micro_batch_size > 0 ? cfg.train.micro_batch_size : cfg.train.batch_size;
    stage("run " + label + ": " +
          memory_estimate_text(base.model->config(), cfg.lora, micro, max_len, real ? ckpt.compute_dtype : torch::kFloat32,
                               cfg.selection.selector != "base", &memory_json) +
          " (batch " + std::to_string(micro) + " x " + std::to_string(max_len) + " tokens)");
  }
  const double setup_seconds = now_seconds() - t_start;

  // The trainable copy, its trainer, the shared engine.
  Ledger ledger(device);
  DecoderModel tuned = trainable_copy(base.model, cfg.lora, seeds.init);
  Trainer trainer(tuned, cfg.train, tokens, ledger, device, seeds.data_order);
  InferenceEngine engine(tokens, ledger, device, cfg.inference);
  const ProcessGroupPtr& pg = options.process_group;
  trainer.set_process_group(pg);
  engine.set_process_group(pg);
  const int64_t pool_n = static_cast<int64_t>(pool.size());
  int64_t budget = static_cast<int64_t>(std::llround(cfg.selection.budget_fraction * static_cast<double>(pool_n)));
  budget = std::max<int64_t>(1, std::min(budget, pool_n));
  if (cfg.selection.selector == "base") budget = 0;
  {
    int64_t bs = std::max(1, cfg.train.batch_size);
    trainer.set_planned_total_steps(std::max<int64_t>(1, (budget * std::max(1, cfg.train.epochs) + bs - 1) / bs));
  }

  uint64_t warm_counter = 0;
  SelectionContext ctx{pool, tokens, trainer, engine, ledger, budget, seeds, cfg.train.epochs, {}, {}, {}};
  ctx.full_batch_rounds = cfg.selection.full_batch_rounds;
  // Offline work repeated across a sweep's runs (LEAD's offline stage, shared by its ablations) is
  // reused from runtime.cache_dir, keyed by content (core/result_cache.h); the record says so.
  // Not with data-parallel ranks: a hit on one rank and a miss on another would part their collectives.
  if (pg && cfg.runtime.reuse_offline && cfg.selection.selector == "lead")
    stage("run " + label + ": runtime.reuse_offline is not used with " + std::to_string(pg->size()) +
          " data-parallel ranks: LEAD's offline stage is computed (the same values a reuse would give)");
  ResultCache result_cache(!pg && cfg.runtime.reuse_offline && cfg.selection.selector == "lead" ? cfg.runtime.cache_dir : "");
  if (result_cache.enabled()) {
    DecoderModel start = trainable_copy(base.model, cfg.lora, seeds.init);
    ctx.cache = &result_cache;
    ctx.cache_context = {{"start_model", model_content_hash(start)},
                         {"tokens", token_content_hash(tokens)},
                         {"train", config_to_json(cfg.train)},
                         {"inference", config_to_json(cfg.inference)},
                         {"seeds", config_to_json(seeds)},
                         {"device", device.str()}};
  }
  ctx.base_model = [&]() { return trainable_copy(base.model, cfg.lora, seeds.init); };
  ctx.proxy_model = [&]() {
    ensure_proxy();
    DecoderModel m = clone_model(proxy.model);
    m->eval();
    return m;
  };
  ctx.make_trainer = [&](DecoderModel m) {
    uint64_t s = Rng::derive(seeds.data_order, "make_trainer." + std::to_string(warm_counter++)).next_u64();
    auto t = std::make_unique<Trainer>(m, cfg.train, tokens, ledger, device, s);
    t->set_gradient_sketch(false);  // warm-up models: nobody reads their sketch
    t->set_process_group(pg);
    return t;
  };

  std::unique_ptr<Selector> selector = make_selector(cfg, fixed_ids);
  trainer.set_gradient_sketch(selector && selector->wants_gradient_sketch());
  nlohmann::json rounds = nlohmann::json::array();
  std::vector<SampleId> selected_order;
  std::vector<int32_t> times_trained(pool.size(), 0);
  int64_t sample_passes = 0;
  std::string stop_reason = "base model: no training";

  if (selector) {
    stage("run " + label + ": selector " + selector->name() + ", budget " + std::to_string(budget) + " of " +
          std::to_string(pool_n) + " samples (" + fmt("%g", cfg.selection.budget_fraction * 100) + " %), seed " +
          std::to_string(cfg.seed));
    double t0 = now_seconds();
    {
      auto scope = ledger.scope(Phase::selection);
      selector->prepare(ctx);
    }
    stage("run " + label + ": offline stage done in " + fmt("%.1f", now_seconds() - t0) + " s");
    bool header = false;
    stop_reason = "selector finished";
    for (int64_t r = 0;; ++r) {
      if (r >= cfg.selection.max_rounds) {
        stop_reason = "selection.max_rounds reached";
        break;
      }
      std::optional<Round> round;
      {
        auto scope = ledger.scope(Phase::selection);
        round = selector->next_round(ctx);
      }
      if (!round) break;
      if (round->ids.empty()) continue;
      RoundFeedback fb = trainer.train_round(round->ids, std::max(1, round->epochs));
      if (pg) kill_rank_for_test(pg->rank(), r);
      {
        auto scope = ledger.scope(Phase::selection);
        selector->observe(ctx, fb);
      }
      int64_t new_unique = 0;
      for (SampleId id : round->ids) {
        if (id < 0 || id >= pool_n)
          throw std::runtime_error("selector " + selector->name() + " returned sample id " + std::to_string(id) +
                                   " outside the pool (0.." + std::to_string(pool_n - 1) + ")");
        if (times_trained[id]++ == 0) {
          selected_order.push_back(id);
          ++new_unique;
        }
      }
      sample_passes += static_cast<int64_t>(round->ids.size()) * std::max(1, round->epochs);
      rounds.push_back({{"round", r},
                        {"samples", round->ids.size()},
                        {"epochs", round->epochs},
                        {"new_unique", new_unique},
                        {"unique_so_far", selected_order.size()},
                        {"steps", fb.steps},
                        {"tokens", fb.tokens},
                        {"mean_loss", fb.mean_loss},
                        {"lr_mean", fb.lr_mean},
                        {"grad_norm", fb.grad_norm},
                        {"seconds", fb.seconds}});
      if (Progress::enabled() || !g_quiet) {
        if (!header) {
          stage("round |  picked |  unique/budget |  steps |   loss   |    lr     |  tok/s  | elapsed");
          header = true;
        }
        char line[200];
        std::snprintf(line, sizeof(line), "%5lld | %7zu | %6zu/%-7lld | %6lld | %8.4f | %9.2e | %7.0f | %6.1f s", (long long)r,
                      round->ids.size(), selected_order.size(), (long long)budget, (long long)trainer.step(), fb.mean_loss,
                      fb.lr_mean, fb.seconds > 0 ? fb.tokens / fb.seconds : 0.0, now_seconds() - t0);
        stage(line);
      }
    }
  } else {
    stage("run " + label + ": the base model without training (discrimination check)");
  }

  if (pg) {
    // Each rank counted the tokens it computed; the record counts every rank's. Seconds: rank 0's.
    auto counts = torch::zeros({kPhaseCount, 4}, torch::kInt64);
    auto c = counts.accessor<int64_t, 2>();
    for (int p = 0; p < kPhaseCount; ++p) {
      const auto& st = ledger.stats(static_cast<Phase>(p));
      c[p][0] = st.forward_tokens;
      c[p][1] = st.backward_tokens;
      c[p][2] = st.computed_tokens;
      c[p][3] = st.samples;
    }
    const auto own = counts.clone();
    pg->all_reduce_sum(counts, "the ledger's token counts");
    const auto o = own.accessor<int64_t, 2>();
    for (int p = 0; p < kPhaseCount; ++p) {
      PhaseStats others;
      others.forward_tokens = c[p][0] - o[p][0];
      others.backward_tokens = c[p][1] - o[p][1];
      others.computed_tokens = c[p][2] - o[p][2];
      others.samples = c[p][3] - o[p][3];
      ledger.add_measured(static_cast<Phase>(p), others);
    }
  }
  // Evaluation is not sharded: the weights are the same on every rank, rank 0 evaluates and writes
  // the record, the others are done.
  if (pg && pg->rank() != 0) return nlohmann::json::object();

  // Evaluation on every suite.
  tuned->eval();
  nlohmann::json suites = nlohmann::json::object();
  nlohmann::json suite_order = nlohmann::json::array();
  std::vector<SuiteScore> scores;
  std::string prediction_lines;  // runtime.save_predictions: one JSON object per item
  for (const auto& suite : real ? real_suites : world.suites) {
    double t0 = now_seconds();
    SuiteResult res;
    {
      auto scope = ledger.scope(Phase::evaluation);
      std::vector<Prediction> preds;
      res = evaluate_suite(tuned, tok, suite, cfg.eval, ledger, device, seeds.fewshot,
                           cfg.runtime.save_predictions ? &preds : nullptr);
      for (const auto& p : preds) {
        nlohmann::json line = {{"suite", suite.name}, {"id", p.id}, {"outputs", p.outputs}};
        if (p.choice >= 0) line["choice"] = p.choice;
        prediction_lines += line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
      }
    }
    SuiteScore sc{res.suite.empty() ? suite.name : res.suite, res.metric, res.version.empty() ? suite.version : res.version,
                  res.headline.value, res.headline.stderr_, res.headline.n};
    scores.push_back(sc);
    suites[sc.suite] = {{"metric", sc.metric},
                        {"version", sc.version},
                        {"value", sc.value},
                        {"stderr", sc.stderr_},
                        {"n", sc.n},
                        {"result", res.to_json()}};
    suite_order.push_back(sc.suite);
    stage("run " + label + ": " + sc.suite + "  " + sc.metric + " " + fmt("%.1f", sc.value) +
          " ± " + fmt("%.1f", sc.stderr_) + " (n " + std::to_string(sc.n) + ", " + fmt("%.1f", now_seconds() - t0) + " s)");
    for (const auto& w : res.warnings) stage("run " + label + ": WARNING " + sc.suite + ": " + w);
  }
  double avg = 0, avg_se = 0;
  average_of_suites(scores, &avg, &avg_se);

  // Picks by source and by true defect (the runner may read Pool::truth; selectors never do).
  nlohmann::json by_source = nlohmann::json::object(), by_defect = nlohmann::json::object(),
                 by_both = nlohmann::json::object();
  nlohmann::json uids = nlohmann::json::array();
  for (SampleId id : selected_order) {
    const auto& s = pool.samples[id];
    std::string defect = id < static_cast<SampleId>(pool.truth.size()) ? pool.truth[id].defect : "unknown";
    by_source[s.dataset] = by_source.value(s.dataset, 0) + 1;
    by_defect[defect] = by_defect.value(defect, 0) + 1;
    if (!by_both.contains(s.dataset)) by_both[s.dataset] = nlohmann::json::object();
    by_both[s.dataset][defect] = by_both[s.dataset].value(defect, 0) + 1;
    uids.push_back(s.uid);
  }
  nlohmann::json padding = nlohmann::json::object();
  for (int p = 0; p < kPhaseCount; ++p) {
    const auto& st = ledger.stats(static_cast<Phase>(p));
    if (st.computed_tokens > 0) padding[phase_name(static_cast<Phase>(p))] = st.padding_efficiency();
  }
  const double wall = now_seconds() - t_start;

  nlohmann::json rec;
  rec["format"] = kRunRecordFormat;
  rec["format_version"] = kRunRecordVersion;
  rec["name"] = label;
  rec["selector"] = cfg.selection.selector;
  rec["seed"] = cfg.seed;
  rec["seeds"] = config_to_json(seeds);
  rec["budget_fraction"] = cfg.selection.budget_fraction;
  rec["budget"] = budget;
  rec["pool_size"] = pool_n;
  rec["data_fraction"] = pool_n ? static_cast<double>(selected_order.size()) / static_cast<double>(pool_n) : 0.0;
  rec["config"] = experiment_config_json(cfg);
  rec["config_hash"] = experiment_config_hash(cfg);
  rec["git_sha"] = build_git_sha();
  rec["version"] = build_version();
  rec["device"] = device_description(device);
  rec["machine"] = machine_description();
  rec["date"] = utc_now_iso8601();
  rec["command"] = options.command.empty() ? command_line() : options.command;
  rec["suites"] = suites;
  rec["suite_order"] = suite_order;
  rec["average"] = {{"value", avg},
                    {"stderr", avg_se},
                    {"suites", scores.size()},
                    {"how", "unweighted mean of the suites' headline scores; stderr = sqrt(sum se^2) / k"}};
  rec["phases"] = ledger.to_json();
  rec["padding_efficiency"] = padding;
  rec["peak_memory_bytes"] = peak_memory_bytes(device);
  rec["wall_seconds"] = wall;
  rec["setup_seconds"] = setup_seconds;
  rec["base_model"] = {{"hash", base.hash},
                       {"from_cache", base.from_cache},
                       {"pretrain_seconds", base.train_seconds},
                       {"steps", base.steps},
                       {"final_loss", base.final_loss},
                       {"parameters", base.model->parameter_count(false)},
                       {"trainable_parameters", tuned->parameter_count(true)}};
  rec["selected"] = {{"unique", selected_order.size()},
                     {"sample_passes", sample_passes},
                     {"optimizer_steps", trainer.step()},
                     {"gradient_sketch", trainer.gradient_sketch() ? cfg.train.sketch : std::string("none")},
                     {"sketched_steps", trainer.sketched_steps()},
                     {"stop_reason", stop_reason},
                     {"uids", uids}};
  rec["rounds"] = rounds;
  if (!result_cache.reused().empty()) rec["reused"] = result_cache.reused();
  if (pg)
    rec["distributed"] = {{"world_size", pg->size()},
                          {"backend", "gloo"},
                          {"how", "data-parallel: every optimizer batch and every scoring pass shared among the ranks, "
                                  "gradients summed by all-reduce; tokens counted over all ranks, seconds are rank 0's"}};
  {
    // The fair-training rule (paper/FAIRNESS.md): the record carries any mismatch with the static
    // protocol's compute, and the tables mark it beside the score.
    const TrainingFairness fair =
        training_fairness(budget, cfg.train.batch_size, cfg.train.epochs, trainer.step(), sample_passes);
    rec["fairness"] = fair.to_json();
    if (fair.known && !fair.within_10pct)
      stage("run " + label + ": WARNING training compute differs from the static protocol by more than 10 %: " +
            std::to_string(fair.optimizer_steps) + " optimizer steps (reference " + std::to_string(fair.reference_steps) +
            "), " + std::to_string(fair.sample_passes) + " sample passes (reference " +
            std::to_string(fair.reference_passes) + "); tables mark this run (paper/FAIRNESS.md)");
  }
  rec["picks"] = {{"by_source", by_source},
                  {"by_defect", by_defect},
                  {"by_source_and_defect", by_both},
                  {"pool", pool_defect_counts(pool)}};
  rec["telemetry"] = selector ? selector->telemetry() : nlohmann::json::object();
  if (!rec["telemetry"].is_object()) rec["telemetry"] = {{"value", rec["telemetry"]}};
  rec["truncation"] = {{"max_length", max_len},
                        {"truncated", tokens.truncated},
                        {"truncated_without_target", tokens.truncated_without_target},
                        {"how", "samples longer than max_length tokens keep their first max_length (the chat template's start)"}};
  if (real) {
    rec["checkpoint"] = ckpt.info;
    rec["tokenizer"] = hf_tok->to_json();
    rec["pool"] = pool_info;
    rec["memory_estimate"] = memory_json;
    if (!proxy_info.is_null()) rec["proxy_checkpoint"] = proxy_info;
    if (sandbox && sandbox->unsafe()) rec["warnings"] = {"UNSAFE: HumanEval code ran without the bubblewrap sandbox"};
  } else {
    rec["world_version"] = kWorldVersion;
  }

  if (options.write_record) {
    std::string path = options.record_path.empty() ? default_record_path(cfg) : options.record_path;
    if (cfg.runtime.save_predictions) {
      std::string stem = path.size() > 5 && path.compare(path.size() - 5, 5, ".json") == 0 ? path.substr(0, path.size() - 5) : path;
      write_file_atomic(stem + ".predictions.jsonl", prediction_lines);
    }
    write_json_atomic(path, rec);
    stage("run " + label + ": average " + fmt("%.1f", avg) + " ± " + fmt("%.1f", avg_se) + ", selection cost " +
          fmt("%.1f", ledger.selection_cost_seconds()) + " s, wall " + fmt("%.1f", wall) + " s; record: " + path);
  }
  return rec;
}

std::string find_shipped_config(const std::string& file_name) {
  std::vector<fs::path> dirs;
  if (const char* e = std::getenv("LEADBENCH_CONFIGS")) dirs.emplace_back(e);
  fs::path exe = self_executable();
  dirs.push_back(exe.parent_path().parent_path() / "experiments" / "configs");
  dirs.push_back(exe.parent_path() / "experiments" / "configs");
  dirs.push_back(fs::path("experiments") / "configs");
  for (const auto& d : dirs) {
    std::error_code ec;
    if (fs::exists(d / file_name, ec)) {
      // Relative to the working directory when below it: run records and logs store this path,
      // and a machine's absolute paths mean nothing on another machine.
      fs::path found = fs::absolute(d / file_name, ec).lexically_normal();
      fs::path rel = found.lexically_proximate(fs::current_path(ec));
      if (!rel.empty() && *rel.begin() != "..") return rel.string();
      return found.string();
    }
  }
  throw ConfigError("cannot find the shipped config " + file_name +
                    " (looked in $LEADBENCH_CONFIGS, next to the executable and in ./experiments/configs); "
                    "run from the repository root or pass --config FILE");
}

namespace {

std::string selector_list() {
  std::string s;
  for (const auto& n : known_selectors()) s += (s.empty() ? "" : ", ") + n;
  return s;
}

void apply_cli_runtime(ExperimentConfig& cfg, const CommonFlags& c) {
  if (c.device_given) cfg.runtime.device = c.device;
  if (c.threads_given) cfg.runtime.threads = c.threads;
  if (c.progress == 1) cfg.runtime.progress = "on";
  if (c.progress == 0) cfg.runtime.progress = "off";
}

std::string run_usage() {
  return "usage: leadbench run CONFIG [key=value ...] [--out FILE] [--skip-existing] [--device auto|cpu|cuda]\n"
         "                     [--threads N] [--progress|--quiet] [--list-keys]\n"
         "  One selector, one seed, one config: builds the world, pre-trains (or loads) the base model,\n"
         "  runs the selector's rounds on the shared trainer, evaluates every suite and writes one run\n"
         "  record (JSON) to FILE (default: runtime.out_dir/<name>-b<budget>-s<seed>-<hash>.json).\n"
         "  key=value overrides any config key, e.g. selection.selector=random selection.budget_fraction=0.05 seed=1\n"
         "  model.checkpoint=DIR pool.path=FILE.jsonl: tune a Hugging Face checkpoint (with its tokenizer.json) on a\n"
         "                   real messages-format pool instead (no world, no pre-training); see README\n"
         "  --skip-existing  exit at once when FILE already holds a record with the same config hash\n"
         "  While it runs it holds FILE.lock; a second run of the same FILE exits at once with 75.\n"
         "  --list-keys      print every config key with its value and the reason for its default\n"
         "  --nproc N        N data-parallel ranks on this machine (Gloo on CPU): each trains its share of every\n"
         "                   batch; rank 0 writes the record. Under torchrun or srun (RANK, WORLD_SIZE, MASTER_ADDR,\n"
         "                   MASTER_PORT set) every process is a rank without --nproc; runtime.dist_timeout bounds each collective\n"
         "  selectors: " + selector_list() + "\n";
}

}  // namespace

int cmd_run(const std::vector<std::string>& args) {
  ParsedArgs p = parse_args(args, {"--out", "--nproc"}, {"--skip-existing", "--list-keys"});
  if (p.common.help) {
    std::cout << run_usage();
    return 0;
  }
  if (p.has("--list-keys")) {
    ExperimentConfig cfg = load_experiment_config(p.positional.empty() ? "" : p.positional[0], p.overrides);
    for (const auto& d : config_docs(cfg))
      std::cout << d.key << " = " << d.value << "    # " << d.why << (d.rule.empty() ? "" : " [" + d.rule + "]") << "\n";
    return 0;
  }
  if (p.positional.size() != 1) throw UsageError("run needs exactly one CONFIG file\n" + run_usage());
  const std::string path = p.positional[0];
  const DistEnv env = dist_env_from_environment();  // checked before any work
  int nproc = 1;
  if (p.has("--nproc")) {
    const std::string v = p.value("--nproc");
    try {
      size_t used = 0;
      nproc = std::stoi(v, &used);
      if (used != v.size()) throw std::invalid_argument("trailing");
    } catch (const std::exception&) {
      throw UsageError("--nproc needs a whole number of ranks (got '" + v + "')");
    }
    if (nproc < 1 || nproc > 256) throw UsageError("--nproc " + v + " is outside 1..256");
    if (!env.source.empty())
      throw UsageError("--nproc " + v + " starts its own ranks, but this process is already rank " + std::to_string(env.rank) +
                       " of " + std::to_string(env.world_size) + " (from " + (env.source == "slurm" ? "SLURM_PROCID/SLURM_NTASKS" : "RANK/WORLD_SIZE") +
                       "); drop --nproc under torchrun or srun, or unset those variables");
  }
  ConfigSources sources;
  ExperimentConfig cfg = load_experiment_config(path, p.overrides, &sources);
  apply_cli_runtime(cfg, p.common);
  validate_experiment_config(cfg, path, &sources);  // every rule, before any work
  std::string record_path = p.value("--out", default_record_path(cfg));
  if (nproc > 1) {
    // The parent only starts, watches and stops its ranks: each child runs this command again.
    std::vector<std::string> child_args;
    for (size_t i = 0; i < args.size(); ++i) {
      if (args[i] == "--nproc") {
        ++i;
        continue;
      }
      if (args[i].rfind("--nproc=", 0) == 0) continue;
      child_args.push_back(args[i]);
    }
    return launch_local_ranks(nproc, child_args);
  }
  const int world = env.world_size;
  const int rank = env.rank;
  if (world > 1) {
    if (cfg.runtime.threads == 0) {
      // The ranks of one machine share its cores (as torchrun's OMP_NUM_THREADS=1 default intends).
      const int hw = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
      cfg.runtime.threads = std::max(1, hw / std::max(1, env.local_world_size));
    }
    if (rank != 0) {  // one rank speaks; the others' errors still reach stderr
      cfg.runtime.progress = "off";
      set_log_lines(false);
    }
  }
  // One writer per record: rank 0 (a sweep's child adopts the lock its sweep took; anyone else
  // waits for nothing and is told who holds it).
  RecordLock lock;
  if (rank == 0) {
    lock = RecordLock::acquire_for_run(record_path);
    if (!lock.held()) {
      std::cerr << "leadbench run: " << lock.busy_message(record_path)
                << "; wait for it to finish (or stop that process) and run again\n";
      if (world == 1) return kRecordBusyExitCode;
    }
  }
  RunOptions opt;
  opt.process_group = ProcessGroup::create(env, std::chrono::milliseconds(static_cast<int64_t>(cfg.runtime.dist_timeout * 1000)));
  // Rank 0 decides whether the run happens; the others follow (0: run, 1: skip, 2: record busy).
  int decision = 0;
  if (rank == 0) {
    if (!lock.held()) decision = 2;
    else {
      remove_stale_record_temporaries(record_path);
      if (p.has("--skip-existing") && file_exists(record_path)) {
        try {
          RunRecord r = read_run_record(record_path);
          if (r.config_hash == experiment_config_hash(cfg)) {
            log_line("run: " + record_path + " already holds this run (config hash " + r.config_hash + "); skipping");
            decision = 1;
          }
        } catch (const std::exception& e) {
          log_line("run: existing record unusable (" + std::string(e.what()) + "); running again");
        }
      }
    }
  }
  if (opt.process_group) {
    auto d = torch::tensor({static_cast<int64_t>(decision)}, torch::kInt64);
    opt.process_group->broadcast(d, 0, "rank 0's decision to run");
    decision = static_cast<int>(d.item<int64_t>());
    if (rank == 0)
      log_line("run: " + std::to_string(world) + " data-parallel ranks (Gloo" +
               (env.source == "slurm" ? ", from srun" : "") + "), " + std::to_string(cfg.runtime.threads) +
               " threads each; rank 0 writes " + record_path);
  }
  if (decision == 1) return 0;
  if (decision == 2) return kRecordBusyExitCode;
  apply_runtime(cfg);
  opt.record_path = record_path;
  opt.write_record = rank == 0;
  execute_run(cfg, opt);
  return 0;
}

namespace {

std::string demo_usage() {
  return "usage: leadbench demo [--quick] [key=value ...] [--out DIR] [--jobs N] [--resume] [--config FILE]\n"
         "                      [--threads N] [--device D] [--progress|--quiet]\n"
         "  The main job: on the embedded synthetic world, runs LEAD and every baseline at a 2.5 % budget\n"
         "  (experiments/configs/demo.json; --quick: quick.json, a smaller world), prints the leaderboard\n"
         "  and the cost table, and says where the files are. The base model is pre-trained once and\n"
         "  cached (runtime.cache_dir); later demos reuse it.\n"
         "  --resume   keep finished runs of an earlier demo with the same config (default: run all again)\n"
         "  --jobs N   runs at once (default 1: on a small machine one run with all cores is fastest)\n";
}

}  // namespace

int cmd_demo(const std::vector<std::string>& args) {
  ParsedArgs p = parse_args(args, {"--out", "--jobs", "--config"}, {"--quick", "--resume", "--no-plots"});
  if (p.common.help) {
    std::cout << demo_usage();
    return 0;
  }
  if (!p.positional.empty()) throw UsageError("demo takes no positional arguments (got '" + p.positional[0] + "')\n" + demo_usage());
  const double t0 = now_seconds();
  std::string config = p.value("--config", "");
  if (config.empty()) config = find_shipped_config(p.has("--quick") ? "quick.json" : "demo.json");
  std::vector<std::string> overrides = p.overrides;
  SweepPlan plan = plan_sweep(config, overrides, p.value("--out"));
  if (plan.runs.empty()) throw ConfigError(config + ": the demo has no runs");
  SweepOptions opt;
  try {
    opt.jobs = std::stoi(p.value("--jobs", "1"));
  } catch (const std::exception&) {
    throw UsageError("--jobs needs an integer");
  }
  opt.threads = p.common.threads;
  opt.device = p.common.device;
  opt.progress = p.common.progress < 0 ? 1 : p.common.progress;
  opt.inherit_output = opt.jobs == 1;
  apply_common_flags(p.common);
  if (p.common.progress == 0) g_quiet = true;

  ExperimentConfig first = plan.runs[0].config;
  apply_cli_runtime(first, p.common);
  std::set<std::string> selectors;
  for (const auto& r : plan.runs) selectors.insert(r.config.label());
  log_line("leadbench demo: " + std::to_string(plan.runs.size()) + " runs (" + std::to_string(selectors.size()) +
           " selectors) on a synthetic pool of " + std::to_string(first.world.pool_size) + " samples at " +
           fmt("%g", first.selection.budget_fraction * 100) + " % budget; config " + config + "; results in " +
           plan.results_dir);
  if (!p.has("--resume")) {
    for (const auto& r : plan.runs) {
      std::error_code ec;
      fs::remove(r.record_path, ec);
    }
  }

  // Pre-train (or load) the base and proxy models here, where their progress is visible.
  {
    torch::Device device = resolve_device(first.runtime.device);
    World world = generate_world(first.world);
    BaseCorpus corpus = corpus_of(world, first.world, first.pretrain);
    double tb = now_seconds();
    PretrainedModel base = ensure_pretrained("base model", first.model, first.pretrain, corpus, first.runtime.cache_dir, device);
    bool need_proxy = false;
    for (const auto& r : plan.runs) need_proxy = need_proxy || selector_uses_proxy(r.config.selection.selector);
    if (need_proxy) ensure_pretrained("proxy model", first.proxy_model, first.pretrain, corpus, first.runtime.cache_dir, device);
    log_line("demo: models ready in " + fmt("%.1f", now_seconds() - tb) + " s");
  }

  SweepOutcome o = run_sweep(plan, opt);
  if (o.signal) {
    log_line(std::string("demo: stopped by ") + strsignal(o.signal) + "; run it again with --resume to continue");
    return 128 + o.signal;
  }
  std::set<std::string> mine;
  for (const auto& r : plan.runs) mine.insert(fs::path(r.record_path).lexically_normal().string());
  RecordScan scan = scan_results_dir(plan.results_dir);
  std::vector<RunRecord> records;
  for (auto& r : scan.records)
    if (mine.count(fs::path(r.file).lexically_normal().string())) records.push_back(r);
  std::vector<std::string> problems;
  for (const auto& pr : scan.problems)
    for (const auto& m : mine)
      if (pr.rfind(m, 0) == 0) problems.push_back(pr);
  TableStamp stamp{command_line(), build_git_sha(), machine_description(), utc_now_iso8601()};
  Tables t = make_tables(records, problems, stamp);
  std::string out = (fs::path(plan.results_dir) / "tables").string();
  write_tables(out, t);
  std::vector<std::string> plot_msgs;
  if (!p.has("--no-plots")) plot_msgs = write_plots(records, out, stamp);
  std::cout << "\n" << t.markdown << std::flush;
  for (const auto& m : plot_msgs) log_line("plot " + m);
  log_line("\ndemo finished in " + fmt("%.1f", now_seconds() - t0) + " s: " + std::to_string(o.ran) + " runs ran, " +
           std::to_string(o.already_done) + " reused, " + std::to_string(o.failed) + " failed");
  for (const auto& f : o.failures) log_line("  failed: " + f);
  log_line("files:\n  run records:  " + plan.results_dir + "/*.json\n  leaderboard:  " + out + "/leaderboard.md (also .csv, .tex)\n" +
           "  cost table:   " + out + "/cost.csv\n  plots:        " + out + "/*.svg, *.png\n  model cache:  " +
           first.runtime.cache_dir + "/models");
  return o.failed ? 1 : 0;
}

namespace {

std::string probe_usage() {
  return "usage: leadbench probe [CONFIG] [key=value ...] [--echoes N] [--json FILE] [--threads N] [--device D]\n"
         "  In-context copying of the base model (pre-trained on CONFIG's world, from the model cache or\n"
         "  trained now), teacher-forced: each syn_tydiqa answer as the suite asks it (qa_chat) and as the\n"
         "  base corpus states facts (restatement), and the words of N fresh echo documents (default 200).\n"
         "  Per kind and language: the first character of the span (finding where to copy from), the rest\n"
         "  (continuing a copy) and whole spans, each beside its control (the same span with nothing to copy\n"
         "  it from: what the shape of the words alone predicts). Copying is the difference.\n"
         "  Default CONFIG: experiments/configs/demo.json. --json writes the table as JSON (atomically).\n";
}

}  // namespace

int cmd_probe(const std::vector<std::string>& args) {
  ParsedArgs p = parse_args(args, {"--echoes", "--json"}, {});
  if (p.common.help) {
    std::cout << probe_usage();
    return 0;
  }
  if (p.positional.size() > 1) throw UsageError("probe takes at most one CONFIG file\n" + probe_usage());
  int echoes = 200;
  const std::string echoes_arg = p.value("--echoes", "200");
  try {
    size_t used = 0;
    echoes = std::stoi(echoes_arg, &used);
    if (used != echoes_arg.size()) throw std::invalid_argument(echoes_arg);
  } catch (const std::exception&) {
    throw UsageError("--echoes needs a whole number, not '" + echoes_arg + "'\n" + probe_usage());
  }
  if (echoes < 0) throw UsageError("--echoes must be >= 0\n" + probe_usage());
  const std::string path = p.positional.empty() ? find_shipped_config("demo.json") : p.positional[0];
  ConfigSources sources;
  ExperimentConfig cfg = load_experiment_config(path, p.overrides, &sources);
  apply_cli_runtime(cfg, p.common);
  validate_experiment_config(cfg, path, &sources);
  apply_runtime(cfg);
  torch::Device device = resolve_device(cfg.runtime.device);
  World world = generate_world(cfg.world);
  PretrainedModel base = ensure_pretrained("base model", cfg.model, cfg.pretrain, corpus_of(world, cfg.world, cfg.pretrain), cfg.runtime.cache_dir, device);
  const auto spans = copy_probe_spans(cfg.world, world, echoes);
  const auto scores = score_copy_spans(spans, model_argmax(base.model, device));
  // Each kind beside its control (the span nowhere in context): copying is the difference.
  std::printf("%-20s %6s  %-19s  %-19s  %-19s\n", "kind/group", "spans", "first char (ctrl)", "rest (ctrl)",
              "whole span (ctrl)");
  nlohmann::json rows = nlohmann::json::object();
  for (const auto& [key, sc] : scores) rows[key] = sc.to_json();
  for (const auto& [key, sc] : scores) {
    const size_t slash = key.find('/');
    const std::string kind = key.substr(0, slash), rest = slash == std::string::npos ? "" : key.substr(slash);
    if (kind.size() > 8 && kind.compare(kind.size() - 8, 8, "_control") == 0) continue;
    const nlohmann::json& j = rows[key];
    const std::string ctl_key = kind + "_control" + rest;
    const nlohmann::json c = rows.contains(ctl_key) ? rows[ctl_key] : nlohmann::json::object();
    auto cell = [&](const char* field) {
      char b[40];
      if (c.contains(field))
        std::snprintf(b, sizeof(b), "%5.1f %% (%5.1f %%)", j[field].get<double>(), c[field].get<double>());
      else
        std::snprintf(b, sizeof(b), "%5.1f %%", j[field].get<double>());
      return std::string(b);
    };
    std::printf("%-20s %6lld  %-19s  %-19s  %-19s\n", key.c_str(), static_cast<long long>(sc.spans),
                cell("first_char_pct").c_str(), cell("rest_pct").c_str(), cell("whole_span_pct").c_str());
  }
  if (p.has("--json")) {
    nlohmann::json out = {{"format", "leadbench-copy-probe/1"},
                          {"command", command_line()},
                          {"world_version", kWorldVersion},
                          {"base_model", {{"hash", base.hash}, {"path", base.path}, {"final_loss", base.final_loss}}},
                          {"echoes", echoes},
                          {"scores", rows}};
    write_file_atomic(p.value("--json"), out.dump(2) + "\n");
  }
  return 0;
}

}  // namespace lb
