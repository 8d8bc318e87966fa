// The content-addressed cache of repeated deterministic work; see result_cache.h.
#include "core/file_lock.h"
#include "core/result_cache.h"

#include "core/config.h"
#include "core/device.h"
#include "core/json_io.h"
#include "core/progress.h"
#include "core/safetensors.h"

#include <ATen/CPUGeneratorImpl.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <sstream>

namespace fs = std::filesystem;

namespace lb {

namespace {

constexpr const char* kFormat = "leadbench-result-cache/1";

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string host_name() {
  char host[256] = {0};
  ::gethostname(host, sizeof(host) - 1);
  return host;
}

// This process's command line with the program named by its file name only, as records name it
// ("leadbench run ..."): the folder it was started from is a path of this machine.
std::string own_command() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t end_of_program = raw.find('\0');
  const size_t slash = raw.rfind('/', end_of_program);
  if (slash != std::string::npos) raw.erase(0, slash + 1);
  for (char& c : raw)
    if (c == '\0') c = ' ';
  while (!raw.empty() && raw.back() == ' ') raw.pop_back();
  return raw;
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      return colon == std::string::npos ? line : line.substr(colon + 2);
    }
  return "unknown";
}

torch::Tensor floats_as_bits(const std::vector<float>& v) {
  auto t = torch::empty({static_cast<int64_t>(v.size())}, torch::kInt32);
  if (!v.empty()) std::memcpy(t.data_ptr<int32_t>(), v.data(), v.size() * sizeof(float));
  return t;
}

std::vector<float> bits_as_floats(const torch::Tensor& t, const std::string& source, const std::string& name) {
  if (t.scalar_type() != torch::kInt32 || t.dim() != 1)
    throw InputError(source + ": array '" + name + "' is not a 1-D int32 tensor; delete the file to recompute it");
  torch::Tensor c = t.contiguous();
  std::vector<float> v(static_cast<size_t>(c.numel()));
  if (!v.empty()) std::memcpy(v.data(), c.data_ptr<int32_t>(), v.size() * sizeof(float));
  return v;
}

nlohmann::json cost_json(const std::array<PhaseStats, kPhaseCount>& cost) {
  nlohmann::json j = nlohmann::json::object();
  for (int p = 0; p < kPhaseCount; ++p) {
    const PhaseStats& s = cost[p];
    if (s.seconds == 0 && s.forward_tokens == 0 && s.backward_tokens == 0 && s.computed_tokens == 0 && s.samples == 0) continue;
    j[phase_name(static_cast<Phase>(p))] = s.to_json();
  }
  return j;
}

std::array<PhaseStats, kPhaseCount> cost_from_json(const nlohmann::json& j, const std::string& source) {
  std::array<PhaseStats, kPhaseCount> cost{};
  if (!j.is_object()) throw InputError(source + ": metadata 'cost' is not a JSON object; delete the file to recompute it");
  for (int p = 0; p < kPhaseCount; ++p) {
    const char* name = phase_name(static_cast<Phase>(p));
    if (!j.contains(name)) continue;
    const auto& s = j[name];
    try {
      cost[p].seconds = s.at("seconds").get<double>();
      cost[p].forward_tokens = s.at("forward_tokens").get<int64_t>();
      cost[p].backward_tokens = s.at("backward_tokens").get<int64_t>();
      cost[p].computed_tokens = s.at("computed_tokens").get<int64_t>();
      cost[p].samples = s.at("samples").get<int64_t>();
    } catch (const nlohmann::json::exception& e) {
      throw InputError(source + ": metadata 'cost." + name + "' is incomplete (" + e.what() + "); delete the file to recompute it");
    }
  }
  return cost;
}

std::string executable_hash() {
  std::ifstream in("/proc/self/exe", std::ios::binary);
  if (!in) return "unreadable";
  ContentHash h;
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    h.bytes(buf.data(), static_cast<size_t>(in.gcount()));
  }
  return h.hex();
}

}  // namespace

