// Batched text generation with a KV cache (greedy or seeded temperature/top-p sampling, left padding)
// and batched continuation log-likelihoods: the two request types the evaluator sends to a model.
#include "core/generate.h"

#include "core/eval_mode.h"
#include "core/seeds.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace lb {
namespace {

// The id used for padding: PAD when the vocabulary has it, else 0 (padding is never attended to).
int64_t pad_id(const DecoderModel& m) { return m->config().vocab_size > tok::kPad ? tok::kPad : 0; }

// Picks the next token from one row of logits: argmax when temperature is 0, otherwise a draw from
// softmax(logits / temperature) restricted to the smallest set of tokens whose mass reaches top_p.
int32_t choose_token(const float* logits, int64_t vocab, const GenerationOptions& opt, Rng& rng) {
  if (opt.temperature <= 0.0) {
    int64_t best = 0;
    for (int64_t i = 1; i < vocab; ++i)
      if (logits[i] > logits[best]) best = i;
    return static_cast<int32_t>(best);
  }
  double mx = logits[0];
  for (int64_t i = 1; i < vocab; ++i) mx = std::max(mx, static_cast<double>(logits[i]));
  std::vector<double> p(vocab);
  double total = 0;
  for (int64_t i = 0; i < vocab; ++i) total += (p[i] = std::exp((logits[i] - mx) / opt.temperature));
  std::vector<int32_t> order(vocab);
  std::iota(order.begin(), order.end(), 0);
  int64_t keep = vocab;
  if (opt.top_p < 1.0) {
    std::stable_sort(order.begin(), order.end(), [&](int32_t a, int32_t b) { return p[a] > p[b]; });
    double mass = 0;
    keep = 0;
    while (keep < vocab && (keep == 0 || mass < opt.top_p * total)) mass += p[order[keep++]];
    total = mass;
  }
  double u = rng.uniform() * total;
  for (int64_t k = 0; k < keep; ++k) {
    u -= p[order[k]];
    if (u < 0) return order[k];
  }
  return order[keep - 1];
}

// Position of the earliest stop string in `text`, or npos.
size_t first_stop(const std::string& text, const std::vector<std::string>& stops) {
  size_t best = std::string::npos;
  for (const auto& s : stops) {
    if (s.empty()) continue;
    size_t at = text.find(s);
    if (at < best) best = at;
  }
  return best;
}

void check_options(const GenerationOptions& o, size_t index) {
  auto fail = [&](const std::string& m) {
    throw std::invalid_argument("generate: request " + std::to_string(index) + ": " + m);
  };
  if (o.max_new_tokens < 0) fail("max_new_tokens must be >= 0");
  if (!(o.temperature >= 0.0)) fail("temperature must be >= 0 (0 = greedy)");
  if (!(o.top_p > 0.0 && o.top_p <= 1.0)) fail("top_p must be in (0, 1]");
}

struct Active {
  size_t request;            // index into the caller's requests
  std::vector<int32_t> out;  // generated ids
  std::string text;          // decoded text so far
  int budget;                // new tokens allowed
  Rng rng;
};

}  // namespace

