// libFuzzer target: the GGUF reader (core/gguf.cpp: header, metadata, tensor infos, bounds), then
// dequantising every tensor it accepts and building the tokenizer its metadata describes
// (core/gguf_tokenizer.cpp). Expected error: lb::InputError.
#include "core/gguf.h"
#include "core/gguf_tokenizer.h"
#include "core/json_io.h"
#include "tests/fuzz/fuzz_common.h"

#include <cstdint>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = lb_fuzz::scratch_file(lb_fuzz::as_string(data, size), ".gguf");
  try {
    lb::gguf::File f(path);
    for (const auto& t : f.tensors()) {
      if (!lb::gguf::ggml_type_supported(t.type) || t.numel() > (1 << 20)) continue;
      const std::vector<float> w = f.dequantize(t);
      (void)w;
    }
    if (f.find("tokenizer.ggml.model")) {
      nlohmann::json config;
      const nlohmann::json doc = lb::gguf_tokenizer_json(f, &config);
      const lb::HfTokenizer tok = lb::HfTokenizer::from_json(doc, path, config);
      (void)tok.decode(tok.encode("Hello world, 123  45 \xc3\xa9t\xc3\xa9!\n", true), false);
    }
  } catch (const lb::InputError&) {
  }
  return 0;
}
