// Tests of the checked file reader on gzip files: a complete file (one or several gzip members)
// reads in full; a file cut anywhere before the end of its gzip stream (inside the header, inside
// the data, exactly at a flush point after a complete record, or before or inside the trailer),
// an empty file and plain text named ".gz" are errors naming the file, never a shorter text.
#include "core/json_io.h"
#include "core/pool.h"
#include "tiny_world.h"

#include <catch2/catch.hpp>

#include <zlib.h>

#include <fstream>

using namespace lb;
using namespace lb::testing;

namespace {

// A gzip stream of `records`, with a full flush after each one; `*boundaries` receives the
// compressed size at each flush: cutting the stream there leaves exactly the first k records.
std::string gzip_records(const std::vector<std::string>& records, std::vector<size_t>* boundaries) {
  z_stream z{};
  REQUIRE(deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK);
  std::string out;
  unsigned char buf[1 << 14];
  auto pump = [&](const std::string& in, int flush) {
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z.avail_in = static_cast<uInt>(in.size());
    int ret;
    do {
      z.next_out = buf;
      z.avail_out = sizeof buf;
      ret = deflate(&z, flush);
      REQUIRE(ret != Z_STREAM_ERROR);
      out.append(reinterpret_cast<char*>(buf), sizeof buf - z.avail_out);
    } while (z.avail_out == 0 || (flush == Z_FINISH && ret != Z_STREAM_END));
  };
  for (const auto& r : records) {
    pump(r, Z_FULL_FLUSH);
    if (boundaries) boundaries->push_back(out.size());
  }
  pump("", Z_FINISH);
  deflateEnd(&z);
  return out;
}

std::string write_bytes(const TempDir& dir, const std::string& name, const std::string& bytes) {
  const std::string path = dir.file(name);
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

std::string pool_line(int i) {
  return R"({"id": "s)" + std::to_string(i) +
         R"(", "dataset": "d", "messages": [{"role": "user", "content": "question )" + std::to_string(i) +
         R"("}, {"role": "assistant", "content": "answer"}]})" + "\n";
}

// The InputError text of a call that must fail ("" and a test failure when it does not).
template <class F> std::string error_of(F&& fn) {
  try {
    fn();
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("a complete .gz file reads in full, also with several gzip members", "[json_io]") {
  TempDir dir("gz_ok");
  std::vector<std::string> records;
  std::string text;
  for (int i = 0; i < 50; ++i) {
    records.push_back(pool_line(i));
    text += records.back();
  }
  const std::string gz = gzip_records(records, nullptr);
  const std::string path = write_bytes(dir, "pool.jsonl.gz", gz);
  CHECK(read_text_file(path) == text);
  CHECK(Pool::load_jsonl(path).size() == 50);
  // Two members back to back (what `cat a.gz b.gz` makes) are one text.
  const std::string twice = write_bytes(dir, "twice.jsonl.gz", gz + gz);
  CHECK(read_text_file(twice) == text + text);
}

TEST_CASE("a .gz file cut short is an error naming the file, wherever it is cut", "[json_io]") {
  TempDir dir("gz_cut");
  std::vector<std::string> records;
  for (int i = 0; i < 40; ++i) records.push_back(pool_line(i));
  std::vector<size_t> boundaries;
  const std::string gz = gzip_records(records, &boundaries);
  REQUIRE(boundaries.size() == 40);
  // Offsets: inside the 10-byte header, in the middle of the data, exactly at flush points after
  // complete records (the text read so far ends with a whole record), after the last record but
  // before the end-of-stream block, before the 8-byte trailer, inside the trailer, one byte short.
  std::vector<size_t> cuts = {2, 5, 9, 10, gz.size() / 2, boundaries[0], boundaries[19], boundaries[38],
                              boundaries[39], gz.size() - 8, gz.size() - 4, gz.size() - 1};
  for (size_t cut : cuts) {
    INFO("cut at " << cut << " of " << gz.size() << " bytes");
    REQUIRE(cut < gz.size());
    const std::string path = write_bytes(dir, "cut_" + std::to_string(cut) + ".jsonl.gz", gz.substr(0, cut));
    const std::string msg = error_of([&] { read_text_file(path); });
    INFO(msg);
    CHECK(msg.find(path) != std::string::npos);
    CHECK(msg.find("re-download or re-create") != std::string::npos);
    // The pool reader (and every JSONL reader) goes through the same check.
    const std::string pool_msg = error_of([&] { Pool::load_jsonl(path, /*skip_bad=*/true, nullptr); });
    CHECK(pool_msg.find(path) != std::string::npos);
  }
  // At the flush points the message says what happened.
  const std::string at_boundary = write_bytes(dir, "boundary.jsonl.gz", gz.substr(0, boundaries[19]));
  CHECK_THROWS_WITH(read_text_file(at_boundary), Catch::Contains("truncated gzip stream"));
  const std::string no_trailer = write_bytes(dir, "no_trailer.jsonl.gz", gz.substr(0, gz.size() - 8));
  CHECK_THROWS_WITH(read_text_file(no_trailer), Catch::Contains("truncated gzip stream"));
}

TEST_CASE("a corrupt, empty or uncompressed .gz file is an error naming the file", "[json_io]") {
  TempDir dir("gz_bad");
  const std::string gz = gzip_records({pool_line(0), pool_line(1), pool_line(2)}, nullptr);
  std::string flipped = gz;
  flipped[gz.size() - 6] = static_cast<char>(flipped[gz.size() - 6] ^ 0x10);  // in the CRC of the trailer
  const std::string crc = write_bytes(dir, "crc.jsonl.gz", flipped);
  CHECK_THROWS_WITH(read_text_file(crc), Catch::Contains(crc) && Catch::Contains("corrupt gzip data"));
  const std::string empty = write_bytes(dir, "empty.jsonl.gz", "");
  CHECK_THROWS_WITH(read_text_file(empty), Catch::Contains(empty) && Catch::Contains("the file is empty"));
  const std::string plain = write_bytes(dir, "plain.jsonl.gz", pool_line(0));
  CHECK_THROWS_WITH(read_text_file(plain), Catch::Contains(plain) && Catch::Contains("not gzip data"));
}

TEST_CASE("a JSON number beyond a double's range is an InputError naming the file and line", "[json_io]") {
  // Found by tests/fuzz/fuzz_config: nlohmann's out_of_range.406 escaped parse_json_text.
  const std::string msg = error_of([] { lb::parse_json_text("{\n  \"lr\": 1e999\n}", "cfg.json"); });
  CHECK(msg.find("cfg.json:2") != std::string::npos);
  CHECK(msg.find("1e999") != std::string::npos);
  CHECK(error_of([] { lb::parse_json_text("[3e343]", "t.json"); }).find("t.json:1") != std::string::npos);
}

TEST_CASE("a JSONL line with a number beyond a double's range is an InputError naming file and line", "[json_io]") {
  // Found by tests/fuzz/fuzz_pool: nlohmann's out_of_range.406 escaped for_each_jsonl.
  TempDir dir("jsonl_overflow");
  const std::string path = write_bytes(dir, "p.jsonl", pool_line(0) + R"({"id": "s1", "x": 1e999})" "\n" + pool_line(2));
  const std::string msg = error_of([&] { Pool::load_jsonl(path); });
  CHECK(msg.find("p.jsonl:2") != std::string::npos);
  CHECK(msg.find("number overflow") != std::string::npos);
  int64_t skipped = 0;
  CHECK(Pool::load_jsonl(path, true, &skipped).size() == 2);
  CHECK(skipped == 1);
}