std::vector<std::string> generate(DecoderModel& model, const ChatTokenizer& tok,
                                  const std::vector<GenerationRequest>& requests, torch::Device device, int batch_size,
                                  Ledger* ledger, Phase phase) {
  if (batch_size <= 0) throw std::invalid_argument("generate: batch_size must be > 0");
  for (size_t i = 0; i < requests.size(); ++i) check_options(requests[i].options, i);
  torch::NoGradGuard no_grad;
  EvalModeGuard eval_mode(model);
  const int64_t max_len = model->config().max_seq_len;
  const int64_t vocab = model->config().vocab_size;
  const int64_t pad = pad_id(model);

  // Prompts keep their last max_seq_len - 1 tokens (room for at least one new token); generation
  // stops when the sequence reaches max_seq_len, the longest the model was built for.
  std::vector<std::vector<int32_t>> prompts(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    const auto& p = requests[i].prompt;
    for (int32_t id : p)
      if (id < 0 || id >= vocab)
        throw std::invalid_argument("generate: request " + std::to_string(i) + " has token id " + std::to_string(id) +
                                    " outside the vocabulary of " + std::to_string(vocab));
    const size_t keep = std::min<size_t>(p.size(), static_cast<size_t>(max_len - 1));
    prompts[i].assign(p.end() - keep, p.end());
    if (prompts[i].empty()) prompts[i].push_back(vocab > tok::kBos ? tok::kBos : 0);
  }
  // Longest first, so that each batch holds prompts of similar length (little padding).
  std::vector<size_t> order(requests.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return prompts[a].size() > prompts[b].size(); });

  std::vector<std::string> results(requests.size());
  for (size_t start = 0; start < order.size(); start += batch_size) {
    std::vector<Active> rows;
    for (size_t j = start; j < std::min(order.size(), start + batch_size); ++j) {
      const size_t r = order[j];
      const auto& opt = requests[r].options;
      int budget = static_cast<int>(std::min<int64_t>(opt.max_new_tokens, max_len - static_cast<int64_t>(prompts[r].size())));
      if (budget <= 0) continue;
      rows.push_back(Active{r, {}, {}, budget, Rng::derive(opt.seed, "generate")});
    }
    if (rows.empty()) continue;
    const int64_t B = static_cast<int64_t>(rows.size());
    int64_t P = 0, real = 0;
    for (auto& a : rows) {
      P = std::max<int64_t>(P, prompts[a.request].size());
      real += prompts[a.request].size();
    }
    // Left padding: every prompt ends at column P-1, so new tokens line up across the batch.
    torch::Tensor ids = torch::full({B, P}, pad, torch::kLong);
    torch::Tensor mask = torch::zeros({B, P}, torch::kBool);
    torch::Tensor pos = torch::zeros({B, P}, torch::kLong);
    for (int64_t b = 0; b < B; ++b) {
      const auto& p = prompts[rows[b].request];
      const int64_t n = static_cast<int64_t>(p.size()), off = P - n;
      auto ida = ids.accessor<int64_t, 2>();
      auto ma = mask.accessor<bool, 2>();
      auto pa = pos.accessor<int64_t, 2>();
      for (int64_t t = 0; t < n; ++t) {
        ida[b][off + t] = p[t];
        ma[b][off + t] = true;
        pa[b][off + t] = t;
      }
    }
    mask = mask.to(device);
    torch::Tensor next_pos = pos.select(1, P - 1).unsqueeze(1).to(device) + 1;  // [B, 1]
    KVCache cache;
    torch::Tensor logits = model->forward_cached(ids.to(device), cache, mask, pos.to(device)).select(1, P - 1);
    if (ledger) ledger->add_forward(phase, real, B * P, B);

    while (true) {
      torch::Tensor host = logits.to(torch::kCPU, torch::kFloat32).contiguous();
      const float* lp = host.data_ptr<float>();
      std::vector<int64_t> keep_rows;
      std::vector<int64_t> next_ids;
      for (size_t b = 0; b < rows.size(); ++b) {
        Active& a = rows[b];
        const int32_t id = choose_token(lp + b * vocab, vocab, requests[a.request].options, a.rng);
        bool done = false;
        if (tok.is_stop(id)) {
          done = true;
        } else {
          a.out.push_back(id);
          a.text = tok.decode(a.out);  // whole: a multi-byte character or a merged space may span tokens
          const size_t at = first_stop(a.text, requests[a.request].options.stop);
          if (at != std::string::npos) {
            a.text.resize(at);
            done = true;
          }
          if (static_cast<int>(a.out.size()) >= a.budget) done = true;
        }
        if (done) {
          results[a.request] = a.text;
        } else {
          keep_rows.push_back(static_cast<int64_t>(b));
          next_ids.push_back(id);
        }
      }
      if (keep_rows.empty()) break;
      if (keep_rows.size() != rows.size()) {  // drop finished rows from the batch and the cache
        std::vector<Active> kept;
        for (int64_t b : keep_rows) kept.push_back(std::move(rows[b]));
        rows = std::move(kept);
        torch::Tensor idx = torch::tensor(keep_rows, torch::kLong).to(device);
        for (size_t l = 0; l < cache.k.size(); ++l) {
          cache.k[l] = cache.k[l].index_select(0, idx);
          cache.v[l] = cache.v[l].index_select(0, idx);
          if (l < cache.k_last.size() && cache.k_last[l].defined()) cache.k_last[l] = cache.k_last[l].index_select(0, idx);
        }
        mask = mask.index_select(0, idx);
        next_pos = next_pos.index_select(0, idx);
      }
      const int64_t n = static_cast<int64_t>(rows.size());
      torch::Tensor step_ids = torch::tensor(next_ids, torch::kLong).view({n, 1}).to(device);
      mask = torch::cat({mask, torch::ones({n, 1}, mask.options())}, 1);
      logits = model->forward_cached(step_ids, cache, mask, next_pos).select(1, 0);
      next_pos = next_pos + 1;
      if (ledger) ledger->add_forward(phase, n, n, 0);
    }
  }
  return results;
}

