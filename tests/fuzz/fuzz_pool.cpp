// libFuzzer target: the messages-format pool reader (Pool::load_jsonl, validate_pool_file) and
// every source-format converter (convert_pool_file) of core/pool_convert.h, through a scratch file
// as the command line reads them. The first input byte picks the reader, skip_bad and the file
// suffix (".gz" is read through zlib); the rest is the file's content.
// Expected error: lb::InputError (the converters' RecordError is one).
#include "core/json_io.h"
#include "core/pool.h"
#include "core/pool_convert.h"
#include "tests/fuzz/fuzz_common.h"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  const std::string content = lb_fuzz::as_string(data + 1, size - 1);
  const bool skip_bad = (mode & 0x10) != 0;
  const bool gz = (mode & 0x20) != 0;
  const int reader = (mode & 0x0f) % 10;  // 0 load_jsonl, 1 validate, 2.. the eight converters
  const std::string path = lb_fuzz::scratch_file(content, gz ? ".jsonl.gz" : ".jsonl");
  try {
    if (reader == 0) {
      int64_t skipped = 0;
      lb::Pool pool = lb::Pool::load_jsonl(path, skip_bad, &skipped);
      for (size_t i = 0; i < pool.size(); ++i)
        if (pool.samples[i].task < 0 || static_cast<size_t>(pool.samples[i].task) >= pool.tasks.size()) __builtin_trap();
    } else if (reader == 1) {
      lb::RecordTally tally;
      lb::Pool pool = lb::validate_pool_file(path, skip_bad, &tally);
      (void)lb::compute_pool_stats(pool);
      (void)tally.summary();
    } else {
      static const char* kFormats[] = {"alpaca", "codealpaca", "dolly", "unnatural", "gsm8k", "sharegpt", "ultrachat", "math"};
      lb::ConvertOptions opts;
      opts.format = lb::parse_source_format(kFormats[reader - 2]);
      opts.skip_bad = skip_bad;
      opts.unnatural_constraints = (mode & 0x40) != 0;
      lb::RecordTally tally;
      lb::Pool pool = lb::convert_pool_file(path, opts, &tally);
      (void)tally.to_json();
      // Every converted sample must pass the messages-format checks when written and read back
      // (in memory: save_jsonl's fsync would dominate the run time).
      for (size_t i = 0; i < pool.size(); ++i) {
        const nlohmann::json j = lb::Pool::sample_to_json(pool.samples[i], nullptr);
        if (lb::Pool::sample_from_json(j, "converted", nullptr).uid != pool.samples[i].uid) __builtin_trap();
      }
    }
  } catch (const lb::InputError&) {
  }
  return 0;
}
