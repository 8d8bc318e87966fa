// safetensors reader and writer (the format of Hugging Face checkpoints): an 8-byte little-endian
// header length N, N bytes of JSON {"name": {"dtype", "shape", "data_offsets": [begin, end]}, ...,
// "__metadata__": {string: string}}, then the raw little-endian tensor bytes, offsets relative to
// the end of the header. Every malformed file is an InputError naming the file and the problem.
//
// Integrity: every file this writer produces carries a CRC-32 of its contents in the metadata entry
// "content_crc32" (8 hex digits; over each tensor's name, dtype, shape and bytes in data order, then
// every other metadata entry), and the reader verifies it when present, so a flipped bit or a
// partial overwrite is an error instead of a model. Floating-point tensors must be finite. Files
// without the entry (other writers, older files) are read as before, their floats checked too.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace lb::safetensors {

// A named tensor list plus the string metadata map: what one file holds.
struct TensorFile {
  std::vector<std::pair<std::string, torch::Tensor>> tensors;  // in the order of their data; CPU, contiguous
  std::map<std::string, std::string> metadata;                  // "__metadata__" without "content_crc32"
  bool checksum_verified = false;  // parse: the file carried "content_crc32" and it matched

  // nullptr when absent.
  const torch::Tensor* find(const std::string& name) const;
  void add(const std::string& name, const torch::Tensor& t) { tensors.emplace_back(name, t); }
};

// dtype codes of the format: F64 F32 F16 BF16 I64 I32 I16 I8 U8 BOOL.
const char* dtype_code(torch::ScalarType t);  // throws std::invalid_argument for other types
bool dtype_from_code(const std::string& code, torch::ScalarType* out);

// The metadata entry holding the checksum.
inline constexpr const char* kChecksumKey = "content_crc32";

// The file's bytes (tensors are moved to CPU and made contiguous; the header is padded with
// spaces to a multiple of 8 bytes so that tensor data is aligned; the checksum entry is added,
// replacing one in `file.metadata`). Duplicate names throw.
std::string serialize(const TensorFile& file);
// Parses bytes produced by serialize (or any conforming writer). `source` names the file in errors.
// A checksum that does not match, or a NaN or infinity in a floating-point tensor, is an InputError.
TensorFile parse(const std::string& bytes, const std::string& source);

// One tensor's header entry: dtype, shape and byte range relative to the start of the data.
struct TensorEntry {
  std::string name;
  torch::ScalarType dtype;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;
};

// A validated header: entries in the order of their data, the metadata, and where the data starts.
struct Header {
  std::vector<TensorEntry> entries;
  std::map<std::string, std::string> metadata;
  uint64_t data_offset = 0;  // bytes from the file start to the first tensor byte
  const TensorEntry* find(const std::string& name) const;  // nullptr when absent
};

// Checks `size` bytes of a file (at least its header and the data the header describes): every
// offset, shape and dtype, and that the data is covered exactly once. `source` names it in errors.
Header parse_header(const char* bytes, uint64_t size, const std::string& source);

// A safetensors file memory-mapped read-only: tensors are views of the mapping (no copy is made;
// pages are read on first touch). release() drops a tensor's pages from the resident set once it
// has been converted, so that loading a checkpoint never holds the file and the model together.
class MappedFile {
 public:
  explicit MappedFile(const std::string& path);  // InputError: missing, unreadable or invalid file
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const std::string& path() const { return path_; }
  const Header& header() const { return header_; }
  // A CPU tensor aliasing the mapping (read-only: never write to it); valid while this object lives.
  torch::Tensor view(const TensorEntry& e) const;
  void release(const TensorEntry& e) const;

 private:
  std::string path_;
  const char* base_ = nullptr;
  uint64_t size_ = 0;
  Header header_;
};

// Atomic write (temporary file + rename): a reader never sees a half-written checkpoint.
void save_file(const std::string& path, const TensorFile& file);
// Reads and validates a whole file; InputError for a missing, truncated or corrupt one.
TensorFile load_file(const std::string& path);

// Module weights by their named_parameters / named_buffers names (e.g. a pretrained base model).
void save_module(const std::string& path, const torch::nn::Module& module,
                 const std::map<std::string, std::string>& metadata = {});
// Copies every parameter and buffer of `module` from `path` (converting dtype only between float
// types); a missing, extra or wrongly-shaped tensor is an InputError. Returns the metadata.
std::map<std::string, std::string> load_module(const std::string& path, torch::nn::Module& module);

}  // namespace lb::safetensors
