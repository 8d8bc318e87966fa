// Tests of `leadbench tokenize`: texts and conversations through a small byte-level tokenizer whose
// ids are the bytes (checked by hand), bad lines named by file and line, and one real conversation
// against the Llama 3.1 reference when ../shared is present.
#include "core/json_io.h"
#include "core/unicode_text.h"
#include "experiments/cli.h"
#include "experiments/cmd_tokenize.h"
#include "test_dirs.h"

#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>

using namespace lb;
using nlohmann::json;

namespace {

// Byte-level BPE whose id for each byte is the byte itself; <s> = 256 (bos), </s> = 257 (eos).
json byte_tokenizer() {
  json vocab = json::object();
  for (int b = 0; b < 256; ++b) {
    std::string c;
    unicode::append_utf8(c, unicode::byte_to_char(static_cast<uint8_t>(b)));
    vocab[c] = b;
  }
  json doc = {{"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", json::array()}}},
              {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
              {"decoder", {{"type", "ByteLevel"}}},
              {"added_tokens", json::array({{{"id", 256}, {"content", "<s>"}, {"special", true}},
                                            {{"id", 257}, {"content", "</s>"}, {"special", true}}})}};
  doc["post_processor"] = json::parse(R"({"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
      {"Sequence": {"id": "A", "type_id": 0}}], "special_tokens": {"<s>": {"id": "<s>", "ids": [256], "tokens": ["<s>"]}}})");
  return doc;
}

std::vector<json> read_lines(const std::string& path) {
  std::vector<json> out;
  for_each_jsonl(path, [&](const json& j, int64_t) { out.push_back(j); });
  return out;
}

std::vector<int32_t> bytes_of(const std::string& s) {
  std::vector<int32_t> out;
  for (unsigned char c : s) out.push_back(c);
  return out;
}

}  // namespace

TEST_CASE("tokenize command: texts and tulu conversations with a byte tokenizer", "[tokenize]") {
  const auto dir = lbtest::fresh_dir("tokenize");
  write_file_atomic((dir / "tok" / "tokenizer.json").string(), byte_tokenizer().dump());
  write_file_atomic((dir / "tok" / "tokenizer_config.json").string(), R"({"bos_token": "<s>", "eos_token": "</s>"})");
  const std::string tok = (dir / "tok").string(), in = (dir / "in.jsonl").string(), out = (dir / "out.jsonl").string();

  write_file_atomic(in, "{\"text\": \"hi\"}\n\n{\"text\": \"\"}\n{\"text\": \"a</s>\"}\n");
  REQUIRE(cmd_tokenize({"--tokenizer", tok, "--input", in, "--output", out}) == 0);
  auto lines = read_lines(out);
  REQUIRE(lines.size() == 3);  // the blank line is no record
  CHECK(lines[0]["ids"] == json({104, 105}));
  CHECK(lines[0]["ids_with_special"] == json({256, 104, 105}));
  CHECK(lines[0]["decoded"] == "hi");
  CHECK(lines[1]["ids"] == json::array());
  CHECK(lines[1]["ids_with_special"] == json({256}));
  CHECK(lines[2]["ids"] == json({97, 257}));  // an added token written in the text
  CHECK(lines[2]["decoded"] == "a</s>");

  write_file_atomic(in, R"({"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "ok"}]}
{"messages": [{"role": "user", "content": "q"}], "add_generation_prompt": true}
)");
  REQUIRE(cmd_tokenize({"--tokenizer", tok, "--input", in, "--output", out, "--chat", "tulu"}) == 0);
  lines = read_lines(out);
  REQUIRE(lines.size() == 2);
  const std::string prompt = "<|user|>\nq\n<|assistant|>\n";
  CHECK(lines[0]["text"] == prompt + "ok</s>");
  std::vector<int32_t> ids = bytes_of(prompt + "ok");
  ids.push_back(257);
  CHECK(lines[0]["ids"] == json(ids));
  std::vector<int> mask(prompt.size(), 0);
  mask.insert(mask.end(), {1, 1, 1});  // "o", "k", </s>
  CHECK(lines[0]["loss_mask"] == json(mask));
  CHECK(lines[1]["text"] == prompt);
  CHECK(lines[1]["loss_mask"] == json(std::vector<int>(prompt.size(), 0)));
}

