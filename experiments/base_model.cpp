// Pre-training and caching of the base and proxy models; see base_model.h.
#include "experiments/base_model.h"

#include "core/file_lock.h"
#include "core/seeds.h"

#include "core/config.h"
#include "core/device.h"
#include "core/json_io.h"
#include "core/ledger.h"
#include "core/progress.h"
#include "core/tokenizer.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>

namespace fs = std::filesystem;

namespace lb {

namespace {

std::string slug(const std::string& s) {
  std::string o;
  for (char c : s) o += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return o;
}

// Cuts a token stream into max_len windows (each needs >= 2 targets) and appends them to tc.
void append_windows(const Encoded& stream, int max_len, TokenCache& tc) {
  for (size_t start = 0; start + 1 < stream.ids.size(); start += static_cast<size_t>(max_len)) {
    const size_t end = std::min(stream.ids.size(), start + static_cast<size_t>(max_len));
    Encoded piece;
    piece.ids.assign(stream.ids.begin() + static_cast<long>(start), stream.ids.begin() + static_cast<long>(end));
    piece.loss_mask.assign(stream.loss_mask.begin() + static_cast<long>(start),
                           stream.loss_mask.begin() + static_cast<long>(end));
    if (piece.target_count() < 2) continue;
    tc.full.push_back(piece);
    tc.response_only.push_back(std::move(piece));
  }
}

// Token windows of the corpus: each document encoded as plain text (BOS ... EOS) and cut into
// max_len pieces; with `pack`, the documents in a shuffled order are concatenated first so that
// every window is full (a document may continue into the next window, as in LM pre-training).
TokenCache corpus_tokens(const std::vector<std::string>& documents, int max_len, bool pack, uint64_t seed) {
  ByteTokenizer tok;
  TokenCache tc;
  tc.max_len = max_len;
  if (!pack) {
    for (const auto& doc : documents) append_windows(tok.encode_plain(doc, 1 << 30), max_len, tc);
    return tc;
  }
  std::vector<size_t> order(documents.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  Rng::derive(seed, "pretrain.pack").shuffle(order);
  Encoded stream;
  for (size_t i : order) {
    Encoded e = tok.encode_plain(documents[i], 1 << 30);
    stream.ids.insert(stream.ids.end(), e.ids.begin(), e.ids.end());
    stream.loss_mask.insert(stream.loss_mask.end(), e.loss_mask.begin(), e.loss_mask.end());
  }
  append_windows(stream, max_len, tc);
  return tc;
}

// The copy warm-up: one pass over its documents (echoes, and passage restatements at the share
// copy_warmup_restatements), one per window (batch_size a step), at a constant learning rate, before
// the corpus, which then trains with a fresh optimizer and its own schedule. On the mixed corpus alone
// the base model never learns to copy from its context; how much of the copying learnt here survives
// the corpus, and whether it reaches syn_tydiqa, is what `leadbench probe` measures
// (results/world-discrimination/copy-probe/).
void copy_warmup(const std::string& what, DecoderModel& model, const PretrainConfig& pre, const BaseCorpus& corpus,
                 int max_len, Ledger& ledger, torch::Device device) {
  TokenCache tokens = corpus_tokens(corpus.warmup_documents, max_len, /*pack=*/false, 0);
  if (tokens.full.empty()) throw std::runtime_error(what + ": the copy warm-up has no documents");
  TrainConfig w = pre.train;
  w.lr = pre.copy_warmup_lr;
  w.schedule = "constant";
  w.warmup_steps = 0;
  Trainer trainer(model, w, tokens, ledger, device, Rng::derive(pre.data_seed, "copy_warmup").next_u64());
  std::vector<SampleId> ids(tokens.full.size());
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<SampleId>(i);
  const double t0 = now_seconds();
  RoundFeedback fb = trainer.train_round(ids, 1, Phase::offline_training);
  char line[256];
  std::snprintf(line, sizeof(line),
                "%s: copy warm-up on %zu documents (%.0f %% restatements, %.0f %% of echoes suffix echoes), %lld steps at lr %g  loss %.4f  %.1f s",
                what.c_str(), ids.size(), 100 * pre.copy_warmup_restatements, 100 * pre.copy_warmup_suffixes,
                static_cast<long long>(trainer.step()), w.lr,
                fb.mean_loss, now_seconds() - t0);
  log_line(line);
  if (!std::isfinite(fb.mean_loss))
    throw std::runtime_error(what + ": the copy warm-up diverged (loss " + std::to_string(fb.mean_loss) +
                             "); lower pretrain.copy_warmup_lr");
}

}  // namespace

namespace {
// Erases section[key] when it holds `neutral` (a number compares by value, so 0 and 0.0 match).
void erase_if_neutral(nlohmann::json& section, const char* key, const nlohmann::json& neutral) {
  const auto it = section.find(key);
  if (it != section.end() && *it == neutral) section.erase(it);
}
}  // namespace

void PretrainConfig::validate(const ConfigCheck& c) const {
  if (copy_warmup_steps > 0 && epochs == 0)
    c.fail("copy_warmup_steps", "needs " + c.key("epochs") +
                                    " >= 1 (with 0 the random initialisation stands in and nothing is pre-trained)");
}

void drop_neutral_pretrain_fields(nlohmann::json& pretrain) {
  if (!pretrain.is_object()) return;
  if (!pretrain.contains("copy_warmup_steps")) pretrain["copy_warmup_steps"] = 0;  // a record from before the warm-up
  if (pretrain["copy_warmup_steps"] == 0)  // a warm-up that is off: none of its settings counts
    for (const char* key : {"copy_warmup_lr", "copy_warmup_restatements", "copy_warmup_suffixes"}) pretrain.erase(key);
  for (const char* key : {"copy_warmup_steps", "copy_warmup_restatements", "copy_warmup_suffixes"})
    erase_if_neutral(pretrain, key, 0);
  if (pretrain.contains("train") && pretrain["train"].is_object())
    erase_if_neutral(pretrain["train"], "length_micro_batches", false);  // added later; off = the older arithmetic
}

void drop_neutral_model_fields(nlohmann::json& model) {
  if (!model.is_object()) return;
  erase_if_neutral(model, "smeared_keys", false);
  // Pretrained-checkpoint architecture fields (added later): hashed only away from the plain block.
  if (model.value("sliding_window", 0) == 0) model.erase("sliding_window_from_layer");
  if (model.value("rope_scaling", std::string("none")) == "none")
    for (const char* key : {"rope_factor", "rope_low_freq_factor", "rope_high_freq_factor", "rope_original_max_pos"})
      model.erase(key);
  if (model.value("rope_scaling", std::string("none")) == "linear")
    for (const char* key : {"rope_low_freq_factor", "rope_high_freq_factor", "rope_original_max_pos"}) model.erase(key);
  erase_if_neutral(model, "head_dim", 0);
  erase_if_neutral(model, "qkv_bias", false);
  erase_if_neutral(model, "o_bias", false);
  erase_if_neutral(model, "qk_norm", false);
  erase_if_neutral(model, "sliding_window", 0);
  erase_if_neutral(model, "sliding_window_from_layer", 0);
  erase_if_neutral(model, "rope_scaling", "none");
}

void drop_neutral_world_fields(nlohmann::json& world) {
  if (world.is_object()) erase_if_neutral(world, "qa_span_first", false);
}

std::string pretrain_hash(const ModelConfig& model, const PretrainConfig& pre, const std::string& corpus_fingerprint) {
  nlohmann::json m = config_to_json(model), p = config_to_json(pre);
  drop_neutral_model_fields(m);
  drop_neutral_pretrain_fields(p);
  nlohmann::json j = {{"model", m},
                      {"pretrain", p},
                      {"corpus", corpus_fingerprint},
                      {"format", 1}};
  return config_hash(j);
}

DecoderModel trainable_copy(DecoderModel& base, const LoraConfig& lora, uint64_t init_seed) {
  DecoderModel m = clone_model(base);
  if (lora.rank > 0) m->add_adapters(lora, init_seed);
  m->train();
  return m;
}

PretrainedModel ensure_pretrained(const std::string& what, const ModelConfig& model_cfg, const PretrainConfig& pre,
                                  const BaseCorpus& corpus, const std::string& cache_dir, torch::Device device) {
  PretrainedModel out;
  out.hash = pretrain_hash(model_cfg, pre, corpus.fingerprint);
  if (pre.epochs == 0) {
    // No pre-training: the random initialisation stands in (paper_scale.json until real checkpoints load).
    LoraConfig none;
    none.rank = 0;
    out.model = DecoderModel(model_cfg, none, pre.init_seed);
    out.model->to(device);
    out.model->eval();
    log_line(what + ": pretrain.epochs = 0, using the random initialisation (nothing cached)");
    return out;
  }
  fs::path dir = fs::path(cache_dir) / "models";
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw std::runtime_error(dir.string() + ": cannot create the model cache folder (" + ec.message() +
                                   "); set runtime.cache_dir to a writable folder");
  out.path = (dir / (slug(what) + "-" + out.hash + ".safetensors")).string();
  FileLock lock(out.path + ".lock");

  ModelConfig mc = model_cfg;
  LoraConfig no_adapters;
  no_adapters.rank = 0;
  DecoderModel model(mc, no_adapters, pre.init_seed);
  model->to(device);
  TokenCache tokens = corpus_tokens(corpus.documents, mc.max_seq_len, pre.pack, pre.data_seed);
  Ledger ledger(device);
  Trainer trainer(model, pre.train, tokens, ledger, device, pre.data_seed);

  if (file_exists(out.path)) {
    try {
      nlohmann::json meta = trainer.load_checkpoint(out.path);
      out.from_cache = true;
      out.steps = trainer.step();
      if (meta.is_object() && meta.contains("final_loss") && meta["final_loss"].is_number())
        out.final_loss = meta["final_loss"].get<double>();
      log_line(what + ": loaded from cache " + out.path);
    } catch (const std::exception& e) {
      log_line(what + ": cached checkpoint unusable (" + e.what() + "); pre-training again");
      model = DecoderModel(mc, no_adapters, pre.init_seed);
      model->to(device);
      out.from_cache = false;
    }
  }
  if (!out.from_cache) {
    if (tokens.full.empty())
      throw std::runtime_error(what + ": the base corpus is empty; the world config produced no pre-training text");
    Trainer fresh(model, pre.train, tokens, ledger, device, pre.data_seed);
    std::vector<SampleId> ids(tokens.full.size());
    for (size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<SampleId>(i);
    int64_t bs = std::max(1, pre.train.batch_size);
    int64_t steps_per_epoch = (static_cast<int64_t>(ids.size()) + bs - 1) / bs;
    fresh.set_planned_total_steps(steps_per_epoch * pre.epochs);
    int64_t params = model->parameter_count(false);
    log_line(what + ": pre-training " + std::to_string(params) + " parameters on " + std::to_string(ids.size()) +
             " windows of <= " + std::to_string(mc.max_seq_len) + " tokens, " + std::to_string(pre.epochs) +
             " epochs (" + std::to_string(steps_per_epoch * pre.epochs) + " steps); cached afterwards");
    double t0 = now_seconds();
    if (!corpus.warmup_documents.empty()) copy_warmup(what, model, pre, corpus, mc.max_seq_len, ledger, device);
    for (int e = 0; e < pre.epochs; ++e) {
      RoundFeedback fb = fresh.train_round(ids, 1, Phase::offline_training);
      out.final_loss = fb.mean_loss;
      char line[200];
      std::snprintf(line, sizeof(line), "%s: epoch %d/%d  loss %.4f  %.0f tok/s  %.1f s", what.c_str(), e + 1,
                    pre.epochs, fb.mean_loss, fb.seconds > 0 ? fb.tokens / fb.seconds : 0.0, now_seconds() - t0);
      log_line(line);
      if (!std::isfinite(fb.mean_loss))
        throw std::runtime_error(what + ": pre-training diverged (loss " + std::to_string(fb.mean_loss) +
                                 "); lower pretrain.train.lr");
    }
    out.train_seconds = now_seconds() - t0;
    out.steps = fresh.step();
    nlohmann::json meta = {{"what", what},
                           {"hash", out.hash},
                           {"model", config_to_json(mc)},
                           {"pretrain", config_to_json(pre)},
                           {"corpus", corpus.fingerprint},
                           {"final_loss", out.final_loss},
                           {"train_seconds", out.train_seconds}};
    std::string tmp = out.path + ".tmp." + std::to_string(::getpid());
    fresh.save_checkpoint(tmp, meta);
    if (std::rename(tmp.c_str(), out.path.c_str()) != 0) {
      std::remove(tmp.c_str());
      throw std::runtime_error(out.path + ": cannot move the checkpoint into the cache");
    }
    log_line(what + ": saved " + out.path);
  }
  model->eval();
  out.model = model;
  return out;
}

}  // namespace lb
