// Tests of pool ids (core/pool.h, core/pool_convert.h): integer ids keep their exact decimal text up
// to 2^64 - 1, so no two distinct ids collide; a duplicate id is an error naming both lines; an
// empty pool is an error naming the file.
#include "core/json_io.h"
#include "core/pool.h"
#include "core/pool_convert.h"
#include "tiny_world.h"

#include <catch2/catch.hpp>

#include <fstream>

using namespace lb;
using namespace lb::testing;

namespace {

std::string record(const std::string& id_json) {
  return R"({"id": )" + id_json +
         R"(, "dataset": "d", "messages": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}]})";
}

std::string write_text(const TempDir& dir, const std::string& name, const std::string& text) {
  const std::string path = dir.file(name);
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

}  // namespace

TEST_CASE("integer pool ids round-trip exactly up to 2^64 - 1", "[pool]") {
  TempDir dir("pool_ids");
  const std::string path = write_text(dir, "ids.jsonl",
                                      record("18446744073709551615") + "\n" + record("-1") + "\n" +
                                          record("9223372036854775808") + "\n" + record("-9223372036854775808") +
                                          "\n" + record("7") + "\n" + record("\"x\"") + "\n");
  Pool p = Pool::load_jsonl(path);
  REQUIRE(p.size() == 6);
  CHECK(p.samples[0].uid == "18446744073709551615");
  CHECK(p.samples[1].uid == "-1");
  CHECK(p.samples[2].uid == "9223372036854775808");
  CHECK(p.samples[3].uid == "-9223372036854775808");
  CHECK(p.samples[4].uid == "7");
  CHECK(p.samples[5].uid == "x");
  // Saved and read back: the same ids.
  const std::string again = dir.file("again.jsonl");
  p.save_jsonl(again);
  Pool q = Pool::load_jsonl(again);
  REQUIRE(q.size() == p.size());
  for (size_t i = 0; i < p.size(); ++i) CHECK(q.samples[i].uid == p.samples[i].uid);
  // The validator and the converters read ids the same way.
  RecordTally t;
  CHECK(validate_pool_file(path, false, &t).samples[0].uid == "18446744073709551615");
  const std::string dolly = write_text(
      dir, "dolly.jsonl",
      R"({"id": 18446744073709551615, "instruction": "i", "context": "", "response": "r"})"
      "\n"
      R"({"id": -1, "instruction": "i", "context": "", "response": "r"})"
      "\n");
  ConvertOptions o;
  o.format = SourceFormat::dolly;
  Pool c = convert_pool_file(dolly, o, nullptr);
  REQUIRE(c.size() == 2);
  CHECK(c.samples[0].uid == "18446744073709551615");
  CHECK(c.samples[1].uid == "-1");
}

TEST_CASE("an id beyond 64 bits is an error that says to quote it", "[pool]") {
  TempDir dir("pool_big_id");
  const std::string path = write_text(dir, "big.jsonl", record("18446744073709551616") + "\n");
  CHECK_THROWS_WITH(Pool::load_jsonl(path), Catch::Contains(path + ":1") && Catch::Contains("as a string"));
}

TEST_CASE("a duplicate pool id is an error naming both lines", "[pool]") {
  TempDir dir("pool_dup");
  const std::string path =
      write_text(dir, "dup.jsonl", record("\"a\"") + "\n" + record("\"b\"") + "\n\n" + record("\"a\"") + "\n");
  CHECK_THROWS_WITH(Pool::load_jsonl(path), Catch::Contains(path + ":4") && Catch::Contains("duplicate id 'a'") &&
                                                Catch::Contains("line 1"));
}

TEST_CASE("an empty pool file is an error naming the file", "[pool]") {
  TempDir dir("pool_empty");
  const std::string empty = write_text(dir, "empty.jsonl", "");
  CHECK_THROWS_WITH(Pool::load_jsonl(empty), Catch::Contains(empty) && Catch::Contains("no valid records"));
  const std::string blank = write_text(dir, "blank.jsonl", "\n  \n");
  CHECK_THROWS_WITH(Pool::load_jsonl(blank), Catch::Contains(blank));
  CHECK_THROWS_WITH(validate_pool_file(empty, true, nullptr), Catch::Contains(empty) && Catch::Contains("no valid record"));
}
