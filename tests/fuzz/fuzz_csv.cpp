// libFuzzer target: the RFC-4180 CSV reader (evaluation/csv.cpp). Expected error: lb::InputError.
#include "core/json_io.h"
#include "evaluation/csv.h"
#include "tests/fuzz/fuzz_common.h"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text = lb_fuzz::as_string(data, size);
  try {
    const auto rows = lb::parse_csv(text, "fuzz.csv");
    int64_t last = 0;
    for (const auto& r : rows) {
      // Rows come in file order, each starting on a line of the text.
      if (r.line <= last || r.line < 1) __builtin_trap();
      last = r.line;
    }
  } catch (const lb::InputError&) {
  }
  return 0;
}
