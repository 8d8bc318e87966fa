// Tests of the real-pool converters, the messages-format validator and pool statistics
// (core/pool_convert.h), on tiny hand-written fixtures under tests/data/pools/ and, when present,
// the real Code Alpaca 2k and GSM8K train files of ../shared/data.
#include "core/pool_convert.h"

#include "core/json_io.h"
#include "core/tokenizer.h"
#include "tiny_world.h"
#include "experiments/cmd_data.h"

#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

using namespace lb;
namespace fs = std::filesystem;

namespace {

std::string fixture(const std::string& name) { return std::string(LEADBENCH_SOURCE_DIR) + "/tests/data/pools/" + name; }

std::string shared_file(const std::string& rel) { return std::string(LEADBENCH_SHARED_DATA) + "/" + rel; }

Pool convert(const std::string& file, SourceFormat f, RecordTally* tally = nullptr, bool skip_bad = false) {
  ConvertOptions o;
  o.format = f;
  o.skip_bad = skip_bad;
  return convert_pool_file(fixture(file), o, tally);
}

// The InputError text of a call that must fail.
template <class F>
std::string error_of(F&& fn) {
  try {
    fn();
  } catch (const InputError& e) {
    return e.what();
  }
  FAIL("expected an InputError");
  return "";
}

std::string temp_dir() {
  fs::path p = fs::temp_directory_path() / ("leadbench_pools_test_" + std::to_string(::getpid()));
  fs::create_directories(p);
  return p.string();
}

const std::string& user_of(const Sample& s) {
  for (const auto& m : s.messages)
    if (m.role == "user") return m.content;
  FAIL("sample " << s.uid << " has no user turn");
  static std::string none;
  return none;
}

const std::string& assistant_of(const Sample& s) { return s.messages.back().content; }

}  // namespace

TEST_CASE("pool formats parse by name and unknown names list the choices", "[pool_convert]") {
  CHECK(parse_source_format("alpaca") == SourceFormat::alpaca);
  CHECK(parse_source_format("sharegpt") == SourceFormat::sharegpt);
  CHECK(std::string(source_format_name(SourceFormat::unnatural)) == "unnatural");
  std::string err = error_of([] { parse_source_format("vicuna"); });
  CHECK(err.find("vicuna") != std::string::npos);
  CHECK(err.find("alpaca|codealpaca|dolly|unnatural|gsm8k|sharegpt|ultrachat|math") != std::string::npos);
  CHECK(parse_source_format("ultrachat") == SourceFormat::ultrachat);
  CHECK(parse_source_format("math") == SourceFormat::math);
}

TEST_CASE("format detection from the first record; alpaca-like layouts need an explicit format", "[pool_convert]") {
  CHECK(detect_source_format(fixture("dolly.jsonl")) == SourceFormat::dolly);
  CHECK(detect_source_format(fixture("unnatural.jsonl")) == SourceFormat::unnatural);
  CHECK(detect_source_format(fixture("gsm8k.jsonl")) == SourceFormat::gsm8k);
  CHECK(detect_source_format(fixture("sharegpt.json")) == SourceFormat::sharegpt);
  CHECK(detect_source_format(fixture("dolly_bad.jsonl")) == SourceFormat::dolly);
  CHECK(detect_source_format(fixture("ultrachat.jsonl")) == SourceFormat::ultrachat);
  CHECK(detect_source_format(fixture("math.json")) == SourceFormat::math);
  std::string err = error_of([] { detect_source_format(fixture("alpaca.json")); });
  CHECK(err.find("alpaca.json:2 (record 0)") != std::string::npos);
  CHECK(err.find("--format alpaca or --format codealpaca") != std::string::npos);
  err = error_of([] { detect_source_format(fixture("messages_stats.jsonl")); });
  CHECK(err.find("match no known pool format") != std::string::npos);
}

TEST_CASE("alpaca converter joins instruction and input, ids by record index", "[pool_convert]") {
  RecordTally t;
  Pool p = convert("alpaca.json", SourceFormat::alpaca, &t);
  REQUIRE(p.size() == 3);
  CHECK(t.records == 3);
  CHECK(t.accepted == 3);
  CHECK(t.rejected == 0);
  CHECK(p.samples[0].uid == "alpaca_0");
  CHECK(p.samples[2].uid == "alpaca_2");
  CHECK(p.samples[0].dataset == "alpaca");
  CHECK(user_of(p.samples[0]) == "Give three tips for staying healthy.");  // empty input: no separator
  CHECK(assistant_of(p.samples[0]) == "1. Eat well.\n2. Sleep.\n3. Move.");
  CHECK(user_of(p.samples[1]) == "Translate to French.\n\nGood morning");
  CHECK(assistant_of(p.samples[1]) == "Bonjour");
  CHECK(user_of(p.samples[2]) == "Name a prime number.");  // "input" absent
  REQUIRE(p.samples[1].messages.size() == 2);
  CHECK(p.samples[1].messages[0].role == "user");
  CHECK(p.samples[1].messages[1].role == "assistant");

  ConvertOptions o;
  o.format = SourceFormat::alpaca;
  o.dataset = "stanford";
  Pool named = convert_pool_file(fixture("alpaca.json"), o, nullptr);
  CHECK(named.samples[1].uid == "stanford_1");
  CHECK(named.samples[1].dataset == "stanford");
}

