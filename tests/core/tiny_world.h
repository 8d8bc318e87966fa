// Test helpers for the trainer and inference tests: a tiny model, random chat samples, and the
// naive one-sequence-at-a-time loss that batched code is checked against.
#pragma once

#include "core/model.h"
#include "core/pool.h"
#include "core/seeds.h"
#include "core/tokenizer.h"

#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace lb::testing {

inline ModelConfig tiny_model_config(int max_seq_len = 64) {
  ModelConfig c;
  c.d_model = 32;
  c.n_layers = 2;
  c.n_heads = 2;
  c.n_kv_heads = 2;
  c.d_ff = 64;
  c.max_seq_len = max_seq_len;
  return c;
}

inline std::string random_text(Rng& rng, int len) {
  std::string s;
  for (int i = 0; i < len; ++i) s.push_back(static_cast<char>('a' + rng.below(26)));
  return s;
}

// n chats (user, assistant) with total lengths roughly in [min_len, max_len] tokens.
inline std::vector<std::vector<Message>> random_chats(int n, uint64_t seed, int min_len = 10, int max_len = 60) {
  Rng rng(seed);
  std::vector<std::vector<Message>> out;
  for (int i = 0; i < n; ++i) {
    const int total = min_len + static_cast<int>(rng.below(static_cast<uint64_t>(max_len - min_len + 1)));
    const int body = std::max(2, total - 5);  // BOS, USER, END, ASSISTANT, END
    const int user = 1 + static_cast<int>(rng.below(static_cast<uint64_t>(body - 1)));
    out.push_back({{"user", random_text(rng, user)}, {"assistant", random_text(rng, body - user)}});
  }
  return out;
}

inline TokenCache tokens_of(const std::vector<std::vector<Message>>& chats, int max_len) {
  ByteTokenizer tok;
  TokenCache tc;
  tc.max_len = max_len;
  for (const auto& c : chats) {
    tc.full.push_back(tok.encode_chat(c, max_len));
    tc.response_only.push_back(tok.encode_response_only(c, max_len));
  }
  return tc;
}

// The oracle: mean target-token cross-entropy of one sequence, alone, by log_softmax + gather.
inline torch::Tensor reference_loss(DecoderModel& model, const Encoded& e) {
  const int64_t n = static_cast<int64_t>(e.ids.size()) - 1;
  std::vector<int64_t> in(e.ids.begin(), e.ids.begin() + n);
  auto logits = model->forward(torch::tensor(in, torch::kInt64).view({1, n}))[0];
  auto logp = torch::log_softmax(logits, -1);
  torch::Tensor sum = torch::zeros({}, torch::kFloat32);
  int64_t count = 0;
  for (int64_t t = 0; t < n; ++t)
    if (e.loss_mask[t + 1]) {
      sum = sum - logp[t][e.ids[t + 1]];
      ++count;
    }
  return count ? sum / static_cast<double>(count) : torch::full({}, std::nan(""));
}

inline std::vector<SampleId> iota_ids(int n) {
  std::vector<SampleId> ids(n);
  for (int i = 0; i < n; ++i) ids[i] = i;
  return ids;
}

// A fresh folder under the system temp dir, removed at scope exit.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& tag) {
    path = std::filesystem::temp_directory_path() /
           ("leadbench_" + tag + "_" + std::to_string(reinterpret_cast<uintptr_t>(this)) + "_" +
            std::to_string(static_cast<long long>(std::chrono::steady_clock::now().time_since_epoch().count())));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

}  // namespace lb::testing
