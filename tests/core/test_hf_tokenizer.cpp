// Tests of the Hugging Face tokenizer.json tokenizer: every reference string of Llama 3.1, Qwen3 and
// Mistral v0.1 (ids, ids with special tokens, decoded text; ../shared/data/tokenizers/refs), small
// hand-made documents whose ids Hugging Face's `tokenizers` computed (tests/core/golden/
// hf_tokenizer_cases.json, made by tests/fixtures/make_hf_tokenizer_cases.py), and bad documents.
#include "core/bpe_model.h"
#include "core/hf_tokenizer.h"
#include "core/json_io.h"
#include "core/unicode_text.h"

#include <catch2/catch.hpp>

#include <cstdio>
#include <filesystem>
#include <sstream>

#include <unistd.h>

using namespace lb;
using nlohmann::json;

namespace {

std::string tokenizers_dir() { return std::string(LEADBENCH_SHARED_DATA) + "/tokenizers"; }

bool have_tokenizers() {
  if (file_exists(tokenizers_dir() + "/refs/llama3_1.jsonl")) return true;
  std::printf("SKIPPED: tokenizers/refs not found under LEADBENCH_SHARED_DATA (%s)\n", LEADBENCH_SHARED_DATA);
  return false;
}

std::string ids_text(const std::vector<int32_t>& ids) {
  std::ostringstream out;
  out << "[";
  for (size_t i = 0; i < ids.size(); ++i) out << (i ? "," : "") << ids[i];
  out << "]";
  return out.str();
}

// Checks every line of refs/<name>.jsonl; reports the count and the first mismatch.
void check_references(const std::string& name) {
  const HfTokenizer tok = HfTokenizer::load(tokenizers_dir() + "/" + name);
  int64_t total = 0, matched = 0;
  std::string first_mismatch;
  for_each_jsonl(tokenizers_dir() + "/refs/" + name + ".jsonl", [&](const json& r, int64_t line) {
    ++total;
    const std::string text = r.at("text").get<std::string>();
    const auto ref_ids = r.at("ids").get<std::vector<int32_t>>();
    const auto ref_special = r.at("ids_with_special").get<std::vector<int32_t>>();
    const std::string ref_decoded = r.at("decoded").get<std::string>();
    const auto ids = tok.encode(text, false);
    const auto special = tok.encode(text, true);
    const std::string decoded = tok.decode(ref_ids);
    if (ids == ref_ids && special == ref_special && decoded == ref_decoded) {
      ++matched;
    } else if (first_mismatch.empty()) {
      first_mismatch = "string i=" + std::to_string(r.at("i").get<int64_t>()) + " (line " + std::to_string(line) +
                       ") " + json(text.substr(0, 120)).dump() + "\n  ids      ours " + ids_text(ids) + "\n           ref  " +
                       ids_text(ref_ids) + "\n  special  ours " + ids_text(special) + "\n           ref  " +
                       ids_text(ref_special) + "\n  decoded  ours " + json(decoded).dump() + "\n           ref  " +
                       json(ref_decoded).dump();
    }
  });
  std::printf("%s: %lld of %lld reference strings match (ids, ids_with_special, decoded)\n", name.c_str(),
              static_cast<long long>(matched), static_cast<long long>(total));
  INFO(first_mismatch);
  CHECK(total == 359);
  CHECK(matched == total);
}

// Expects from_json to throw an InputError containing every fragment.
void expect_bad(const json& doc, const std::vector<std::string>& fragments) {
  try {
    HfTokenizer::from_json(doc, "bad.json");
    FAIL("accepted a bad tokenizer.json; expected: " << fragments.front());
  } catch (const InputError& e) {
    const std::string msg = e.what();
    INFO(msg);
    CHECK(msg.find("bad.json") != std::string::npos);
    for (const std::string& f : fragments) CHECK(msg.find(f) != std::string::npos);
  }
}

// A tiny valid document: characters a, b, c and the merge "a b".
json tiny_doc() {
  return json::parse(R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "c": 2, "ab": 3}, "merges": ["a b"]},
                         "added_tokens": [], "normalizer": null, "pre_tokenizer": null, "decoder": null,
                         "post_processor": null})");
}

}  // namespace