TEST_CASE("codealpaca converter", "[pool_convert]") {
  Pool p = convert("codealpaca.json", SourceFormat::codealpaca);
  REQUIRE(p.size() == 2);
  CHECK(p.samples[0].uid == "codealpaca_0");
  CHECK(p.samples[0].dataset == "codealpaca");
  CHECK(user_of(p.samples[0]) == "Write a function that adds two numbers.");
  CHECK(assistant_of(p.samples[0]) == "def add(a, b):\n    return a + b");
  CHECK(user_of(p.samples[1]) == "Reverse the given list.\n\n[1, 2, 3]");
}

TEST_CASE("dolly converter uses context as input and skips blank lines", "[pool_convert]") {
  RecordTally t;
  Pool p = convert("dolly.jsonl", SourceFormat::dolly, &t);
  REQUIRE(p.size() == 3);
  CHECK(t.records == 3);
  CHECK(p.samples[0].uid == "dolly_0");
  CHECK(p.samples[2].uid == "dolly_2");
  CHECK(user_of(p.samples[0]) ==
        "When did Virgin Australia start operating?\n\nVirgin Australia commenced services on 31 August 2000.");
  CHECK(assistant_of(p.samples[0]) == "On 31 August 2000.");
  CHECK(user_of(p.samples[1]) == "Why can camels survive for long without water?");
}

TEST_CASE("unnatural converter: instances, constraints and reformulations", "[pool_convert]") {
  Pool p = convert("unnatural.jsonl", SourceFormat::unnatural);
  REQUIRE(p.size() == 4);
  CHECK(p.samples[0].uid == "unnatural_0_0");
  CHECK(user_of(p.samples[0]) == "Is the sentence grammatical?\nHe go home.\nThe output should be 'Yes' or 'No'.");
  CHECK(assistant_of(p.samples[0]) == "No");
  CHECK(p.samples[1].uid == "unnatural_0_1");
  CHECK(user_of(p.samples[1]) == "Is the sentence grammatical?\nShe reads.");  // "None." is not appended
  CHECK(p.samples[2].uid == "unnatural_1_0");
  CHECK(user_of(p.samples[2]) == "Add the numbers.\n2 and 3");  // "None" is not appended
  CHECK(p.samples[3].uid == "unnatural_1_r0");
  CHECK(user_of(p.samples[3]) == "Compute the sum.\n2 and 3");
  CHECK(assistant_of(p.samples[3]) == "5");

  ConvertOptions o;
  o.format = SourceFormat::unnatural;
  o.unnatural_reformulations = false;
  o.unnatural_constraints = false;
  Pool q = convert_pool_file(fixture("unnatural.jsonl"), o, nullptr);
  REQUIRE(q.size() == 3);
  CHECK(user_of(q.samples[0]) == "Is the sentence grammatical?\nHe go home.");
}

TEST_CASE("gsm8k converter keeps the whole answer with its #### line", "[pool_convert]") {
  Pool p = convert("gsm8k.jsonl", SourceFormat::gsm8k);
  REQUIRE(p.size() == 2);
  CHECK(p.samples[0].uid == "gsm8k_0");
  CHECK(user_of(p.samples[0]) == "Tom has 3 apples and buys 2 more. How many apples does he have?");
  CHECK(assistant_of(p.samples[0]) == "He has 3 + 2 = <<3+2=5>>5 apples.\n#### 5");
  const std::string& a1 = assistant_of(p.samples[1]);
  REQUIRE(a1.size() > 7);
  CHECK(a1.substr(a1.size() - 7) == "#### 12");
}

