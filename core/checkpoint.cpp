// load_checkpoint: dispatch on what the path is.
#include "core/checkpoint.h"

#include "core/gguf_checkpoint.h"
#include "core/json_io.h"

#include <filesystem>

namespace lb {

namespace fs = std::filesystem;

LoadedHfModel load_checkpoint(const std::string& path, torch::Device device, c10::optional<torch::ScalarType> dtype) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return load_hf_checkpoint(path, device, dtype);
  const bool gguf_name = path.size() >= 5 && path.compare(path.size() - 5, 5, ".gguf") == 0;
  if (gguf_name || (fs::is_regular_file(path, ec) && gguf::looks_like_gguf(path)))
    return load_gguf_checkpoint(path, device, dtype);
  if (!fs::exists(path, ec)) throw InputError(path + ": not found; give a Hugging Face model folder or a .gguf file");
  throw InputError(path + ": neither a folder nor a GGUF file; give a Hugging Face model folder (config.json + "
                   "safetensors) or a llama.cpp .gguf file");
}

HfTokenizer load_checkpoint_tokenizer(const std::string& path) { return HfTokenizer::load(path); }

}  // namespace lb