TEST_CASE("tokenize command: a .gguf file's tokenizer gives transformers' ids", "[tokenize][gguf]") {
  // The committed tiny GGUF of tests/core/golden/gguf and its reference (make_gguf_fixtures.py).
  const std::string golden = std::string(LEADBENCH_SOURCE_DIR) + "/tests/core/golden/gguf/";
  const json ref = read_json_file(golden + "tiny_tokenizer_reference.json");
  const auto dir = lbtest::fresh_dir("tokenize_gguf");
  const std::string in = (dir / "in.jsonl").string(), out = (dir / "out.jsonl").string();
  std::string lines_in;
  for (const auto& c : ref["cases"]) lines_in += json({{"text", c["text"]}}).dump() + "\n";
  write_file_atomic(in, lines_in);
  REQUIRE(cmd_tokenize({"--tokenizer", golden + "tiny_f32.gguf", "--input", in, "--output", out}) == 0);
  const auto lines = read_lines(out);
  REQUIRE(lines.size() == ref["cases"].size());
  for (size_t i = 0; i < lines.size(); ++i) {
    INFO("text: " << ref["cases"][i]["text"]);
    CHECK(lines[i]["ids"] == ref["cases"][i]["ids_llama_cpp_split"]);
    CHECK(lines[i]["ids_with_special"] == ref["cases"][i]["ids_llama_cpp_split"]);  // add_bos_token false
    CHECK(lines[i]["decoded"] == ref["cases"][i]["decoded"]);
  }
}

TEST_CASE("tokenize command: bad lines are errors naming the file and the line", "[tokenize]") {
  const auto dir = lbtest::fresh_dir("tokenize_bad");
  write_file_atomic((dir / "tokenizer.json").string(), byte_tokenizer().dump());
  const std::string tok = (dir / "tokenizer.json").string(), in = (dir / "in.jsonl").string(),
                    out = (dir / "out.jsonl").string();
  auto expect_error = [&](const std::string& content, const std::vector<std::string>& args, const std::string& fragment) {
    write_file_atomic(in, content);
    std::vector<std::string> all = {"--tokenizer", tok, "--input", in, "--output", out};
    all.insert(all.end(), args.begin(), args.end());
    try {
      cmd_tokenize(all);
      FAIL("accepted: " << content);
    } catch (const InputError& e) {
      INFO(e.what());
      CHECK(std::string(e.what()).find(in + ":2") != std::string::npos);
      CHECK(std::string(e.what()).find(fragment) != std::string::npos);
    }
  };
  expect_error("{\"text\": \"a\"}\n{\"text\": \n", {}, "invalid JSON");
  expect_error("{\"text\": \"a\"}\n{\"txt\": \"a\"}\n", {}, "missing field \"text\"");
  expect_error("{\"text\": \"a\"}\n{\"text\": 3}\n", {}, "must be a string");
  expect_error("{\"text\": \"a\"}\n[1]\n", {}, "expected a JSON object");
  const std::string good = R"({"messages": [{"role": "user", "content": "q"}]})";
  expect_error(good + "\n{\"messages\": [{\"role\": \"robot\", \"content\": \"q\"}]}\n", {"--chat", "chatml"}, "role 'robot'");
  expect_error(good + "\n{\"messages\": \"q\"}\n", {"--chat", "chatml"}, "\"messages\" must be a list");
  expect_error(good + "\n{\"messages\": [{\"role\": \"user\"}]}\n", {"--chat", "chatml"}, "messages[0]: missing field \"content\"");
  expect_error(good + "\n{\"messages\": [], \"add_generation_prompt\": 1}\n", {"--chat", "chatml"}, "add_generation_prompt");
  CHECK(!file_exists(out));  // nothing half-written

  write_file_atomic(in, good + "\n");
  CHECK_THROWS_WITH(cmd_tokenize({"--tokenizer", tok, "--input", in, "--output", out, "--chat", "alpaca"}),
                    Catch::Contains("known: tulu, llama3, chatml, qwen3, auto"));
  CHECK_THROWS_AS(cmd_tokenize({"--tokenizer", tok, "--input", in}), UsageError);
  CHECK_THROWS_AS(cmd_tokenize({"--tokenizer", tok, "--input", in, "--output", out, "--bogus"}), UsageError);
}

TEST_CASE("tokenize command: a Llama 3.1 conversation equals its reference", "[tokenize][shared]") {
  const std::string refs = std::string(LEADBENCH_SHARED_DATA) + "/tokenizers/refs/llama3_1.chat.jsonl";
  if (!file_exists(refs)) {
    std::printf("SKIPPED: %s not found\n", refs.c_str());
    return;
  }
  const auto dir = lbtest::fresh_dir("tokenize_llama");
  const std::string in = (dir / "in.jsonl").string(), out = (dir / "out.jsonl").string();
  std::ifstream f(refs);
  std::string first;
  std::getline(f, first);
  const json ref = json::parse(first);
  write_file_atomic(in, json{{"messages", ref["messages"]}, {"add_generation_prompt", ref["add_generation_prompt"]}}.dump() + "\n");
  REQUIRE(cmd_tokenize({"--tokenizer", std::string(LEADBENCH_SHARED_DATA) + "/tokenizers/llama3_1", "--input", in,
                        "--output", out, "--chat", "auto"}) == 0);
  const auto lines = read_lines(out);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0]["text"] == ref["text"]);
  CHECK(lines[0]["ids"] == ref["ids"]);
}
