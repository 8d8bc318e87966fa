// libFuzzer target: the safetensors reader of core/safetensors.h, as checkpoints reach it: the
// whole-file parse (header, offsets, checksum, finiteness of floats) and the memory-mapped reader
// (header checks, then a view of every tensor). The first input byte picks the reader; the rest is
// the file. Expected error: lb::InputError. A parsed file must satisfy what the header promised.
#include "core/json_io.h"
#include "core/safetensors.h"
#include "tests/fuzz/fuzz_common.h"

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const bool mapped = (data[0] & 1) != 0;
  const std::string content = lb_fuzz::as_string(data + 1, size - 1);
  try {
    if (mapped) {
      const std::string path = lb_fuzz::scratch_file(content, ".safetensors");
      lb::safetensors::MappedFile file(path);
      for (const auto& e : file.header().entries) {
        if (e.end < e.begin || file.header().data_offset + e.end > content.size()) __builtin_trap();
        torch::Tensor t = file.view(e);
        if (static_cast<uint64_t>(t.numel()) * t.element_size() != e.end - e.begin) __builtin_trap();
        if (t.numel() > 0) (void)t.sum();  // touches every byte of the view
        file.release(e);
      }
    } else {
      lb::safetensors::TensorFile file = lb::safetensors::parse(content, "fuzz.safetensors");
      for (const auto& [name, t] : file.tensors)
        if (!t.is_contiguous() || file.find(name) == nullptr) __builtin_trap();
      // What parse accepts, serialize must write and parse must read back to the same tensors.
      const lb::safetensors::TensorFile again = lb::safetensors::parse(lb::safetensors::serialize(file), "again");
      if (again.tensors.size() != file.tensors.size()) __builtin_trap();
      for (size_t i = 0; i < file.tensors.size(); ++i)
        if (again.tensors[i].first != file.tensors[i].first || !again.tensors[i].second.equal(file.tensors[i].second))
          __builtin_trap();
    }
  } catch (const lb::InputError&) {
  }
  return 0;
}