std::vector<std::vector<int32_t>> greedy_token_ids(DecoderModel& model, const std::vector<std::vector<int32_t>>& prompts,
                                                   int max_new_tokens, const std::vector<int64_t>& stop_ids,
                                                   torch::Device device) {
  if (max_new_tokens < 0) throw std::invalid_argument("greedy_token_ids: max_new_tokens must be >= 0");
  const int64_t vocab = model->config().vocab_size, max_len = model->config().max_seq_len;
  int64_t P = 0;
  for (size_t i = 0; i < prompts.size(); ++i) {
    auto fail = [&](const std::string& m) {
      throw std::invalid_argument("greedy_token_ids: prompt " + std::to_string(i) + ": " + m);
    };
    if (prompts[i].empty()) fail("is empty");
    if (static_cast<int64_t>(prompts[i].size()) + max_new_tokens > max_len)
      fail("with max_new_tokens it exceeds max_seq_len " + std::to_string(max_len));
    for (int32_t id : prompts[i])
      if (id < 0 || id >= vocab) fail("token id " + std::to_string(id) + " is outside the vocabulary");
    P = std::max<int64_t>(P, prompts[i].size());
  }
  std::vector<std::vector<int32_t>> out(prompts.size());
  if (prompts.empty() || max_new_tokens == 0) return out;
  torch::NoGradGuard no_grad;
  EvalModeGuard eval_mode(model);
  const int64_t B = static_cast<int64_t>(prompts.size());
  torch::Tensor ids = torch::zeros({B, P}, torch::kLong), mask = torch::zeros({B, P}, torch::kBool),
                pos = torch::zeros({B, P}, torch::kLong);
  for (int64_t b = 0; b < B; ++b) {
    const int64_t n = static_cast<int64_t>(prompts[b].size()), off = P - n;
    for (int64_t t = 0; t < n; ++t) {
      ids[b][off + t] = prompts[b][t];
      mask[b][off + t] = true;
      pos[b][off + t] = t;
    }
  }
  mask = mask.to(device);
  torch::Tensor next_pos = pos.select(1, P - 1).unsqueeze(1).to(device) + 1;
  KVCache cache;
  torch::Tensor logits = model->forward_cached(ids.to(device), cache, mask, pos.to(device)).select(1, P - 1);
  std::vector<bool> done(prompts.size(), false);
  for (int step = 0; step < max_new_tokens; ++step) {
    torch::Tensor next = logits.to(torch::kFloat32).argmax(-1).to(torch::kCPU);  // [B]
    bool all_done = true;
    for (int64_t b = 0; b < B; ++b) {
      if (done[b]) continue;
      const int64_t id = next[b].item<int64_t>();
      out[b].push_back(static_cast<int32_t>(id));
      if (std::find(stop_ids.begin(), stop_ids.end(), id) != stop_ids.end()) done[b] = true;
      all_done = all_done && done[b];
    }
    if (all_done || step + 1 == max_new_tokens) break;
    mask = torch::cat({mask, torch::ones({B, 1}, mask.options())}, 1);  // finished rows run on, unused
    logits = model->forward_cached(next.view({B, 1}).to(device), cache, mask, next_pos).select(1, 0);
    next_pos = next_pos + 1;
  }
  return out;
}

