// The base model (standing in for the pretrained LLM) and the smaller proxy model (Superfiltering):
// pre-trained once on the world's base corpus, cached under cache_dir by a hash of everything that
// determines their weights, and reused by every later run (a file lock keeps parallel runs from
// training the same model twice).
#pragma once

#include "core/model.h"
#include "core/trainer.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace lb {

struct PretrainConfig {
  int epochs = 4;              // passes over the (packed) base corpus
  uint64_t init_seed = 11;     // weight init of the base model (fixed across run seeds: one "LLM")
  uint64_t data_seed = 12;     // order of corpus documents
  bool pack = true;            // documents concatenated into full windows (no padding), as LMs are pre-trained
  int copy_warmup_steps = 0;   // optimizer steps on copy documents alone before the corpus (0: none)
  double copy_warmup_lr = 1e-3;  // constant learning rate of the copy warm-up
  double copy_warmup_restatements = 0;  // share of warm-up documents that are passages with their facts restated
  double copy_warmup_suffixes = 0;      // share of the warm-up's echoes that repeat the line from a random word on
  TrainConfig train = [] {
    TrainConfig t;
    t.lr = 3e-3;
    t.schedule = "cosine";
    t.warmup_steps = 20;
    t.min_lr_ratio = 0.1;
    t.batch_size = 32;
    t.sketch = "none";
    t.epochs = 1;
    return t;
  }();

  template <class V> void visit(V& v) {
    v.field("epochs", epochs, "passes over the base corpus when pre-training the base and proxy models", AtLeast{0});
    v.field("init_seed", init_seed, "weight init of the base model; fixed across run seeds so every run tunes the same 'LLM'");
    v.field("data_seed", data_seed, "order of the corpus documents during pre-training");
    v.field("pack", pack, "concatenate the documents (shuffled by data_seed) into full max_seq_len windows: no padding, ~1.6x the tokens per second of one document per window");
    v.field("copy_warmup_steps", copy_warmup_steps, "optimizer steps on copy documents alone (echoes, one per window) before the corpus, so that the model learns to copy from its context; 0 = none", AtLeast{0});
    v.field("copy_warmup_lr", copy_warmup_lr, "constant learning rate of the copy warm-up", Positive{});
    v.field("copy_warmup_restatements", copy_warmup_restatements, "share of the copy warm-up's documents that are passages with their facts restated (the look-up syn_tydiqa needs) instead of echoes", Range{0, 1});
    v.field("copy_warmup_suffixes", copy_warmup_suffixes, "share of the copy warm-up's echoes that repeat their line from a random word on (suffix echoes: copying them needs a look-up by content, as extractive QA does)", Range{0, 1});
    v.section("train", train, "optimizer and schedule of pre-training (cosine decay to 10 %)");
  }
  // A copy warm-up needs pre-training to run (epochs >= 1).
  void validate(const ConfigCheck& c) const;
};

// What pre-training needs to know about the world, independent of how it was generated.
struct BaseCorpus {
  std::vector<std::string> documents;  // plain text
  std::vector<std::string> warmup_documents;  // the copy warm-up's documents (empty: no warm-up)
  std::string fingerprint;             // changes whenever the documents change (a hash of the world config)
};

struct PretrainedModel {
  DecoderModel model{nullptr};  // no adapters, on the requested device, eval mode
  std::string hash;             // cache key
  std::string path;             // checkpoint file
  bool from_cache = false;
  double train_seconds = 0;     // 0 when loaded from the cache
  int64_t steps = 0;
  double final_loss = 0;
};

// Knobs added after results were committed are left out of every hash while they hold their neutral
// value, so that models and records made before they existed keep their hashes: the copy warm-up's
// fields while it is off (its rate cannot change the weights then), copy_warmup_restatements and
// copy_warmup_suffixes while 0, smeared_keys while false, the pretrained-checkpoint architecture fields
// (head_dim, biases, qk_norm, sliding window, rope scaling) at the plain block's values,
// world.qa_span_first while false. Each takes
// a config section as JSON (resolved, or as an older record stored it).
void drop_neutral_pretrain_fields(nlohmann::json& pretrain);
void drop_neutral_model_fields(nlohmann::json& model);
void drop_neutral_world_fields(nlohmann::json& world);

// The cache key: a hash of the model config, pretrain config and corpus fingerprint.
std::string pretrain_hash(const ModelConfig& model, const PretrainConfig& pre, const std::string& corpus_fingerprint);

// Loads the model from cache_dir or pre-trains it (then saves it atomically). `what` names it in
// progress lines ("base model", "proxy model").
PretrainedModel ensure_pretrained(const std::string& what, const ModelConfig& model, const PretrainConfig& pre,
                                  const BaseCorpus& corpus, const std::string& cache_dir, torch::Device device);

// A deep copy of `base` with the given adapter setup (rank 0: all weights trainable).
DecoderModel trainable_copy(DecoderModel& base, const LoraConfig& lora, uint64_t init_seed);

}  // namespace lb