TEST_CASE("sharegpt converter keeps ids, roles and trains on every assistant turn", "[pool_convert]") {
  Pool p = convert("sharegpt.json", SourceFormat::sharegpt);
  REQUIRE(p.size() == 2);
  CHECK(p.samples[0].uid == "conv_a");
  CHECK(p.samples[1].uid == "conv_b");
  const auto& m = p.samples[0].messages;
  REQUIRE(m.size() == 5);
  CHECK(m[0].role == "system");
  CHECK(m[1].role == "user");
  CHECK(m[2].role == "assistant");
  CHECK(m[3].role == "user");
  CHECK(m[4].role == "assistant");
  CHECK(m[4].content == "4");
  // Both assistant turns are targets: "Hello." + END and "4" + END.
  Encoded e = ByteTokenizer().encode_chat(m, 0);
  CHECK(e.target_count() == 6 + 1 + 1 + 1);
}

TEST_CASE("ultrachat converter: alternating turns, user first, every assistant turn trained on", "[pool_convert]") {
  Pool p = convert("ultrachat.jsonl", SourceFormat::ultrachat);
  REQUIRE(p.size() == 2);
  CHECK(p.samples[0].uid == "0");
  CHECK(p.samples[0].dataset == "ultrachat");
  const auto& m = p.samples[0].messages;
  REQUIRE(m.size() == 4);
  CHECK(m[0].role == "user");
  CHECK(m[0].content == "How do bees make honey?");
  CHECK(m[1].role == "assistant");
  CHECK(m[2].role == "user");
  CHECK(m[2].content == "How long does it take?");
  CHECK(m[3].role == "assistant");
  CHECK(m[3].content == "A few days for the nectar to ripen.");
  // Both answers are targets, each with its END token.
  Encoded e = ByteTokenizer().encode_chat(m, 0);
  CHECK(e.target_count() == static_cast<int64_t>(m[1].content.size() + 1 + m[3].content.size() + 1));
  CHECK(p.samples[1].messages.size() == 2);
}

TEST_CASE("math converter: problem to solution, level and type checked but not kept", "[pool_convert]") {
  Pool p = convert("math.json", SourceFormat::math);
  REQUIRE(p.size() == 2);
  CHECK(p.samples[0].uid == "math_0");
  CHECK(p.samples[1].uid == "math_1");
  CHECK(p.samples[0].dataset == "math");
  REQUIRE(p.samples[0].messages.size() == 2);
  CHECK(user_of(p.samples[0]) == "What is $1+1$?");
  CHECK(assistant_of(p.samples[0]) == "We add: $1+1=\\boxed{2}$.");
}

TEST_CASE("malformed ultrachat records: odd turn count, empty and mistyped turns, duplicate ids", "[pool_convert]") {
  std::string err = error_of([] { convert("ultrachat_bad.jsonl", SourceFormat::ultrachat); });
  CHECK(err.find("ultrachat_bad.jsonl:1 (record 0)") != std::string::npos);
  CHECK(err.find("\"data\" has 1 turns") != std::string::npos);
  CHECK(err.find("--skip-bad") != std::string::npos);

  RecordTally t;
  Pool p = convert("ultrachat_bad.jsonl", SourceFormat::ultrachat, &t, true);
  REQUIRE(p.size() == 1);
  CHECK(p.samples[0].uid == "15");
  CHECK(t.records == 8);
  CHECK(t.accepted == 1);
  CHECK(t.rejected == 7);
  CHECK(t.rejected_by_kind["odd number of turns"] == 1);
  CHECK(t.rejected_by_kind["empty response"] == 1);
  CHECK(t.rejected_by_kind["turn is not a string"] == 1);
  CHECK(t.rejected_by_kind["missing field \"data\""] == 1);
  CHECK(t.rejected_by_kind["empty conversation"] == 1);
  CHECK(t.rejected_by_kind["duplicate id"] == 1);
  CHECK(t.rejected_by_kind["invalid JSON"] == 1);
  // The message names the turn by index and role.
  CHECK(t.first_rejections[1].message.find("ultrachat_bad.jsonl:2 (record 1): data[1] (assistant turn)") !=
        std::string::npos);
  CHECK(t.first_rejections[2].message.find("data[1] (assistant turn): expected a string, got number") !=
        std::string::npos);
}

TEST_CASE("malformed math records: missing solution, mistyped level, empty problem", "[pool_convert]") {
  std::string err = error_of([] { convert("math_bad.jsonl", SourceFormat::math); });
  CHECK(err.find("math_bad.jsonl:2 (record 1): missing field \"solution\"") != std::string::npos);

  RecordTally t;
  Pool p = convert("math_bad.jsonl", SourceFormat::math, &t, true);
  REQUIRE(p.size() == 1);
  CHECK(p.samples[0].uid == "math_0");
  CHECK(t.records == 5);
  CHECK(t.rejected == 4);
  CHECK(t.rejected_by_kind["missing field \"solution\""] == 1);
  CHECK(t.rejected_by_kind["field \"level\" is not a string"] == 1);
  CHECK(t.rejected_by_kind["empty prompt"] == 1);
  CHECK(t.rejected_by_kind["field \"solution\" is not a string"] == 1);
  CHECK(t.first_rejections[1].message.find("math_bad.jsonl:3 (record 2): field \"level\" must be a string") !=
        std::string::npos);
}

