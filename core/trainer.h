// The one trainer every selector shares: AdamW, gradient accumulation and clipping, LR schedules,
// bf16 autocast on CUDA, and in-loop by-products that selectors may use at no extra cost:
// each sample's mean response-token loss (from the same forward pass as the update) and, when the
// selector asks for it (Selector::wants_gradient_sketch), a sketch of the round's mean gradient
// (LEAD's loss-change estimate).
#pragma once

#include "core/distributed.h"
#include "core/ledger.h"
#include "core/model.h"
#include "core/pool.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

namespace lb {

struct TrainConfig {
  double lr = 1e-3;                   // peak learning rate (small models from scratch-ish want ~1e-3)
  std::string schedule = "constant";  // constant | linear | cosine | step_decay
  int64_t warmup_steps = 0;           // linear warm-up steps (linear, cosine)
  int64_t decay_every = 8;            // step_decay: lr * decay_rate^(step / decay_every), LEAD's authors: 8
  double decay_rate = 0.995;          // step_decay factor, LEAD's authors: 0.995
  double min_lr_ratio = 0.0;          // linear/cosine floor as a fraction of lr
  int batch_size = 16;                // samples per optimizer step (effective batch), authors: 16
  int micro_batch_size = 0;           // samples per forward/backward; 0 = batch_size (no accumulation)
  double weight_decay = 0.0;          // AdamW decoupled weight decay
  double beta1 = 0.9;                 // AdamW
  double beta2 = 0.999;               // AdamW
  double eps = 1e-8;                  // AdamW
  double grad_clip = 1.0;             // max global grad norm; <= 0 disables
  bool bf16 = true;                   // bf16 autocast on CUDA (ignored on CPU)
  std::string sketch = "last_block";  // gradient sketch: last_block | countsketch | all | none
  int64_t sketch_dim = 4096;          // countsketch dimension
  int epochs = 3;                     // passes over the selected data for static selectors
  bool length_micro_batches = false;  // split each batch into micro-batches of similar length (less padding); off: bit-identical to older runs

  template <class V> void visit(V& v) {
    v.field("lr", lr, "peak learning rate", AtLeast{0});
    v.field("schedule", schedule, "constant | linear | cosine | step_decay (lr*0.995^(step//8), LEAD's authors)", OneOf{"constant", "linear", "cosine", "step_decay"});
    v.field("warmup_steps", warmup_steps, "linear warm-up steps for linear/cosine schedules", AtLeast{0});
    v.field("decay_every", decay_every, "step_decay period k in lr*rate^(step//k); authors use 8", Positive{});
    v.field("decay_rate", decay_rate, "step_decay factor; authors use 0.995", Positive{});
    v.field("min_lr_ratio", min_lr_ratio, "floor of linear/cosine decay as a fraction of lr", Range{0, 1});
    v.field("batch_size", batch_size, "samples per optimizer step (effective batch); authors use 16", Positive{});
    v.field("micro_batch_size", micro_batch_size, "samples per forward/backward; 0 = batch_size, smaller accumulates gradients", AtLeast{0});
    v.field("weight_decay", weight_decay, "AdamW decoupled weight decay", AtLeast{0});
    v.field("beta1", beta1, "AdamW first-moment decay", Range{0, 1, "[)"});
    v.field("beta2", beta2, "AdamW second-moment decay", Range{0, 1, "[)"});
    v.field("eps", eps, "AdamW epsilon", Positive{});
    v.field("grad_clip", grad_clip, "clip the global gradient norm to this; <= 0 disables");
    v.field("bf16", bf16, "bf16 autocast on CUDA; CPU always runs fp32");
    v.field("sketch", sketch, "in-loop gradient sketch for LEAD: last_block | countsketch | all (exact, small models) | none", OneOf{"last_block", "countsketch", "all", "none"});
    v.field("sketch_dim", sketch_dim, "dimension of the countsketch of all trainable parameters", Positive{});
    v.field("epochs", epochs, "passes over the selected data for select-once selectors", AtLeast{0});
    v.field("length_micro_batches", length_micro_batches,
            "split each optimizer batch (the same samples, the same step) into micro-batches of similar length, so that little compute goes to padding; the gradient is the same sum, rounded in another order, so results differ from off in the last bits (off = the committed records' arithmetic)");
  }
};

// Learning rate at optimizer step `step` (0-based) of `total_steps`; a pure function.
double lr_at(const TrainConfig& cfg, int64_t step, int64_t total_steps);

// A NaN or infinite loss: names the step and the samples of the batch.
struct TrainingError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// What one call of train_round hands back.
struct RoundFeedback {
  int64_t round = 0;                // 0-based count of train_round calls on this trainer
  std::vector<SampleId> ids;        // unique samples trained, in first-trained order
  std::vector<float> losses;        // per id: mean response-token loss from its last forward pass this round
  torch::Tensor grad_mean;          // mean gradient sketch over the round's optimizer steps, 1-D float32 on CPU
                                    // (undefined when sketch = none); a fresh tensor every round,
                                    // which a selector may keep (LEAD does) - nobody writes to it later
  double grad_norm = 0;             // ||grad_mean||
  double lr_mean = 0;               // mean learning rate over the round's steps (eta_t of LEAD)
  int64_t steps = 0;                // optimizer steps taken
  int64_t tokens = 0;               // real tokens trained (forward = backward)
  double mean_loss = 0;             // mean of `losses`
  double seconds = 0;               // wall time of the round
};

class Trainer {
 public:
  // Trains `model` in place on sequences from tokens.full; timings and token counts go to `ledger`.
  Trainer(DecoderModel model, const TrainConfig& cfg, const TokenCache& tokens, Ledger& ledger,
          torch::Device device, uint64_t data_order_seed);