TEST_CASE("hf tokenizer: Llama 3.1 reference encodings match 100 %", "[hf_tokenizer][shared]") {
  if (!have_tokenizers()) return;
  check_references("llama3_1");
}

TEST_CASE("hf tokenizer: Qwen3 reference encodings match 100 %", "[hf_tokenizer][shared]") {
  if (!have_tokenizers()) return;
  check_references("qwen3");
}

TEST_CASE("hf tokenizer: Mistral v0.1 reference encodings match 100 %", "[hf_tokenizer][shared]") {
  if (!have_tokenizers()) return;
  check_references("mistral_v0_1");
}

TEST_CASE("hf tokenizer: the README's known values and the special-token ids", "[hf_tokenizer][shared]") {
  if (!have_tokenizers()) return;
  const HfTokenizer llama = HfTokenizer::load(tokenizers_dir() + "/llama3_1/tokenizer.json");
  CHECK(llama.encode("Hello world", false) == std::vector<int32_t>{9906, 1917});
  CHECK(llama.encode("Hello world", true) == std::vector<int32_t>{128000, 9906, 1917});
  CHECK(llama.vocab_size() == 128256);
  CHECK(llama.bos_id() == 128000);
  CHECK(llama.eos_id() == 128009);  // tokenizer_config.json's <|eot_id|>
  CHECK(llama.token_to_id("<|eot_id|>") == 128009);
  CHECK(llama.id_to_token(9906) == "Hello");
  CHECK(llama.is_special(128000));
  CHECK(llama.decode({128000, 9906, 1917}) == "<|begin_of_text|>Hello world");
  CHECK(llama.decode({128000, 9906, 1917}, true) == "Hello world");
  const HfTokenizer qwen = HfTokenizer::load(tokenizers_dir() + "/qwen3");
  CHECK(qwen.encode("Hello world", true) == std::vector<int32_t>{9707, 1879});
  CHECK(!qwen.bos_id());
  CHECK(qwen.eos_id() == qwen.token_to_id("<|im_end|>"));
  CHECK(qwen.vocab_size() == 151669);
  CHECK(!qwen.is_special(*qwen.token_to_id("<think>")));  // an added token, not a special one
  const HfTokenizer mistral = HfTokenizer::load(tokenizers_dir() + "/mistral_v0_1");
  CHECK(mistral.encode("Hello world", false) == std::vector<int32_t>{22557, 1526});
  CHECK(mistral.encode("Hello world", true) == std::vector<int32_t>{1, 22557, 1526});
  CHECK(mistral.bos_id() == 1);
  CHECK(mistral.eos_id() == 2);
  CHECK(mistral.vocab_size() == 32000);
}

TEST_CASE("hf tokenizer: hand-made documents give Hugging Face's ids and texts", "[hf_tokenizer]") {
  const json golden = read_json_file(std::string(LEADBENCH_SOURCE_DIR) + "/tests/core/golden/hf_tokenizer_cases.json");
  INFO("golden made by " << golden.at("made_by").get<std::string>());
  int64_t strings = 0;
  for (const json& c : golden.at("cases")) {
    const std::string name = c.at("name").get<std::string>();
    const HfTokenizer tok = HfTokenizer::from_json(c.at("doc"), name);
    for (const json& r : c.at("strings")) {
      const std::string text = r.at("text").get<std::string>();
      INFO(name << ": " << json(text).dump());
      const auto ids = r.at("ids").get<std::vector<int32_t>>();
      CHECK(ids_text(tok.encode(text, false)) == ids_text(ids));
      CHECK(ids_text(tok.encode(text, true)) == ids_text(r.at("ids_with_special").get<std::vector<int32_t>>()));
      CHECK(tok.decode(ids) == r.at("decoded").get<std::string>());
      CHECK(tok.decode(ids, true) == r.at("decoded_skip_special").get<std::string>());
      ++strings;
    }
  }
  CHECK(strings >= 100);
}