TEST_CASE("real Code Alpaca 2k: all 2017 records accounted for, the 2 empty outputs rejected", "[pool_convert][shared_data]") {
  const std::string path = shared_file("pools/codealpaca/code_alpaca_2k.json");
  if (!file_exists(path)) {
    std::cout << "SKIPPED: " << path << " not found (shared data absent)\n";
    return;
  }
  ConvertOptions o;
  o.format = SourceFormat::codealpaca;
  // Records 237 (line 1187) and 1859 have "output": "": without skip_bad the first one stops us.
  std::string err = error_of([&] { convert_pool_file(path, o, nullptr); });
  CHECK(err.find("code_alpaca_2k.json:1187 (record 237): field \"output\" is empty") != std::string::npos);

  o.skip_bad = true;
  RecordTally t;
  Pool p = convert_pool_file(path, o, &t);
  CHECK(t.records == 2017);
  CHECK(p.size() == 2015);
  CHECK(t.accepted == 2015);
  CHECK(t.rejected == 2);
  CHECK(t.rejected_by_kind["empty response"] == 2);
  REQUIRE(t.first_rejections.size() == 2);
  CHECK(t.first_rejections[1].where.find("(record 1859)") != std::string::npos);
  CHECK(user_of(p.samples[0]) == "What are the distinct values from the given list?\n\ndataList = [3, 9, 3, 5, 7, 9, 5]");
  CHECK(assistant_of(p.samples[0]) == "The distinct values from the given list are 3, 5, 7 and 9.");
  CHECK(p.samples.back().uid == "codealpaca_2016");
  CHECK(p.samples[237].uid == "codealpaca_238");  // ids keep the source index
}

TEST_CASE("real GSM8K train converts to 7473 records", "[pool_convert][shared_data]") {
  const std::string path = shared_file("gsm8k/train.jsonl");
  if (!file_exists(path)) {
    std::cout << "SKIPPED: " << path << " not found (shared data absent)\n";
    return;
  }
  ConvertOptions o;
  o.format = SourceFormat::gsm8k;
  RecordTally t;
  Pool p = convert_pool_file(path, o, &t);
  CHECK(p.size() == 7473);
  CHECK(t.rejected == 0);
  CHECK(p.samples[0].uid == "gsm8k_0");
  CHECK(user_of(p.samples[0]).rfind("Natalia sold clips to 48 of her friends", 0) == 0);
  const std::string& a0 = assistant_of(p.samples[0]);
  REQUIRE(a0.size() > 7);
  CHECK(a0.substr(a0.size() - 7) == "#### 72");
}

TEST_CASE("malformed alpaca records: errors name file, line, record and field; --skip-bad counts", "[pool_convert]") {
  std::string err = error_of([] { convert("alpaca_bad.json", SourceFormat::alpaca); });
  CHECK(err.find("alpaca_bad.json:3 (record 1)") != std::string::npos);
  CHECK(err.find("missing field \"output\"") != std::string::npos);
  CHECK(err.find("--skip-bad") != std::string::npos);

  RecordTally t;
  Pool p = convert("alpaca_bad.json", SourceFormat::alpaca, &t, true);
  REQUIRE(p.size() == 2);
  CHECK(p.samples[0].uid == "alpaca_0");
  CHECK(p.samples[1].uid == "alpaca_5");  // ids do not shift when records are skipped
  CHECK(t.records == 6);
  CHECK(t.accepted == 2);
  CHECK(t.rejected == 4);
  CHECK(t.rejected_by_kind["missing field \"output\""] == 1);
  CHECK(t.rejected_by_kind["field \"output\" is not a string"] == 1);
  CHECK(t.rejected_by_kind["empty response"] == 1);
  CHECK(t.rejected_by_kind["invalid JSON"] == 1);
  REQUIRE(t.first_rejections.size() == 4);
  CHECK(t.first_rejections[1].where.find("alpaca_bad.json:4 (record 2)") != std::string::npos);
  CHECK(t.first_rejections[1].message.find("must be a string, got number") != std::string::npos);
  CHECK(t.first_rejections[3].where.find("alpaca_bad.json:6 (record 4)") != std::string::npos);
  const std::string summary = t.summary();
  CHECK(summary.find("rejected: 4") != std::string::npos);
  CHECK(summary.find("empty response") != std::string::npos);
}

