// Settings of the baseline selectors (static and iterative model-aware), each with its default and
// where that default comes from. baselines/README.md explains the choices at length.
#pragma once

#include <cstdint>
#include <string>

namespace lb {

struct BaselineConfig {
  // --- IFD (Cherry LLM) warm-up ("pre-experienced") model ---
  double warmup_fraction = 0.01;   // share of the pool trained into the warm-up model (Cherry: 1k of 52k Alpaca ~ 2 %; LEAD's own warm-up: 1 %)
  int64_t warmup_min_samples = 16; // floor on the warm-up subset so tiny pools still get one batch
  int warmup_epochs = 1;           // passes over the warm-up subset (Cherry trains its pre-experienced model 1 epoch)
  std::string warmup_sampling = "random";  // random | kmeans (Cherry: k-means on embeddings, a few samples per cluster)
  int64_t warmup_clusters = 100;   // kmeans warm-up: clusters (Cherry: 100 clusters x 10 samples)
  int kmeans_iterations = 20;      // Lloyd iterations of the warm-up k-means

  // --- iterative model-aware selectors ---
  std::string train_mode = "new";  // new: each round trains only its new picks (ctx.epochs passes) | cumulative: everything selected so far
  int iterative_ifd_rounds = 5;    // rounds of iterative IFD; the budget is split evenly over them
  int diverse_evol_rounds = 10;    // DiverseEvol: k-center rounds after the random seed set (paper: 100 random + 10 x 100)
  std::string kcenter_metric = "l2";  // l2 (DiverseEvol's code: Euclidean on raw mean-pooled states) | cosine
  int64_t kcenter_block_rows = 4096;  // rows per block of the distance computation (memory bound)
  int prompt_uncertainty_rounds = 5;  // AIT: uncertainty rounds after the random seed set (authors' pipeline: max_iter 5)
  int perturbations = 10;          // AIT: perturbed prompts per sample (authors: perturb_num 10)
  double drop_rate = 0.2;          // AIT: probability of dropping each instruction token (authors: 0.2)
  int64_t perturb_chunk = 2048;    // samples whose perturbed prompts are scored together (bounds memory, not results)

  template <class V> void visit(V& v) {
    v.field("warmup_fraction", warmup_fraction, "IFD warm-up subset as a share of the pool; Cherry ~2 %, LEAD's warm-up 1 %");
    v.field("warmup_min_samples", warmup_min_samples, "smallest warm-up subset, so tiny pools still train a batch");
    v.field("warmup_epochs", warmup_epochs, "passes over the warm-up subset; Cherry trains the pre-experienced model 1 epoch");
    v.field("warmup_sampling", warmup_sampling, "random | kmeans (Cherry clusters base-model embeddings and samples evenly per cluster)");
    v.field("warmup_clusters", warmup_clusters, "k of the kmeans warm-up sampling; Cherry uses 100");
    v.field("kmeans_iterations", kmeans_iterations, "Lloyd iterations of the warm-up k-means");
    v.field("train_mode", train_mode, "iterative selectors: new (train each round's new picks, same compute as static) | cumulative (retrain all selected so far, as the papers do from scratch)");
    v.field("iterative_ifd_rounds", iterative_ifd_rounds, "rounds of iterative IFD, budget split evenly");
    v.field("diverse_evol_rounds", diverse_evol_rounds, "DiverseEvol k-center rounds after a random seed set of the same size (paper: 100 + 10 x 100)");
    v.field("kcenter_metric", kcenter_metric, "k-center distance: l2 (DiverseEvol's code) | cosine");
    v.field("kcenter_block_rows", kcenter_block_rows, "rows per block of k-center distance computations (memory only)");
    v.field("prompt_uncertainty_rounds", prompt_uncertainty_rounds, "Active Instruction Tuning rounds after a random seed set (authors: 5 iterations)");
    v.field("perturbations", perturbations, "perturbed prompts per sample (authors: 10)");
    v.field("drop_rate", drop_rate, "probability of dropping each instruction token in a perturbed prompt (authors: 0.2)");
    v.field("perturb_chunk", perturb_chunk, "samples whose perturbed prompts are scored per engine call (memory only)");
  }
};

}  // namespace lb
