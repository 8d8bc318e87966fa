// Data parallelism on c10d's Gloo (core/distributed.h): the launch environment's checks, and two
// ranks (two threads of this process, each with its own process group over loopback TCP) against
// one rank on the same global batches: the trainer's per-sample losses and gradient sketch within
// 1e-5 and identical on both ranks, the same weights after the rounds within tolerance, and the
// inference engine's sharded scores and embeddings bit-identical to one rank's.
#include "core/distributed.h"

#include "core/config.h"
#include "core/inference.h"
#include "core/trainer.h"

#include "tiny_world.h"

#include <catch2/catch.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <exception>
#include <iostream>
#include <map>
#include <thread>

using namespace lb;
using namespace lb::testing;

namespace {

// Builds without Gloo's headers run one process only: these tests then skip.
#define SKIP_WITHOUT_GLOO()                                                                  \
  if (!ProcessGroup::available()) {                                                          \
    std::cout << "SKIPPED: this build has no Gloo (install libgloo-dev, rebuild)" << std::endl; \
    return;                                                                                  \
  }

DistEnv env_of(const std::map<std::string, std::string>& vars) {
  return parse_dist_env([&](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  });
}

std::string error_of(const std::map<std::string, std::string>& vars) {
  try {
    env_of(vars);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

int free_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// Runs fn(rank, group) on `world` threads joined in one Gloo group; rethrows the first failure.
void on_ranks(int world, const std::function<void(int, ProcessGroupPtr)>& fn, int agent_port = 0) {
  const int port = agent_port ? agent_port : free_port();
  std::vector<std::exception_ptr> errors(world);
  std::vector<std::thread> threads;
  for (int r = 0; r < world; ++r)
    threads.emplace_back([&, r] {
      try {
        DistEnv env;
        env.rank = r;
        env.world_size = world;
        env.local_world_size = world;
        env.master_addr = "127.0.0.1";
        env.master_port = port;
        env.source = "torchrun";
        env.agent_store = agent_port != 0;
        fn(r, ProcessGroup::create(env, std::chrono::seconds(60)));
      } catch (...) {
        errors[r] = std::current_exception();
      }
    });
  for (auto& t : threads) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

struct Outcome {
  std::vector<RoundFeedback> rounds;
  std::vector<float> weights;  // every trainable weight after the rounds
  std::vector<float> scores;   // inference engine: response loss of every sample after training
  torch::Tensor embeddings;
};

// Three rounds (one of 2 epochs) on a tiny model; then the engine scores the pool.
Outcome train_and_score(DecoderModel model, const TokenCache& tokens, ProcessGroupPtr pg, int micro_batch_size) {
  TrainConfig cfg;
  cfg.batch_size = 6;
  cfg.micro_batch_size = micro_batch_size;
  cfg.sketch = "all";
  cfg.lr = 3e-3;
  Ledger ledger;
  Trainer trainer(model, cfg, tokens, ledger, torch::kCPU, 11);
  trainer.set_process_group(pg);
  InferenceConfig icfg;
  icfg.max_batch_size = 4;  // several buckets, so that both ranks score some
  InferenceEngine engine(tokens, ledger, torch::kCPU, icfg);
  engine.set_process_group(pg);
  Outcome out;
  const std::vector<SampleId> all = iota_ids(static_cast<int>(tokens.full.size()));
  out.rounds.push_back(trainer.train_round({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}));  // 3 batches, the last of 1
  out.rounds.push_back(trainer.train_round({14, 15, 16, 17, 18}, 2));
  out.rounds.push_back(trainer.train_round({20, 3, 21, 22, 23, 24, 25}));
  for (const auto& p : model->trainable_parameters()) {
    auto flat = p.detach().reshape({-1}).contiguous();
    out.weights.insert(out.weights.end(), flat.data_ptr<float>(), flat.data_ptr<float>() + flat.numel());
  }
  out.scores = engine.response_loss(model, all, Phase::selection_inference);
  out.embeddings = engine.embeddings(model, all, Phase::selection_inference);
  return out;
}

}  // namespace

TEST_CASE("the data-parallel environment is read as torchrun and srun set it", "[distributed]") {
  DistEnv alone = env_of({});
  CHECK(alone.world_size == 1);
  CHECK(alone.source.empty());
  DistEnv t = env_of({{"RANK", "1"}, {"WORLD_SIZE", "4"}, {"LOCAL_RANK", "1"}, {"LOCAL_WORLD_SIZE", "2"},
                      {"MASTER_ADDR", "node0"}, {"MASTER_PORT", "29500"}});
  CHECK(t.rank == 1);
  CHECK(t.world_size == 4);
  CHECK(t.local_rank == 1);
  CHECK(t.local_world_size == 2);
  CHECK(t.master_addr == "node0");
  CHECK(t.master_port == 29500);
  CHECK(t.source == "torchrun");
  CHECK_FALSE(t.agent_store);
  DistEnv agent = env_of({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "1"},
                          {"TORCHELASTIC_USE_AGENT_STORE", "True"}, {"TORCHELASTIC_RESTART_COUNT", "2"}});
  CHECK(agent.agent_store);  // torchrun's agent hosts the store: rank 0 connects as a client
  CHECK(agent.restart_count == 2);
  DistEnv s = env_of({{"SLURM_PROCID", "3"}, {"SLURM_NTASKS", "4"}, {"SLURM_LOCALID", "1"},
                      {"SLURM_NTASKS_PER_NODE", "2(x2)"}, {"MASTER_ADDR", "n1"}, {"MASTER_PORT", "1234"}});
  CHECK(s.rank == 3);
  CHECK(s.world_size == 4);
  CHECK(s.local_rank == 1);
  CHECK(s.local_world_size == 4);  // an uneven layout string: the whole world
  CHECK(s.source == "slurm");
  // A sweep's one-task array job stays alone and needs no MASTER_*.
  CHECK(env_of({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "1"}}).world_size == 1);
  // A single rank from torchrun needs no MASTER_* either.
  CHECK(env_of({{"RANK", "0"}, {"WORLD_SIZE", "1"}}).world_size == 1);
}

TEST_CASE("bad data-parallel environment variables are errors naming the variable, its value and what to do", "[distributed]") {
  const std::map<std::string, std::string> base = {{"MASTER_ADDR", "127.0.0.1"}, {"MASTER_PORT", "29500"}};
  auto with = [&](std::map<std::string, std::string> extra) {
    extra.insert(base.begin(), base.end());
    return extra;
  };
  CHECK_THAT(error_of({{"RANK", "0"}}), Catch::Contains("WORLD_SIZE is unset while RANK is set"));
  CHECK_THAT(error_of(with({{"RANK", "2"}, {"WORLD_SIZE", "2"}})), Catch::Contains("RANK is '2'") && Catch::Contains("[0, 1]"));
  CHECK_THAT(error_of(with({{"RANK", "x"}, {"WORLD_SIZE", "2"}})), Catch::Contains("RANK is 'x'"));
  CHECK_THAT(error_of(with({{"RANK", "0"}, {"WORLD_SIZE", "0"}})), Catch::Contains("WORLD_SIZE is '0'"));
  CHECK_THAT(error_of(with({{"RANK", "0"}, {"WORLD_SIZE", "2 "}})), Catch::Contains("WORLD_SIZE is '2 '"));
  CHECK_THAT(error_of({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_PORT", "29500"}}),
             Catch::Contains("MASTER_ADDR is unset") && Catch::Contains("set it to the host name or address of rank 0"));
  CHECK_THAT(error_of({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}}), Catch::Contains("MASTER_PORT is ''"));
  CHECK_THAT(error_of({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "70000"}}),
             Catch::Contains("MASTER_PORT is '70000'") && Catch::Contains("[1, 65535]"));
  CHECK_THAT(error_of(with({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"LOCAL_RANK", "5"}})), Catch::Contains("LOCAL_RANK is '5'"));
  CHECK_THAT(error_of({{"SLURM_PROCID", "4"}, {"SLURM_NTASKS", "4"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "1"}}),
             Catch::Contains("SLURM_PROCID is '4'"));
  CHECK(ProcessGroup::create(DistEnv{}, std::chrono::seconds(1)) == nullptr);  // one rank: no group
}