TEST_CASE("a record with a number beyond a double's range is a counted invalid-JSON rejection", "[pool_convert]") {
  // Found by tests/fuzz/fuzz_pool: nlohmann's out_of_range.406 escaped the record parser.
  lb::testing::TempDir dir("convert_overflow");
  const std::string path = dir.file("big.json");
  std::ofstream(path) << "[{\"instruction\": \"a\", \"output\": \"b\"},\n {\"instruction\": \"c\", \"output\": 1e999}]\n";
  ConvertOptions opts;
  opts.format = SourceFormat::alpaca;
  RecordTally t;
  std::string err;
  try {
    convert_pool_file(path, opts, &t);
  } catch (const InputError& e) {
    err = e.what();
  }
  CHECK(err.find("big.json:2 (record 1)") != std::string::npos);
  CHECK(err.find("number overflow") != std::string::npos);
  opts.skip_bad = true;
  RecordTally t2;
  CHECK(convert_pool_file(path, opts, &t2).size() == 1);
  CHECK(t2.rejected_by_kind["invalid JSON"] == 1);
}

TEST_CASE("a truncated JSON array is an error naming the unfinished record", "[pool_convert]") {
  for (bool skip : {false, true}) {
    std::string err = error_of([&] { convert("alpaca_truncated.json", SourceFormat::alpaca, nullptr, skip); });
    CHECK(err.find("alpaca_truncated.json:3 (record 1)") != std::string::npos);
    CHECK(err.find("ends inside this record") != std::string::npos);
  }
}

TEST_CASE("malformed dolly lines: invalid JSON, missing, empty and mistyped fields", "[pool_convert]") {
  std::string err = error_of([] { convert("dolly_bad.jsonl", SourceFormat::dolly); });
  CHECK(err.find("dolly_bad.jsonl:2 (record 1)") != std::string::npos);
  CHECK(err.find("invalid JSON") != std::string::npos);

  RecordTally t;
  Pool p = convert("dolly_bad.jsonl", SourceFormat::dolly, &t, true);
  REQUIRE(p.size() == 2);
  CHECK(p.samples[1].uid == "dolly_5");
  CHECK(t.rejected == 4);
  CHECK(t.rejected_by_kind["invalid JSON"] == 1);
  CHECK(t.rejected_by_kind["missing field \"response\""] == 1);
  CHECK(t.rejected_by_kind["empty response"] == 1);
  CHECK(t.rejected_by_kind["field \"context\" is not a string"] == 1);
  CHECK(t.first_rejections[1].message.find("dolly_bad.jsonl:3 (record 2): missing field \"response\"") !=
        std::string::npos);
}

TEST_CASE("malformed sharegpt conversations and duplicate ids", "[pool_convert]") {
  std::string err = error_of([] { convert("sharegpt_bad.json", SourceFormat::sharegpt); });
  CHECK(err.find("sharegpt_bad.json:2 (record 0): conversations[1]") != std::string::npos);
  CHECK(err.find("\"from\"") != std::string::npos);
  CHECK(err.find("robot") != std::string::npos);

  RecordTally t;
  Pool p = convert("sharegpt_bad.json", SourceFormat::sharegpt, &t, true);
  REQUIRE(p.size() == 1);
  CHECK(p.samples[0].uid == "s3");
  CHECK(t.rejected == 4);
  CHECK(t.rejected_by_kind["unknown speaker"] == 1);
  CHECK(t.rejected_by_kind["no assistant turn"] == 1);
  CHECK(t.rejected_by_kind["empty response"] == 1);
  CHECK(t.rejected_by_kind["duplicate id"] == 1);
  CHECK(t.first_rejections[3].message.find("already used by") != std::string::npos);
}

TEST_CASE("unnatural: a bad instance is rejected alone, a task without instances as a whole", "[pool_convert]") {
  std::string err = error_of([] { convert("unnatural_bad.jsonl", SourceFormat::unnatural); });
  CHECK(err.find("unnatural_bad.jsonl:1 (record 0): instances[1]") != std::string::npos);
  CHECK(err.find("missing field \"output\"") != std::string::npos);

  RecordTally t;
  Pool p = convert("unnatural_bad.jsonl", SourceFormat::unnatural, &t, true);
  REQUIRE(p.size() == 1);
  CHECK(p.samples[0].uid == "unnatural_0_0");
  CHECK(t.records == 2);
  CHECK(t.rejected == 2);
  CHECK(t.rejected_by_kind["missing field \"output\""] == 1);
  CHECK(t.rejected_by_kind["missing field \"instances\""] == 1);
}