  // Trains `epochs` passes over `ids` (shuffled per pass with the data-order seed), in batches of
  // cfg.batch_size. Time and tokens are charged to `phase`.
  RoundFeedback train_round(const std::vector<SampleId>& ids, int epochs = 1, Phase phase = Phase::training);

  // Schedules that decay (linear, cosine) need the planned total; others ignore it.
  void set_planned_total_steps(int64_t total) { planned_total_ = total; }
  // Whether train_round computes the gradient sketch of cfg.sketch (on by default; the runner turns
  // it off for selectors that do not read it). Off, RoundFeedback::grad_mean stays undefined; the
  // sketch only reads gradients, so the update is the same either way.
  void set_gradient_sketch(bool on) { sketch_on_ = on; }
  bool gradient_sketch() const { return sketch_on_ && cfg_.sketch != "none"; }
  // Optimizer steps whose gradient was sketched, over this trainer's life.
  int64_t sketched_steps() const { return sketched_steps_; }
  int64_t step() const { return step_; }
  // Data parallelism (core/distributed.h): with a process group of W ranks, every optimizer batch
  // is split among the ranks (positions r, r+W, ... go to rank r, each cut into micro-batches of
  // micro_batch_size), the gradients are summed over the ranks in one flat all-reduce (each rank's
  // loss is already divided by the whole batch's sample count, so the sum is the one-rank gradient),
  // and every rank clips and steps the same gradient. Per-sample losses and token counts are
  // all-gathered into the batch's order, and the sketch reads the summed gradient: RoundFeedback is
  // the same on every rank, so selectors decide alike everywhere. Every rank must call train_round
  // with the same ids. Setting it broadcasts rank 0's trainable weights (as DDP does). Null: alone.
  void set_process_group(ProcessGroupPtr pg);
  const ProcessGroupPtr& process_group() const { return pg_; }
  DecoderModel& model() { return model_; }
  const TrainConfig& config() const { return cfg_; }

  // safetensors checkpoint: weights, AdamW state, RNG state, step, and `resolved_config`.
  void save_checkpoint(const std::string& path, const nlohmann::json& resolved_config);
  // Restores a checkpoint written by save_checkpoint; resuming continues bit-exactly on CPU.
  // Throws InputError for a truncated/corrupt file or one whose tensors do not match the model.
  nlohmann::json load_checkpoint(const std::string& path);

 private:
  DecoderModel model_;
  TrainConfig cfg_;
  const TokenCache& tokens_;
  Ledger& ledger_;
  torch::Device device_;
  uint64_t data_order_seed_;
  std::unique_ptr<torch::optim::AdamW> opt_;
  int64_t step_ = 0;
  int64_t round_ = 0;
  int64_t planned_total_ = 0;
  uint64_t shuffle_counter_ = 0;
  bool sketch_on_ = true;
  bool sketch_ready_ = false;   // countsketch buckets and signs built (on first use)
  int64_t sketched_steps_ = 0;

  ProcessGroupPtr pg_;                        // data-parallel ranks; null: this process alone
  std::vector<torch::Tensor> params_;         // model_->trainable_parameters(), the optimizer's
  std::vector<std::string> param_names_;      // their named_parameters names (checkpoints)
  std::vector<torch::Tensor> sketch_params_;  // last_block / all: parameters whose gradients are sketched
  torch::Tensor sketch_index_;                // countsketch: bucket of every trainable coordinate [N] int64
  torch::Tensor sketch_sign_;                 // countsketch: +-1 of every trainable coordinate [N] float32
  torch::Tensor current_sketch();             // the current .grad of the tracked parameters, 1-D float32
  void build_countsketch();                   // sketch_index_ / sketch_sign_
  void set_lr(double lr);
  // Sums every trainable parameter's gradient over the ranks (one flat buffer); a gradient stays
  // undefined only where it is undefined on every rank, as AdamW then skips it alike.
  void all_reduce_gradients();
  // Data-parallel forward/backward of this rank's share of `batch`; fills fb's ids and losses, in
  // the batch's order, from every rank's, and returns the batch's real tokens (all ranks).
  int64_t forward_backward_shard(const std::vector<SampleId>& batch, int64_t mbs, int64_t max_input, int64_t n_valid,
                                 Phase phase, double lr, RoundFeedback& fb,
                                 std::unordered_map<SampleId, size_t>& slot, double& loss_sum);
  // Positions into `batch` of each forward/backward of one optimizer step (length_micro_batches).
  std::vector<std::vector<size_t>> micro_batches(const std::vector<SampleId>& batch, int64_t mbs, int64_t max_input) const;
};

}  // namespace lb