TEST_CASE("2 Gloo ranks train and score as 1 rank does on the same global batches", "[distributed]") {
  SKIP_WITHOUT_GLOO();
  at::set_num_threads(1);
  const TokenCache tokens = tokens_of(random_chats(30, 5, 8, 60), 64);
  for (int mbs : {0, 2}) {
    INFO("micro_batch_size " << mbs);
    // One start for all: each rank trains its own copy.
    DecoderModel start(tiny_model_config(), LoraConfig{}, 7);
    std::vector<DecoderModel> copies = {clone_model(start), clone_model(start)};
    const Outcome one = train_and_score(clone_model(start), tokens, nullptr, mbs);
    std::vector<Outcome> ranks(2);
    on_ranks(2, [&](int r, ProcessGroupPtr pg) { ranks[r] = train_and_score(copies[r], tokens, pg, mbs); });
    for (int r = 0; r < 2; ++r) {
      INFO("rank " << r);
      const Outcome& two = ranks[r];
      REQUIRE(two.rounds.size() == one.rounds.size());
      double max_loss = 0, max_sketch = 0;
      for (size_t k = 0; k < one.rounds.size(); ++k) {
        const auto &a = one.rounds[k], &b = two.rounds[k];
        CHECK(a.ids == b.ids);  // the same samples in the same order
        CHECK(a.steps == b.steps);
        CHECK(a.tokens == b.tokens);
        REQUIRE(a.losses.size() == b.losses.size());
        for (size_t i = 0; i < a.losses.size(); ++i) max_loss = std::max(max_loss, double(std::abs(a.losses[i] - b.losses[i])));
        max_sketch = std::max(max_sketch, (a.grad_mean - b.grad_mean).abs().max().item<double>());
        CHECK(b.lr_mean == a.lr_mean);
        // Both ranks hold the very same feedback: the selectors' inputs are identical.
        CHECK(ranks[0].rounds[k].losses == ranks[1].rounds[k].losses);
        CHECK(torch::equal(ranks[0].rounds[k].grad_mean, ranks[1].rounds[k].grad_mean));
      }
      CHECK(max_loss <= 1e-5);
      CHECK(max_sketch <= 1e-5);
      double max_w = 0;
      for (size_t i = 0; i < one.weights.size(); ++i) max_w = std::max(max_w, double(std::abs(one.weights[i] - two.weights[i])));
      CHECK(max_w <= 1e-5);
      // Scoring: each bucket is computed as one rank computes it, on these weights; on the same
      // weights the values are equal bit for bit (checked below with rank 0's weights on both).
      REQUIRE(two.scores.size() == one.scores.size());
      for (size_t i = 0; i < one.scores.size(); ++i) CHECK(std::abs(one.scores[i] - two.scores[i]) <= 1e-4);
    }
    CHECK(ranks[0].weights == ranks[1].weights);  // lock-step: the same update on every rank
    CHECK(ranks[0].scores == ranks[1].scores);
    CHECK(torch::equal(ranks[0].embeddings, ranks[1].embeddings));
  }
}

