// Tests of `leadbench adapter check|merge` on the committed PEFT fixture (tests/core/golden/peft):
// the check prints what the adapter holds, the merge writes a folder load_hf_checkpoint reads with
// the adapter's logits, and bad arguments or files are usage or input errors.
#include "core/hf_checkpoint.h"
#include "core/json_io.h"
#include "core/peft_adapter.h"
#include "core/safetensors.h"
#include "experiments/cli.h"
#include "experiments/cmd_adapter.h"
#include "test_dirs.h"

#include <catch2/catch.hpp>

#include <filesystem>
#include <iostream>
#include <sstream>

namespace fs = std::filesystem;
using namespace lb;

namespace {

const fs::path kHf = fs::path(LEADBENCH_SOURCE_DIR) / "tests" / "core" / "golden" / "hf";
const fs::path kPeft = fs::path(LEADBENCH_SOURCE_DIR) / "tests" / "core" / "golden" / "peft";

// Runs cmd_adapter with std::cout captured.
int run(const std::vector<std::string>& args, std::string* out) {
  std::ostringstream buf;
  std::streambuf* old = std::cout.rdbuf(buf.rdbuf());
  int rc = -1;
  try {
    rc = cmd_adapter(args);
  } catch (...) {
    std::cout.rdbuf(old);
    throw;
  }
  std::cout.rdbuf(old);
  if (out) *out = buf.str();
  return rc;
}

}  // namespace

TEST_CASE("adapter command: check and merge a PEFT adapter", "[adapter_cmd]") {
  const auto dir = lbtest::fresh_dir("adapter_cmd");
  const std::string base = (kHf / "llama_tied_llama3").string(), adapter = (kPeft / "llama_all").string();
  std::string out;
  REQUIRE(run({"check", "--base", base, "--adapter", adapter, "--device", "cpu"}, &out) == 0);
  CHECK_THAT(out, Catch::Contains("LORA r 4, lora_alpha 8 (scale 2), lora_dropout 0.05") &&
                      Catch::Contains("q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj in all 2 layers") &&
                      Catch::Contains("28 tensors") && Catch::Contains("LlamaForCausalLM"));

  const std::string merged = (dir / "merged").string();
  REQUIRE(run({"merge", "--base", base, "--adapter", adapter, "--out", merged, "--dtype", "float32", "--device", "cpu"},
              &out) == 0);
  CHECK_THAT(out, Catch::Contains("merged: wrote"));
  const auto ref = safetensors::load_file((kPeft / "llama_all" / "reference.safetensors").string());
  LoadedHfModel m = load_hf_checkpoint(merged);
  torch::NoGradGuard ng;
  const torch::Tensor logits = m.model->forward(ref.find("tokens")->to(torch::kLong));
  CHECK((logits - *ref.find("logits")).abs().max().item<float>() <= 1e-4);

  CHECK_THROWS_AS(run({"merge", "--base", base, "--adapter", adapter, "--out", merged}, nullptr), UsageError);
  CHECK_THROWS_AS(run({"merge", "--base", base, "--adapter", adapter}, nullptr), UsageError);
  CHECK_THROWS_AS(run({"merge", "--base", base, "--adapter", adapter, "--out", (dir / "x").string(), "--dtype", "int8"},
                      nullptr),
                  UsageError);
  CHECK_THROWS_AS(run({"check", "--base", base, "--adapter", adapter, "--out", merged}, nullptr), UsageError);
  CHECK_THROWS_AS(run({"squash", "--base", base}, nullptr), UsageError);
  CHECK_THROWS_AS(run({"check", "--base", base, "--adapter", adapter, "--max-shard-gb", "-1"}, nullptr), UsageError);
  // An adapter of another base: an input error naming the tensor, and no output folder.
  CHECK_THROWS_WITH(run({"merge", "--base", (kHf / "qwen3_qknorm").string(), "--adapter", adapter, "--out",
                         (dir / "y").string(), "--device", "cpu"},
                        nullptr),
                    Catch::Contains("adapter_model.safetensors: tensor 'base_model.model.model.layers.0"));
  CHECK(!fs::exists(dir / "y"));
  fs::remove_all(dir);
}