TEST_CASE("gsm8k: an answer without its #### line is rejected", "[pool_convert]") {
  std::string err = error_of([] { convert("gsm8k_bad.jsonl", SourceFormat::gsm8k); });
  CHECK(err.find("gsm8k_bad.jsonl:2 (record 1)") != std::string::npos);
  CHECK(err.find("\"answer\"") != std::string::npos);
  RecordTally t;
  Pool p = convert("gsm8k_bad.jsonl", SourceFormat::gsm8k, &t, true);
  CHECK(p.size() == 1);
  CHECK(t.rejected == 1);
}

TEST_CASE("a file with no convertible record is an error, even with skip_bad", "[pool_convert]") {
  // Dolly records read as GSM8K: every record lacks "question".
  std::string err = error_of([] { convert("dolly.jsonl", SourceFormat::gsm8k, nullptr, true); });
  CHECK(err.find("no record could be converted") != std::string::npos);
  CHECK(err.find("missing field \"question\"") != std::string::npos);
}

TEST_CASE("converted pools round-trip through the validator and Pool::load_jsonl", "[pool_convert]") {
  const std::string out = temp_dir() + "/sharegpt.jsonl";
  Pool p = convert("sharegpt.json", SourceFormat::sharegpt);
  p.save_jsonl(out);
  RecordTally t;
  Pool v = validate_pool_file(out, false, &t);
  REQUIRE(v.size() == p.size());
  CHECK(t.rejected == 0);
  for (size_t i = 0; i < p.size(); ++i) {
    CHECK(v.samples[i].uid == p.samples[i].uid);
    CHECK(v.samples[i].dataset == "sharegpt");
    REQUIRE(v.samples[i].messages.size() == p.samples[i].messages.size());
    for (size_t k = 0; k < p.samples[i].messages.size(); ++k) {
      CHECK(v.samples[i].messages[k].role == p.samples[i].messages[k].role);
      CHECK(v.samples[i].messages[k].content == p.samples[i].messages[k].content);
    }
  }
  CHECK(Pool::load_jsonl(out).size() == 2);
  fs::remove(out);
}

TEST_CASE("validate: every bad messages record is named or counted", "[pool_convert]") {
  std::string err = error_of([] { validate_pool_file(fixture("messages_bad.jsonl"), false, nullptr); });
  CHECK(err.find("messages_bad.jsonl:2 (record 1)") != std::string::npos);
  CHECK(err.find("invalid JSON") != std::string::npos);

  RecordTally t;
  Pool p = validate_pool_file(fixture("messages_bad.jsonl"), true, &t);
  REQUIRE(p.size() == 2);
  CHECK(p.samples[0].uid == "m0");
  CHECK(p.samples[1].uid == "m6");
  CHECK(t.records == 7);
  CHECK(t.rejected == 5);
  CHECK(t.rejected_by_kind["invalid JSON"] == 1);
  CHECK(t.rejected_by_kind["missing field \"messages\""] == 1);
  CHECK(t.rejected_by_kind["messages[]: unknown role"] == 1);
  CHECK(t.rejected_by_kind["duplicate id"] == 1);
  CHECK(t.rejected_by_kind["empty response"] == 1);
  CHECK(t.first_rejections[2].message.find("messages_bad.jsonl:4 (record 3): messages[0]: unknown role 'robot'") !=
        std::string::npos);
}

TEST_CASE("percentiles interpolate linearly between ranks", "[pool_convert]") {
  CHECK(percentile({}, 50) == 0);
  CHECK(percentile({10}, 95) == 10);
  CHECK(percentile({4, 1, 3, 2}, 50) == Approx(2.5));
  CHECK(percentile({4, 1, 3, 2}, 0) == 1);
  CHECK(percentile({4, 1, 3, 2}, 100) == 4);
  CHECK(percentile({16, 17, 17, 17, 30}, 5) == Approx(16.2));
  CHECK(percentile({16, 17, 17, 17, 30}, 95) == Approx(27.4));
}

TEST_CASE("near-duplicate normalisation", "[pool_convert]") {
  CHECK(normalise_for_duplicates("Hello, World!") == "hello world");
  CHECK(normalise_for_duplicates("  hello   world ") == "hello world");
  CHECK(normalise_for_duplicates("a-b_c") == "a b c");
  CHECK(normalise_for_duplicates("Größe?") == "gr\xC3\xB6\xC3\x9F" "e");  // non-ASCII kept, not lower-cased
  CHECK(normalise_for_duplicates("x1 + y2") == "x1 y2");
}