TEST_CASE("the sharded inference engine gives every rank one rank's values bit for bit", "[distributed]") {
  SKIP_WITHOUT_GLOO();
  at::set_num_threads(1);
  const TokenCache tokens = tokens_of(random_chats(23, 9, 4, 60), 64);
  DecoderModel model(tiny_model_config(), LoraConfig{}, 3);
  const std::vector<SampleId> ids = {5, 0, 22, 7, 7, 13, 1, 19, 2, 11, 3, 17, 4};  // any order, a repeat
  InferenceConfig icfg;
  icfg.max_batch_size = 3;
  Ledger ledger;
  InferenceEngine alone(tokens, ledger, torch::kCPU, icfg);
  const auto ref = alone.response_loss(model, ids, Phase::selection_inference);
  const auto ref_only = alone.response_only_loss(model, ids, Phase::selection_inference);
  const auto ref_emb = alone.embeddings(model, ids, Phase::selection_inference);
  const double ref_eff = alone.last_padding_efficiency();
  on_ranks(2, [&](int r, ProcessGroupPtr pg) {
    Ledger l;
    InferenceEngine engine(tokens, l, torch::kCPU, icfg);
    engine.set_process_group(pg);
    const auto got = engine.response_loss(model, ids, Phase::selection_inference);
    const auto got_only = engine.response_only_loss(model, ids, Phase::selection_inference);
    const auto emb = engine.embeddings(model, ids, Phase::selection_inference);
    REQUIRE(got.size() == ref.size());
    for (size_t i = 0; i < ref.size(); ++i) {
      if (std::isnan(ref[i])) CHECK(std::isnan(got[i]));
      else CHECK(got[i] == ref[i]);
      if (std::isnan(ref_only[i])) CHECK(std::isnan(got_only[i]));
      else CHECK(got_only[i] == ref_only[i]);
    }
    CHECK(torch::equal(emb, ref_emb));
    CHECK(engine.last_padding_efficiency() == ref_eff);
    // This rank computed only its share.
    CHECK(l.stats(Phase::selection_inference).forward_tokens < ledger.stats(Phase::selection_inference).forward_tokens);
  });
}

TEST_CASE("ranks join a store hosted by torchrun's agent (TORCHELASTIC_USE_AGENT_STORE)", "[distributed]") {
  SKIP_WITHOUT_GLOO();
  const int port = free_port();
  c10d::TCPStoreOptions opts;  // the agent: a server no rank owns
  opts.port = static_cast<std::uint16_t>(port);
  opts.isServer = true;
  opts.waitWorkers = false;
  opts.timeout = std::chrono::seconds(30);
  auto agent = c10::make_intrusive<c10d::TCPStore>("127.0.0.1", opts);
  std::vector<double> got(2);
  on_ranks(2, [&](int r, ProcessGroupPtr pg) {
    auto t = torch::tensor({static_cast<double>(r + 1)}, torch::kFloat64);
    pg->all_reduce_sum(t, "a test sum");
    got[r] = t.item<double>();
  }, port);
  CHECK(got[0] == 3.0);
  CHECK(got[1] == 3.0);
}
