// Pure scoring and ranking functions shared by the baseline selectors, kept free of models so that
// tests can check each selector's rule on hand-made score vectors.
#pragma once

#include "core/pool.h"

#include <cstdint>
#include <vector>

namespace lb {

// The k candidates with the highest (descending) or lowest score. Ties go to the smaller id;
// NaN scores rank after every number (in either direction). Returns ids in rank order.
std::vector<SampleId> top_k_by_score(const std::vector<SampleId>& candidates, const std::vector<double>& scores,
                                     int64_t k, bool descending);

// IFD(x) = conditioned response loss / response-only loss. NaN when either loss is NaN/infinite or
// the denominator is not positive (no response tokens left after truncation).
std::vector<double> ifd_scores(const std::vector<float>& conditioned_loss, const std::vector<float>& response_only_loss);

// Cherry LLM's rule: the k highest IFD among samples with IFD < 1. When fewer than k samples have
// a valid IFD < 1, the rest of the budget is filled with the lowest IFD >= 1 (closest to
// instruction-following), then with invalid ones by id; *filled counts those.
std::vector<SampleId> select_top_ifd(const std::vector<SampleId>& candidates, const std::vector<double>& ifd,
                                     int64_t k, int64_t* filled = nullptr);

// Active Instruction Tuning's prompt uncertainty of one sample: the mean over perturbations of
// |p(y | perturbed x) - p(y | x)| with p = exp(-mean response-token loss) (the authors' "Mean-abs-bald").
// NaN when the original loss is not finite; non-finite perturbed losses are skipped.
double prompt_uncertainty(float original_loss, const std::vector<float>& perturbed_losses);

// Splits `total` into `parts` sizes as even as possible (earlier parts get the remainder).
std::vector<int64_t> split_evenly(int64_t total, int parts);
// Splits `total` into `parts` sizes that are whole multiples of `batch`, as even as possible in
// batches (earlier parts get the extra batch), with the remainder total % batch added to the last
// part: one pass over all parts then takes ceil(total / batch) optimizer steps, as one pass over
// `total` samples does. With fewer whole batches than parts (or batch <= 0) it is split_evenly.
std::vector<int64_t> split_in_batches(int64_t total, int parts, int64_t batch);

}  // namespace lb