TEST_CASE("hf tokenizer: bad documents are errors naming the file, the JSON path and the choices", "[hf_tokenizer]") {
  SECTION("unsupported model type") {
    json d = tiny_doc();
    d["model"]["type"] = "Unigram";
    expect_bad(d, {"/model/type", "Unigram", "supported: BPE"});
  }
  SECTION("missing vocabulary") {
    json d = tiny_doc();
    d["model"].erase("vocab");
    expect_bad(d, {"/model/vocab", "missing"});
  }
  SECTION("a merge with one token") {
    json d = tiny_doc();
    d["model"]["merges"] = json::array({"a b", "abc"});
    expect_bad(d, {"/model/merges/1", "abc"});
  }
  SECTION("a merge of tokens that are not in the vocabulary") {
    json d = tiny_doc();
    d["model"]["merges"] = json::array({"a b", "b c"});
    expect_bad(d, {"/model/merges", "merge 1", "'bc' is not in the vocabulary"});
  }
  SECTION("a merge that is neither a string nor a pair") {
    json d = tiny_doc();
    d["model"]["merges"] = json::array({json::array({"a"})});
    expect_bad(d, {"/model/merges/0"});
  }
  SECTION("an id far beyond the vocabulary (sparse ids would allocate for tokens that do not exist)") {
    json d = tiny_doc();
    d["model"]["vocab"]["c"] = 22222228;
    expect_bad(d, {"/model/vocab/c", "22222228", "dense"});
    json e = tiny_doc();
    e["added_tokens"] = json::array({{{"id", 99999999}, {"content", "<s>"}, {"special", true}}});
    expect_bad(e, {"/added_tokens/0/id", "dense"});
  }
  SECTION("a negative id") {
    json d = tiny_doc();
    d["model"]["vocab"]["c"] = -3;
    expect_bad(d, {"/model/vocab/c", "out of range"});
  }
  SECTION("unsupported pre-tokenizer, deep in a sequence") {
    json d = tiny_doc();
    d["pre_tokenizer"] = json::parse(R"({"type": "Sequence", "pretokenizers": [{"type": "Digits"}, {"type": "Whitespace"}]})");
    expect_bad(d, {"/pre_tokenizer/pretokenizers/1/type", "Whitespace", "supported: Split, ByteLevel, Digits, Metaspace, Sequence"});
  }
  SECTION("unsupported normalizer") {
    json d = tiny_doc();
    d["normalizer"] = json::parse(R"({"type": "BertNormalizer"})");
    expect_bad(d, {"/normalizer/type", "BertNormalizer", "NFC"});
  }
  SECTION("unsupported decoder") {
    json d = tiny_doc();
    d["decoder"] = json::parse(R"({"type": "WordPiece"})");
    expect_bad(d, {"/decoder/type", "WordPiece", "ByteFallback"});
  }
  SECTION("unsupported post-processor") {
    json d = tiny_doc();
    d["post_processor"] = json::parse(R"({"type": "BertProcessing"})");
    expect_bad(d, {"/post_processor/type", "BertProcessing", "TemplateProcessing"});
  }
  SECTION("bad split regex") {
    json d = tiny_doc();
    d["pre_tokenizer"] = json::parse(R"({"type": "Split", "pattern": {"Regex": "(a"}, "behavior": "Isolated"})");
    expect_bad(d, {"/pre_tokenizer/pattern/Regex", "bad regex"});
  }
  SECTION("a split behaviour that does not exist") {
    json d = tiny_doc();
    d["pre_tokenizer"] = json::parse(R"({"type": "Split", "pattern": {"String": " "}, "behavior": "Sideways"})");
    expect_bad(d, {"/pre_tokenizer/behavior", "Sideways", "MergedWithNext"});
  }
  SECTION("BPE dropout") {
    json d = tiny_doc();
    d["model"]["dropout"] = 0.1;
    expect_bad(d, {"/model/dropout"});
  }
  SECTION("an unknown token that is not in the vocabulary") {
    json d = tiny_doc();
    d["model"]["unk_token"] = "<unk>";
    expect_bad(d, {"/model/unk_token", "<unk>"});
  }
  SECTION("a template token without its entry") {
    json d = tiny_doc();
    d["post_processor"] = json::parse(R"({"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}},
                                          {"Sequence": {"id": "A", "type_id": 0}}], "special_tokens": {}})");
    expect_bad(d, {"/post_processor/special_tokens", "<s>"});
  }
}