TEST_CASE("MinHash similarity: a one-word edit stays similar, an unrelated text does not", "[pool_convert]") {
  std::string base, edited, other;
  for (int i = 0; i < 60; ++i) {
    base += "word" + std::to_string(i) + " ";
    edited += (i == 30 ? std::string("changed") : "word" + std::to_string(i)) + " ";
    other += "term" + std::to_string(i * 7) + " ";
  }
  auto conv = [](const std::string& user) {
    return std::vector<Message>{{"user", user}, {"assistant", "the same answer for all three"}};
  };
  const auto a = minhash_signature(conv(base)), b = minhash_signature(conv(edited)), c = minhash_signature(conv(other));
  REQUIRE(a.size() == 64);
  CHECK(minhash_similarity(a, a) == 1.0);
  CHECK(minhash_signature(conv(base)) == a);  // deterministic
  // True Jaccard: 66 shingles each, 3 differ -> 63/69 = 0.91.
  CHECK(minhash_similarity(a, b) >= 0.8);
  CHECK(minhash_similarity(a, c) < 0.3);

  Pool p;
  p.add(Sample{"x", "d", 0, conv(base)});
  p.add(Sample{"y", "d", 0, conv(other)});
  p.add(Sample{"z", "d", 0, conv(edited)});
  PoolStats st = compute_pool_stats(p);
  CHECK(st.exact_duplicates == 0);
  CHECK(st.near_duplicates == 0);
  CHECK(st.similar == 1);
  REQUIRE(st.similar_examples.size() == 1);
  CHECK(st.similar_examples[0] == std::make_pair(std::string("z"), std::string("x")));
}

TEST_CASE("stats: counts, duplicates and lengths of a fixture with known answers", "[pool_convert]") {
  RecordTally t;
  Pool p = validate_pool_file(fixture("messages_stats.jsonl"), false, &t);
  PoolStats s = compute_pool_stats(p);
  s.tally = t;
  CHECK(s.samples == 5);
  REQUIRE(s.per_dataset.size() == 2);
  CHECK(s.per_dataset[0] == std::make_pair(std::string("general"), int64_t{4}));
  CHECK(s.per_dataset[1] == std::make_pair(std::string("chat"), int64_t{1}));
  CHECK(s.multi_turn == 1);
  CHECK(s.with_system == 1);
  // b repeats a byte for byte; c equals a after normalisation; d has a's prompt, another response.
  CHECK(s.exact_duplicates == 1);
  CHECK(s.near_duplicates == 1);
  CHECK(s.prompt_duplicates == 1);
  CHECK(s.similar == 2);  // b and c (identical after normalisation); d shares 2 of 4 shingles with a
  REQUIRE(s.exact_examples.size() == 1);
  CHECK(s.exact_examples[0] == std::make_pair(std::string("b"), std::string("a")));
  CHECK(s.near_examples[0] == std::make_pair(std::string("c"), std::string("a")));
  CHECK(s.prompt_examples[0] == std::make_pair(std::string("d"), std::string("a")));
  // Prompt tokens: BOS + USER + content + END + ASSISTANT = content bytes + 4 for a single turn;
  // e: 1 + (1+9+1) + (1+8+1) + 1 + (1+4+1) + 1 = 30 ("Größe?" is 8 bytes). Sorted: 16 17 17 17 30.
  CHECK(s.overall.prompt_tokens.n == 5);
  CHECK(s.overall.prompt_tokens.p50 == Approx(17));
  CHECK(s.overall.prompt_tokens.p5 == Approx(16.2));
  CHECK(s.overall.prompt_tokens.p95 == Approx(27.4));
  CHECK(s.overall.prompt_tokens.mean == Approx(97.0 / 5));
  // Response tokens (content + END per assistant turn): 4 4 5 4 and e: 5+1 + 5+1 = 12.
  CHECK(s.overall.response_tokens.p50 == Approx(4));
  CHECK(s.overall.response_tokens.p95 == Approx(5 + 0.8 * 7));
  CHECK(s.overall.response_tokens.mean == Approx(29.0 / 5));
  // Characters are code points: e's prompt is 9 + 6 + 4 = 19 characters (21 bytes).
  REQUIRE(s.by_dataset.size() == 2);
  CHECK(s.by_dataset[1].first == "chat");
  CHECK(s.by_dataset[1].second.prompt_chars.p50 == Approx(19));
  CHECK(s.by_dataset[1].second.response_chars.p50 == Approx(9));
  CHECK(s.by_dataset[0].second.prompt_chars.p50 == Approx(13));
  CHECK(s.by_dataset[0].second.response_chars.p95 == Approx(3 + 0.85 * 1));

  nlohmann::json j = pool_stats_to_json(s);
  CHECK(j["samples"] == 5);
  CHECK(j["duplicates"]["exact"] == 1);
  CHECK(j["duplicates"]["near"] == 1);
  CHECK(j["duplicates"]["same_prompt_different_response"] == 1);
  CHECK(j["duplicates"]["similar"] == 2);
  CHECK(j["lengths"]["overall"]["prompt_tokens"]["p50"].get<double>() == Approx(17));
  CHECK(j["lengths"]["by_dataset"]["chat"]["prompt_chars"]["p50"].get<double>() == Approx(19));
  CHECK(j["records"]["rejected"] == 0);
  std::string table = format_pool_stats(s);
  CHECK(table.find("general") != std::string::npos);
  CHECK(table.find("near (not exact)") != std::string::npos);
}

