// Teacher-forced copy accuracy; see copy_probe.h.
#include "evaluation/copy_probe.h"

#include "core/sequence_batch.h"
#include "core/tokenizer.h"

#include <algorithm>
#include <stdexcept>

namespace lb {

namespace {
double pct(int64_t ok, int64_t n) { return n > 0 ? 100.0 * static_cast<double>(ok) / static_cast<double>(n) : 0.0; }
}  // namespace

nlohmann::json CopyScore::to_json() const {
  return {{"spans", spans},
          {"first_char_correct", first_ok},
          {"first_char_pct", pct(first_ok, spans)},
          {"rest_tokens", rest_tokens},
          {"rest_correct", rest_ok},
          {"rest_pct", pct(rest_ok, rest_tokens)},
          {"whole_span_correct", whole_ok},
          {"whole_span_pct", pct(whole_ok, spans)}};
}

std::map<std::string, CopyScore> score_copy_spans(const std::vector<CopySpan>& spans, const ArgmaxFn& argmax) {
  std::vector<std::vector<int32_t>> seqs;
  seqs.reserve(spans.size());
  for (const auto& s : spans) {
    if (!(s.begin >= 1 && s.begin < s.first_end && s.first_end <= s.end && s.end <= s.tokens.size()))
      throw std::invalid_argument("copy probe: span [" + std::to_string(s.begin) + ", " + std::to_string(s.end) +
                                  ") with first character ending at " + std::to_string(s.first_end) +
                                  " does not fit a sequence of " + std::to_string(s.tokens.size()) + " tokens");
    seqs.push_back(s.tokens);
  }
  const auto pred = argmax(seqs);
  if (pred.size() != spans.size()) throw std::invalid_argument("copy probe: the predictor returned the wrong count");
  std::map<std::string, CopyScore> out;
  for (size_t k = 0; k < spans.size(); ++k) {
    const CopySpan& s = spans[k];
    if (pred[k].size() + 1 < s.end) throw std::invalid_argument("copy probe: the predictor returned too few positions");
    CopyScore& sc = out[s.group.empty() ? s.kind : s.kind + "/" + s.group];
    bool first = true, whole = true;
    for (size_t i = s.begin; i < s.end; ++i) {
      const bool ok = pred[k][i - 1] == s.tokens[i];
      whole &= ok;
      if (i < s.first_end) {
        first &= ok;
      } else {
        ++sc.rest_tokens;
        sc.rest_ok += ok;
      }
    }
    ++sc.spans;
    sc.first_ok += first;
    sc.whole_ok += whole;
  }
  return out;
}

ArgmaxFn model_argmax(DecoderModel& model, torch::Device device, int batch_size) {
  return [&model, device, batch_size](const std::vector<std::vector<int32_t>>& seqs) {
    torch::NoGradGuard no_grad;
    model->eval();
    std::vector<std::vector<int32_t>> out(seqs.size());
    for (size_t from = 0; from < seqs.size(); from += static_cast<size_t>(batch_size)) {
      const size_t to = std::min(seqs.size(), from + static_cast<size_t>(batch_size));
      // The trainer's right-padded batches: inputs are tokens[0 .. L-2], so out[s][i] predicts
      // tokens[i + 1] for every position a span can score.
      std::vector<Encoded> enc(to - from);
      std::vector<const Encoded*> ptrs;
      for (size_t s = from; s < to; ++s) {
        enc[s - from].ids = seqs[s];
        enc[s - from].loss_mask.assign(seqs[s].size(), 1);
        ptrs.push_back(&enc[s - from]);
      }
      TokenBatch batch = make_token_batch(ptrs, 0, device);
      torch::Tensor best = model->forward(batch.inputs).argmax(-1).to(torch::kCPU).to(torch::kLong).contiguous();
      auto b = best.accessor<int64_t, 2>();
      for (size_t s = from; s < to; ++s) {
        const int64_t n = batch.lengths[s - from];
        out[s].resize(static_cast<size_t>(n));
        for (int64_t i = 0; i < n; ++i) out[s][static_cast<size_t>(i)] = static_cast<int32_t>(b[static_cast<int64_t>(s - from)][i]);
      }
    }
    return out;
  };
}

}  // namespace lb