TEST_CASE("hf tokenizer: load, bad text and bad ids", "[hf_tokenizer]") {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("lb_hf_tok_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  write_file_atomic((dir / "tokenizer.json").string(), tiny_doc().dump());
  write_file_atomic((dir / "tokenizer_config.json").string(),
                    R"({"bos_token": "a", "eos_token": {"content": "c"}, "chat_template": "{{ x }}"})");
  const HfTokenizer tok = HfTokenizer::load(dir.string());
  CHECK(tok.encode("abcab", false) == std::vector<int32_t>{3, 2, 3});
  CHECK(tok.decode({3, 2}) == "ab c");  // no decoder: tokens joined by spaces, as tokenizers does
  CHECK(tok.bos_id() == 0);
  CHECK(tok.eos_id() == 2);
  CHECK(tok.chat_template() == "{{ x }}");
  CHECK(tok.encode("xa", false) == std::vector<int32_t>{0});  // no unk_token: dropped, as tokenizers does

  CHECK_THROWS_AS(tok.encode(std::string("a\xff"), false), InputError);
  try {
    tok.decode({0, 4});
    FAIL("decoded an id outside the vocabulary");
  } catch (const InputError& e) {
    CHECK(std::string(e.what()).find("id 4 (position 1)") != std::string::npos);
  }
  CHECK_THROWS_AS(tok.id_to_token(-1), InputError);
  CHECK_THROWS_WITH(HfTokenizer::load((dir / "model.gguf").string()), Catch::Contains("model.gguf: cannot open"));
  fs::remove(dir / "tokenizer.json");
  CHECK_THROWS_WITH(HfTokenizer::load(dir.string()), Catch::Contains("no tokenizer.json"));
  write_file_atomic((dir / "tokenizer.json").string(), "{\"model\": ");
  CHECK_THROWS_AS(HfTokenizer::load(dir.string()), InputError);
  fs::remove_all(dir);
}

TEST_CASE("hf tokenizer: \\s in split patterns is Unicode White_Space, NEL included", "[hf_tokenizer]") {
  const unicode::Regex re(R"(\s+|[^\s]+)");
  std::vector<std::pair<uint32_t, uint32_t>> m;
  re.find_all("a\xC2\x85 b", m);  // U+0085 NEL: White_Space, as Oniguruma's \s has it
  REQUIRE(m.size() == 3);
  CHECK(m[1] == std::pair<uint32_t, uint32_t>{1, 4});
  CHECK(unicode::utf8_lossy("a\xE2\x82z\xF0\x9F") == "a\xEF\xBF\xBDz\xEF\xBF\xBD");  // maximal subparts
}

TEST_CASE("hf tokenizer: the merge loop for long words equals the one for short words", "[hf_tokenizer]") {
  // Words of more than 64 symbols take the heap; shorter ones the scan. A long word made of short
  // words separated by a symbol that merges with nothing must give the short words' ids in turn.
  std::vector<std::string> tokens = {"a", "b", "c", "|", "ab", "bc", "abc", "ca"};
  const std::vector<std::pair<std::string, std::string>> merges = {{"b", "c"}, {"a", "b"}, {"ab", "c"}, {"c", "a"}};
  const BpeModel model(tokens, merges, BpeOptions{});
  const std::vector<std::string> words = {"abcabc", "aabbcc", "cabca", "bcabca", "abababab", "ccaacb"};
  std::string long_word;
  std::vector<int32_t> expected;
  for (int rep = 0; rep < 8; ++rep) {
    for (const std::string& w : words) {
      model.encode_word_uncached(w, expected);
      expected.push_back(3);  // "|"
      long_word += w + "|";
    }
  }
  REQUIRE(long_word.size() > 64);
  std::vector<int32_t> got;
  model.encode_word_uncached(long_word, got);
  CHECK(ids_text(got) == ids_text(expected));
  std::vector<int32_t> small;
  model.encode_word_uncached("abcabc", small);
  CHECK(small == std::vector<int32_t>{0, 5, 0, 5});  // b c (rank 0) goes before a b (rank 1): a bc a bc
}
