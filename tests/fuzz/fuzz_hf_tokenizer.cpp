// libFuzzer target: the Hugging Face tokenizer.json loader (core/hf_tokenizer.cpp) and, when the
// document loads, encoding and decoding a fixed text and the ids it gives.
// Expected error: lb::InputError.
#include "core/hf_tokenizer.h"
#include "core/json_io.h"
#include "tests/fuzz/fuzz_common.h"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text = lb_fuzz::as_string(data, size);
  try {
    const nlohmann::json doc = lb::parse_json_text(text, "tokenizer.json");
    const lb::HfTokenizer tok = lb::HfTokenizer::from_json(doc, "tokenizer.json");
    const auto ids = tok.encode("Hello world, 123 \xc3\xa9t\xc3\xa9!\n  ab", true);
    (void)tok.decode(ids, false);
    (void)tok.decode(ids, true);
    (void)tok.vocab_size();
  } catch (const lb::InputError&) {
  }
  return 0;
}