// ---- hashing ----

void ContentHash::bytes(const void* data, size_t n) {
  const unsigned char* p = static_cast<const unsigned char*>(data);
  uint64_t a = a_, b = b_;
  for (size_t i = 0; i < n; ++i) {
    a = (a ^ p[i]) * 1099511628211ull;
    b = (b ^ p[i]) * 0x100000001b3ull + 0x9E3779B97F4A7C15ull;
  }
  a_ = a;
  b_ = b;
}

void ContentHash::text(const std::string& s) {
  u64(s.size());
  bytes(s.data(), s.size());
}

void ContentHash::tensor(const torch::Tensor& t) {
  torch::Tensor c = t.detach().to(torch::kCPU).contiguous();
  text(c10::toString(c.scalar_type()));
  u64(static_cast<uint64_t>(c.dim()));
  for (int64_t d : c.sizes()) u64(static_cast<uint64_t>(d));
  bytes(c.data_ptr(), c.numel() * c.element_size());
}

std::string ContentHash::hex() const {
  char buf[33];
  std::snprintf(buf, sizeof(buf), "%016llx%016llx", static_cast<unsigned long long>(a_), static_cast<unsigned long long>(b_));
  return buf;
}

std::string model_content_hash(DecoderModel& model) {
  ContentHash h;
  h.text(config_to_json(model->config()).dump());
  h.text(config_to_json(model->lora_config()).dump());
  h.u64(model->is_training() ? 1 : 0);
  for (const auto& p : model->named_parameters(true)) {
    h.text(p.key());
    h.u64(p.value().requires_grad() ? 1 : 0);
    h.tensor(p.value());
  }
  for (const auto& b : model->named_buffers(true)) {
    h.text(b.key());
    h.tensor(b.value());
  }
  return h.hex();
}

std::string token_content_hash(const TokenCache& tokens) {
  ContentHash h;
  h.u64(static_cast<uint64_t>(tokens.max_len));
  for (const auto* list : {&tokens.full, &tokens.response_only}) {
    h.u64(list->size());
    for (const Encoded& e : *list) {
      h.u64(e.ids.size());
      h.bytes(e.ids.data(), e.ids.size() * sizeof(e.ids[0]));
      h.bytes(e.loss_mask.data(), e.loss_mask.size() * sizeof(e.loss_mask[0]));
    }
  }
  return h.hex();
}

nlohmann::json numeric_environment() {
  static const std::string exe = executable_hash();
  static const std::string cpu = cpu_model();
  return {{"executable", exe}, {"libtorch", torch_version()}, {"threads", at::get_num_threads()}, {"cpu", cpu}, {"blas_core", blas_core()}};
}

torch::Tensor cpu_generator_state() {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  return gen.get_state();
}

void set_cpu_generator_state(const torch::Tensor& state) {
  auto gen = at::detail::getDefaultCPUGenerator();
  std::lock_guard<std::mutex> lock(gen.mutex());
  gen.set_state(state);
}

// ---- the cache ----

std::string ResultCache::key_hash(const std::string& what, const nlohmann::json& key) {
  ContentHash h;
  h.text(kFormat);
  h.text(what);
  h.text(key.dump());  // nlohmann sorts object keys: canonical
  return h.hex();
}

std::string ResultCache::entry_path(const std::string& what, const std::string& hash) const {
  std::string slug;
  for (char c : what) slug += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
  return (fs::path(dir_) / "results" / (slug + "-" + hash + ".safetensors")).string();
}