TEST_CASE("stats report the records rejected while loading", "[pool_convert]") {
  RecordTally t;
  Pool p = validate_pool_file(fixture("messages_bad.jsonl"), true, &t);
  PoolStats s = compute_pool_stats(p);
  s.tally = t;
  nlohmann::json j = pool_stats_to_json(s);
  CHECK(j["records"]["records"] == 7);
  CHECK(j["records"]["rejected"] == 5);
  CHECK(j["records"]["rejected_by_kind"]["duplicate id"] == 1);
  CHECK(format_pool_stats(s).find("rejected: 5") != std::string::npos);
}

TEST_CASE("leadbench data convert|validate|stats command line", "[pool_convert][cli]") {
  const std::string dir = temp_dir();
  const std::string out = dir + "/dolly.jsonl", json_out = dir + "/stats.json";
  CHECK(cmd_data({"convert", "--help"}) == 0);
  CHECK(cmd_data({"validate", "--help"}) == 0);
  CHECK(cmd_data({"stats", "--help"}) == 0);
  CHECK(cmd_data({}) == 2);
  CHECK(cmd_data({"frobnicate"}) == 2);
  CHECK(cmd_data({"convert", "--format", "vicuna", "--input", fixture("dolly.jsonl"), "--output", out}) == 2);
  CHECK(cmd_data({"convert", "--format", "dolly", "--input", fixture("dolly.jsonl")}) == 2);  // no --output
  CHECK(cmd_data({"convert", "--input", fixture("alpaca.json"), "--output", out}) == 2);  // ambiguous: alpaca-like
  CHECK_FALSE(file_exists(out));
  CHECK(cmd_data({"convert", "--format", "dolly", "--bogus", "--input", fixture("dolly.jsonl"), "--output", out}) == 2);

  REQUIRE(cmd_data({"convert", "--format=dolly", "--input", fixture("dolly.jsonl"), "--output", out}) == 0);
  CHECK(Pool::load_jsonl(out).size() == 3);
  const std::string detected = dir + "/detected.jsonl";
  REQUIRE(cmd_data({"convert", "--input", fixture("sharegpt.json"), "--output", detected}) == 0);  // detected
  CHECK(Pool::load_jsonl(detected).samples[0].uid == "conv_a");
  CHECK(cmd_data({"validate", out}) == 0);

  // A bad input stops with status 1 and leaves no output; --skip-bad converts the good records.
  const std::string bad_out = dir + "/dolly_bad.jsonl";
  CHECK(cmd_data({"convert", "--format", "dolly", "--input", fixture("dolly_bad.jsonl"), "--output", bad_out}) == 1);
  CHECK_FALSE(file_exists(bad_out));
  CHECK(cmd_data({"convert", "--format", "dolly", "--input", fixture("dolly_bad.jsonl"), "--output", bad_out,
                  "--skip-bad"}) == 0);
  CHECK(Pool::load_jsonl(bad_out).size() == 2);

  CHECK(cmd_data({"validate", fixture("messages_bad.jsonl")}) == 1);
  CHECK(cmd_data({"validate", fixture("messages_bad.jsonl"), "--skip-bad"}) == 1);

  REQUIRE(cmd_data({"stats", fixture("messages_stats.jsonl"), "--json", json_out}) == 0);
  nlohmann::json j = read_json_file(json_out);
  CHECK(j["samples"] == 5);
  CHECK(j["duplicates"]["exact"] == 1);
  CHECK(cmd_data({"stats", fixture("messages_bad.jsonl")}) == 1);
  CHECK(cmd_data({"stats", fixture("messages_bad.jsonl"), "--skip-bad"}) == 0);
  fs::remove_all(dir);
}