std::vector<double> continuation_logprobs(
    DecoderModel& model, const std::vector<std::pair<std::vector<int32_t>, std::vector<int32_t>>>& pairs,
    torch::Device device, int64_t max_batch_tokens, Ledger* ledger, Phase phase) {
  torch::NoGradGuard no_grad;
  EvalModeGuard eval_mode(model);
  const int64_t max_len = model->config().max_seq_len;
  const int64_t vocab = model->config().vocab_size;
  const int64_t pad = pad_id(model);

  // Each pair becomes inputs (context + continuation without its last token, left-truncated to
  // max_seq_len) whose last `n_cont` next-token predictions are the continuation's tokens.
  struct Item {
    std::vector<int32_t> full;  // the kept window: inputs are full[0..n-2], targets full[1..n-1]
    int64_t n_cont;
  };
  std::vector<Item> items(pairs.size());
  for (size_t i = 0; i < pairs.size(); ++i) {
    const auto& [ctx, cont] = pairs[i];
    auto fail = [&](const std::string& m) {
      throw std::invalid_argument("continuation_logprobs: pair " + std::to_string(i) + ": " + m);
    };
    if (ctx.empty()) fail("the context is empty; start it with BOS so the first continuation token has a context");
    if (cont.empty()) fail("the continuation is empty");
    if (static_cast<int64_t>(cont.size()) > max_len)
      fail("the continuation has " + std::to_string(cont.size()) + " tokens, more than max_seq_len " + std::to_string(max_len));
    std::vector<int32_t> full(ctx);
    full.insert(full.end(), cont.begin(), cont.end());
    for (int32_t id : full)
      if (id < 0 || id >= vocab) fail("token id " + std::to_string(id) + " is outside the vocabulary");
    const size_t window = static_cast<size_t>(max_len + 1);
    if (full.size() > window) full.erase(full.begin(), full.end() - window);
    items[i] = Item{std::move(full), static_cast<int64_t>(cont.size())};
  }
  std::vector<size_t> order(items.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return items[a].full.size() > items[b].full.size(); });

  std::vector<double> result(items.size(), 0.0);
  size_t start = 0;
  while (start < order.size()) {
    const int64_t T = static_cast<int64_t>(items[order[start]].full.size()) - 1;  // longest inputs of the batch
    size_t end = start + 1;
    while (end < order.size() && static_cast<int64_t>(end - start + 1) * T <= max_batch_tokens) ++end;
    const int64_t B = static_cast<int64_t>(end - start);
    torch::Tensor ids = torch::full({B, T}, pad, torch::kLong);
    torch::Tensor targets = torch::zeros({B, T}, torch::kLong);
    torch::Tensor scored = torch::zeros({B, T}, torch::kBool);
    int64_t real = 0;
    {
      auto ia = ids.accessor<int64_t, 2>();
      auto ta = targets.accessor<int64_t, 2>();
      auto sa = scored.accessor<bool, 2>();
      for (int64_t b = 0; b < B; ++b) {
        const Item& it = items[order[start + b]];
        const int64_t n = static_cast<int64_t>(it.full.size()) - 1;
        real += n;
        for (int64_t t = 0; t < n; ++t) {
          ia[b][t] = it.full[t];
          ta[b][t] = it.full[t + 1];
          sa[b][t] = t >= n - it.n_cont;
        }
      }
    }
    torch::Tensor logits = model->forward(ids.to(device));
    torch::Tensor lp = torch::log_softmax(logits.to(torch::kFloat32), -1).gather(-1, targets.to(device).unsqueeze(-1)).squeeze(-1);
    torch::Tensor sums = (lp.to(torch::kFloat64) * scored.to(device).to(torch::kFloat64)).sum(1).to(torch::kCPU);
    auto sa = sums.accessor<double, 1>();
    for (int64_t b = 0; b < B; ++b) result[order[start + b]] = sa[b];
    if (ledger) ledger->add_forward(phase, real, B * T, B);
    start = end;
  }
  return result;
}

}  // namespace lb