std::map<std::string, std::vector<float>> ResultCache::get_or_compute(
    const std::string& what, nlohmann::json key, Ledger& ledger,
    const std::function<void(std::map<std::string, std::vector<float>>& out)>& compute, bool* hit) {
  if (hit) *hit = false;
  std::map<std::string, std::vector<float>> out;
  if (!enabled()) {
    compute(out);
    return out;
  }
  key["environment"] = numeric_environment();
  {
    ContentHash g;
    g.tensor(cpu_generator_state());
    key["generator_before"] = g.hex();
  }
  const std::string hash = key_hash(what, key);
  const std::string path = entry_path(what, hash);
  std::error_code ec;
  fs::create_directories(fs::path(path).parent_path(), ec);
  if (ec)
    throw std::runtime_error(fs::path(path).parent_path().string() + ": cannot create the result cache folder (" +
                             ec.message() + "); set runtime.cache_dir to a writable folder or runtime.reuse_offline=false");
  FileLock lock(path + ".lock");

  if (file_exists(path)) {
    const double t0 = now_seconds();
    try {
      safetensors::TensorFile f = safetensors::load_file(path);
      auto meta = [&](const char* k) -> const std::string& {
        auto it = f.metadata.find(k);
        if (it == f.metadata.end()) throw InputError(path + ": metadata lacks '" + k + "'");
        return it->second;
      };
      if (meta("format") != kFormat) throw InputError(path + ": metadata 'format' is '" + meta("format") + "', expected " + kFormat);
      if (meta("key") != key.dump()) throw InputError(path + ": the stored key differs from this run's (a hash collision?)");
      CachedResult r;
      r.cost = cost_from_json(parse_json_text(meta("cost"), path + " (metadata 'cost')"), path);
      r.measured = parse_json_text(meta("measured"), path + " (metadata 'measured')");
      for (const auto& [name, t] : f.tensors) {
        if (name.rfind("array/", 0) == 0) r.arrays[name.substr(6)] = bits_as_floats(t, path, name);
        if (name == "generator_after") r.generator_after = t.clone();
      }
      if (r.generator_after.defined()) set_cpu_generator_state(r.generator_after);
      for (int p = 0; p < kPhaseCount; ++p) ledger.add_measured(static_cast<Phase>(p), r.cost[p]);
      reused_.push_back({{"what", what},
                         {"key", hash},
                         {"file", path},
                         {"charged", cost_json(r.cost)},
                         {"measured", r.measured},
                         {"load_seconds", now_seconds() - t0}});
      log_line("reuse: " + what + " from " + path + " (measured " + r.measured.value("date", std::string("?")) +
               "; its measured cost is charged to this run)");
      if (hit) *hit = true;
      return r.arrays;
    } catch (const std::exception& e) {
      log_line("reuse: " + path + " unusable (" + e.what() + "); computing again");
    }
  }

  const auto before = ledger.snapshot();
  compute(out);
  const auto after = ledger.snapshot();
  std::array<PhaseStats, kPhaseCount> cost{};
  for (int p = 0; p < kPhaseCount; ++p) {
    cost[p].seconds = after[p].seconds - before[p].seconds;
    cost[p].forward_tokens = after[p].forward_tokens - before[p].forward_tokens;
    cost[p].backward_tokens = after[p].backward_tokens - before[p].backward_tokens;
    cost[p].computed_tokens = after[p].computed_tokens - before[p].computed_tokens;
    cost[p].samples = after[p].samples - before[p].samples;
  }
  safetensors::TensorFile f;
  f.metadata["format"] = kFormat;
  f.metadata["what"] = what;
  f.metadata["key"] = key.dump();
  f.metadata["cost"] = cost_json(cost).dump();
  f.metadata["measured"] =
      nlohmann::json{{"date", utc_now()}, {"host", host_name()}, {"pid", static_cast<int64_t>(::getpid())}, {"command", own_command()}}.dump();
  for (const auto& [name, v] : out) f.add("array/" + name, floats_as_bits(v));
  f.add("generator_after", cpu_generator_state());
  try {
    safetensors::save_file(path, f);
  } catch (const std::exception& e) {
    log_line("reuse: cannot store " + what + " in " + path + " (" + e.what() + "); later runs will compute it again");
  }
  return out;
}

}  // namespace lb
