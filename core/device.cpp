// Device and LibTorch-version shim; see device.h.
#include "core/device.h"

#include <dlfcn.h>

#include <ATen/autocast_mode.h>
#include <torch/cuda.h>

#include <sys/resource.h>

#include <stdexcept>
#include <thread>

#if __has_include(<c10/cuda/CUDACachingAllocator.h>) && defined(LEADBENCH_WITH_CUDA)
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAFunctions.h>
#define LB_HAVE_CUDA_ALLOC 1
#endif

namespace lb {

torch::Device resolve_device(const std::string& spec) {
  if (spec == "cpu") return torch::kCPU;
  if (spec == "cuda" || spec.rfind("cuda:", 0) == 0) {
    if (!torch::cuda::is_available())
      throw std::runtime_error("--device " + spec + " asked for CUDA, but this LibTorch build sees no GPU; use --device cpu or auto");
    return torch::Device(spec);
  }
  if (spec == "auto") return torch::cuda::is_available() ? torch::Device(torch::kCUDA) : torch::Device(torch::kCPU);
  throw std::runtime_error("unknown device '" + spec + "'; use auto, cpu or cuda");
}

int max_threads() { return static_cast<int>(std::max(256u, 4u * std::thread::hardware_concurrency())); }

void set_threads(int n) {
  if (n > max_threads())
    throw std::invalid_argument("threads = " + std::to_string(n) + " is more than " + std::to_string(max_threads()) +
                                " (4 x the " + std::to_string(std::thread::hardware_concurrency()) +
                                " hardware threads, at least 256); use 0 for all cores or a smaller number");
  if (n <= 0) n = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  at::set_num_threads(n);
}

void device_synchronize(const torch::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize();
}

int64_t peak_memory_bytes(const torch::Device& device) {
#ifdef LB_HAVE_CUDA_ALLOC
  if (device.is_cuda()) {
    auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.index() < 0 ? 0 : device.index());
    return stats.allocated_bytes[0].peak;  // StatType::AGGREGATE
  }
#endif
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<int64_t>(ru.ru_maxrss) * 1024;
}

void reset_peak_memory(const torch::Device& device) {
#ifdef LB_HAVE_CUDA_ALLOC
  if (device.is_cuda()) c10::cuda::CUDACachingAllocator::resetPeakStats(device.index() < 0 ? 0 : device.index());
#endif
}

std::string torch_version() {
#ifdef TORCH_VERSION
  return TORCH_VERSION;
#else
  return std::to_string(TORCH_VERSION_MAJOR) + "." + std::to_string(TORCH_VERSION_MINOR) + "." +
         std::to_string(TORCH_VERSION_PATCH);
#endif
}

std::string blas_core() {
  // OpenBLAS picks its kernels per CPU when it loads (OPENBLAS_CORETYPE overrides the choice);
  // another BLAS has no such function.
  using CoreName = char* (*)();
  static const std::string name = [] {
    auto fn = reinterpret_cast<CoreName>(::dlsym(RTLD_DEFAULT, "openblas_get_corename"));
    const char* n = fn ? fn() : nullptr;
    return std::string(n ? n : "");
  }();
  return name;
}

std::string device_description(const torch::Device& device) {
  std::string threads = std::to_string(at::get_num_threads());
  if (device.is_cuda()) return "cuda (LibTorch " + torch_version() + ", " + threads + " CPU threads)";
  const std::string core = blas_core();
  return "cpu (" + threads + " threads, LibTorch " + torch_version() + (core.empty() ? "" : ", OpenBLAS " + core) + ")";
}

// LibTorch 2.4 replaced the CUDA-only autocast calls with per-device-type ones.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define LB_AUTOCAST_BY_DEVICE 1
#endif

AutocastGuard::AutocastGuard(const torch::Device& device, bool enabled) {
  if (!enabled || !device.is_cuda()) return;
  active_ = true;
#ifdef LB_AUTOCAST_BY_DEVICE
  prev_enabled_ = at::autocast::is_autocast_enabled(at::kCUDA);
  at::autocast::set_autocast_enabled(at::kCUDA, true);
  at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
#else
  prev_enabled_ = at::autocast::is_enabled();
  at::autocast::set_enabled(true);
  at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
#endif
}

AutocastGuard::~AutocastGuard() {
  if (!active_) return;
  at::autocast::clear_cache();
#ifdef LB_AUTOCAST_BY_DEVICE
  at::autocast::set_autocast_enabled(at::kCUDA, prev_enabled_);
#else
  at::autocast::set_enabled(prev_enabled_);
#endif
}

}  // namespace lb
