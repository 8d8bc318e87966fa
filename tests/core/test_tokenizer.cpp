// Byte tokenizer: lossless round trip on random bytes; chat template masks all but assistant turns.
#include "core/seeds.h"
#include "core/tokenizer.h"

#include <catch2/catch.hpp>

TEST_CASE("tokenizer: round trip on random bytes and UTF-8") {
  lb::ByteTokenizer tok;
  lb::Rng rng(7);
  for (int t = 0; t < 50; ++t) {
    std::string s;
    size_t n = rng.below(200);
    for (size_t i = 0; i < n; ++i) s.push_back(static_cast<char>(rng.below(256)));
    CHECK(tok.decode(tok.encode(s)) == s);
  }
  std::string u = "naïve — 日本語 🙂 русский";
  CHECK(tok.decode(tok.encode(u)) == u);
}

TEST_CASE("tokenizer: loss only on assistant content and END") {
  lb::ByteTokenizer tok;
  std::vector<lb::Message> m = {{"system", "S"}, {"user", "hi"}, {"assistant", "yo"}, {"user", "q"}, {"assistant", "a"}};
  auto e = tok.encode_chat(m, 0);
  // BOS SYS S END USER h i END ASSIST y o END USER q END ASSIST a END
  std::vector<int32_t> ids = {lb::tok::kBos, lb::tok::kSystem, 'S', lb::tok::kEnd, lb::tok::kUser, 'h', 'i', lb::tok::kEnd,
                              lb::tok::kAssistant, 'y', 'o', lb::tok::kEnd, lb::tok::kUser, 'q', lb::tok::kEnd,
                              lb::tok::kAssistant, 'a', lb::tok::kEnd};
  std::vector<uint8_t> mask = {0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 1, 1};
  CHECK(e.ids == ids);
  CHECK(e.loss_mask == mask);
  auto r = tok.encode_response_only(m, 0);
  CHECK(r.target_count() == 5);
  CHECK(tok.encode_chat(m, 5).ids.size() == 5);
  CHECK_THROWS(tok.encode_chat({{"robot", "x"}}, 0));
}
