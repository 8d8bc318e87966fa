// The pipeline's tokenizer interface: the byte tokenizer through it is the byte tokenizer (the
// synthetic path keeps its ids), a checkpoint's tokenizer.json under a chat template gives the
// template's ids and loss mask, TokenCache counts what it truncates, and SHA-256 matches FIPS 180-4.
#include "core/chat_tokenizer.h"
#include "core/generate.h"
#include "core/hf_checkpoint.h"
#include "core/json_io.h"
#include "core/pool.h"
#include "core/sha256.h"

#include <catch2/catch.hpp>

#include <algorithm>

#include <filesystem>
#include <fstream>

#include <unistd.h>

namespace fs = std::filesystem;

namespace {
const std::string kFixture = std::string(LEADBENCH_SOURCE_DIR) + "/tests/data/real_run";
}

TEST_CASE("sha256 matches the FIPS 180-4 examples", "[sha256]") {
  CHECK(lb::sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(lb::sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(lb::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  const std::string million(1000000, 'a');  // crosses many blocks and the 1 MiB read buffer
  CHECK(lb::sha256_hex(million) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  const fs::path f = fs::temp_directory_path() / ("lb_sha_" + std::to_string(::getpid()));
  {
    std::ofstream out(f, std::ios::binary);
    out << million << "b";
  }
  CHECK(lb::sha256_file(f.string()) == lb::sha256_hex(million + "b"));
  fs::remove(f);
  CHECK_THROWS_AS(lb::sha256_file("/nonexistent/file"), lb::InputError);
}

TEST_CASE("the byte tokenizer through ChatTokenizer gives the byte tokenizer's ids", "[chat_tokenizer]") {
  lb::ByteTokenizer byte;
  const lb::ChatTokenizer& tok = byte;
  const std::vector<lb::Message> msgs = {{"system", "be brief"}, {"user", "hi \xc3\xa9"}, {"assistant", "ok"}};
  const lb::Encoded a = tok.encode_chat(msgs, 0), b = byte.encode_chat(msgs, 0);
  CHECK(a.ids == b.ids);
  CHECK(a.loss_mask == b.loss_mask);
  // Hand-built: BOS, SYSTEM "be brief" END, USER bytes END, ASSISTANT "ok" END; loss on "ok" END.
  std::vector<int32_t> want = {lb::tok::kBos, lb::tok::kSystem};
  for (unsigned char c : std::string("be brief")) want.push_back(c);
  want.push_back(lb::tok::kEnd);
  want.push_back(lb::tok::kUser);
  for (unsigned char c : std::string("hi \xc3\xa9")) want.push_back(c);
  want.push_back(lb::tok::kEnd);
  want.push_back(lb::tok::kAssistant);
  want.push_back('o');
  want.push_back('k');
  want.push_back(lb::tok::kEnd);
  CHECK(a.ids == want);
  CHECK(a.target_count() == 3);
  CHECK(tok.encode_text_prompt("ab") == std::vector<int32_t>{lb::tok::kBos, 'a', 'b'});
  CHECK(tok.is_stop(lb::tok::kEnd));
  CHECK(tok.is_stop(lb::tok::kEos));
  CHECK_FALSE(tok.is_stop('a'));
  CHECK(tok.pad_id() == lb::tok::kPad);
  CHECK(tok.decode({lb::tok::kBos, 'h', 'i', lb::tok::kEnd}) == "hi");
}

TEST_CASE("TokenCache counts the samples it truncates and keeps their start", "[chat_tokenizer]") {
  lb::Pool pool;
  lb::Sample s1{"a", "d", 0, {{"user", "short"}, {"assistant", "yes"}}};
  lb::Sample s2{"b", "d", 0, {{"user", std::string(40, 'x')}, {"assistant", "no"}}};  // response cut off entirely
  lb::Sample s3{"c", "d", 0, {{"user", "q"}, {"assistant", std::string(40, 'y')}}};   // response cut
  pool.add(s1);
  pool.add(s2);
  pool.add(s3);
  lb::ByteTokenizer tok;
  const lb::TokenCache c = lb::TokenCache::build(pool, tok, 20);
  CHECK(c.truncated == 2);
  CHECK(c.truncated_without_target == 1);
  CHECK(c.pad_id == lb::tok::kPad);
  for (size_t i = 0; i < pool.size(); ++i) {
    const lb::Encoded whole = tok.encode_chat(pool.samples[i].messages, 0);
    const lb::Encoded cut = tok.encode_chat(pool.samples[i].messages, 20);  // the byte tokenizer's own truncation
    CHECK(c.full[i].ids == cut.ids);
    CHECK(c.full[i].loss_mask == cut.loss_mask);
    CHECK(std::equal(c.full[i].ids.begin(), c.full[i].ids.end(), whole.ids.begin()));
    CHECK(c.response_only[i].ids == tok.encode_response_only(pool.samples[i].messages, 20).ids);
  }
  CHECK(lb::TokenCache::build(pool, tok, 0).truncated == 0);
}

TEST_CASE("a checkpoint's tokenizer under the tulu template", "[chat_tokenizer]") {
  const lb::HfChatTokenizer tok = lb::HfChatTokenizer::load(kFixture + "/checkpoint", "tulu");
  CHECK(tok.vocab_size() == 320);
  const lb::HfTokenizer& hf = tok.tokenizer();
  const std::vector<lb::Message> msgs = {{"user", "Write a function f1 that adds 5."},
                                         {"assistant", "def f1(x):\n    return x + 5\n"},
                                         {"user", "Now subtract."},
                                         {"assistant", "def f1(x):\n    return x - 5\n"}};
  const lb::Encoded e = tok.encode_chat(msgs, 0);
  // The ids are those of the rendered text, which is open-instruct's tulu text.
  const std::string text = "<|user|>\nWrite a function f1 that adds 5.\n<|assistant|>\ndef f1(x):\n    return x + 5\n</s>\n"
                           "<|user|>\nNow subtract.\n<|assistant|>\ndef f1(x):\n    return x - 5\n</s>";
  CHECK(e.ids == hf.encode(text, false));
  REQUIRE(e.loss_mask.size() == e.ids.size());
  // The loss covers both assistant turns with their </s>, nothing else: decoding the masked ids
  // gives the two responses and their eos.
  std::vector<int32_t> masked;
  for (size_t i = 0; i < e.ids.size(); ++i)
    if (e.loss_mask[i]) masked.push_back(e.ids[i]);
  CHECK(hf.decode(masked, false) == "def f1(x):\n    return x + 5\n</s>def f1(x):\n    return x - 5\n</s>");
  const int32_t eos = *hf.eos_id();
  CHECK(tok.is_stop(eos));
  CHECK(tok.pad_id() == eos);
  // Response only: the assistant turns alone under the template.
  CHECK(tok.encode_response_only(msgs, 0).ids ==
        hf.encode("<|assistant|>\ndef f1(x):\n    return x + 5\n</s>\n<|assistant|>\ndef f1(x):\n    return x - 5\n</s>", false));
  // Generation prompt: the template with the assistant turn opened.
  CHECK(tok.encode_generation_prompt({{"user", "hi"}}) == hf.encode("<|user|>\nhi\n<|assistant|>\n", false));
  // Raw text through the post-processor (bos), and decoding drops special tokens.
  const auto raw = tok.encode_text_prompt("Question: 2");
  REQUIRE(!raw.empty());
  CHECK(raw.front() == *hf.bos_id());
  CHECK(tok.decode(raw) == "Question: 2");
  CHECK(tok.encode_chat(msgs, 7).ids == std::vector<int32_t>(e.ids.begin(), e.ids.begin() + 7));
  const nlohmann::json j = tok.to_json();
  CHECK(j["chat_template"] == "tulu");
  CHECK(j["sha256"].get<std::string>().size() == 64);
  // auto: the tokenizer_config.json's template is recognised as tulu.
  CHECK(lb::HfChatTokenizer::load(kFixture + "/checkpoint", "auto").chat_template().name() == "tulu");
}

TEST_CASE("checkpoint tokenizer errors say what is missing", "[chat_tokenizer]") {
  // A folder without tokenizer.json.
  const fs::path dir = fs::temp_directory_path() / ("lb_notok_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  try {
    lb::HfChatTokenizer::load(dir.string(), "tulu");
    FAIL("expected an InputError");
  } catch (const lb::InputError& e) {
    CHECK_THAT(e.what(), Catch::Contains("no tokenizer.json"));
    CHECK_THAT(e.what(), Catch::Contains(dir.string()));
  }
  fs::remove_all(dir);
  try {
    lb::HfChatTokenizer::load(kFixture + "/checkpoint", "vicuna");
    FAIL("expected an InputError");
  } catch (const lb::InputError& e) {
    CHECK_THAT(e.what(), Catch::Contains("tulu, llama3, chatml, qwen3"));
  }
  // llama3's end-of-turn token is not in this tokenizer.
  try {
    lb::HfChatTokenizer::load(kFixture + "/checkpoint", "llama3");
    FAIL("expected an InputError");
  } catch (const lb::InputError& e) {
    CHECK_THAT(e.what(), Catch::Contains("<|eot_id|>"));
  }
}

TEST_CASE("generation with a checkpoint's tokenizer decodes its greedy ids and stops at eos", "[chat_tokenizer]") {
  lb::LoadedHfModel m = lb::load_hf_checkpoint(kFixture + "/checkpoint");
  const lb::HfChatTokenizer tok = lb::HfChatTokenizer::load(kFixture + "/checkpoint", "tulu");
  const std::vector<std::vector<int32_t>> prompts = {
      tok.encode_generation_prompt({{"user", "Write a function f3 that adds 2 to its argument."}}),
      tok.encode_generation_prompt({{"user", "Sam has 3 coins."}}),
      tok.encode_text_prompt("Question: What is 2 + 2?\nAnswer:")};
  const int32_t eos = *tok.tokenizer().eos_id();
  const auto ids = lb::greedy_token_ids(m.model, prompts, 12, {eos}, torch::kCPU);
  std::vector<lb::GenerationRequest> reqs;
  for (const auto& p : prompts) reqs.push_back({p, lb::GenerationOptions{12, 0.0, 1.0, {}, 0}});
  const auto texts = lb::generate(m.model, tok, reqs, torch::kCPU, /*batch_size=*/8);
  REQUIRE(texts.size() == prompts.size());
  for (size_t i = 0; i < prompts.size(); ++i) {
    std::vector<int32_t> got = ids[i];
    if (!got.empty() && got.back() == eos) got.pop_back();  // greedy_token_ids keeps the stop token
    INFO("prompt " << i);
    CHECK(texts[i] == tok.decode(got));
  }
}
