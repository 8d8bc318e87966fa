// Device choice, thread count and the few calls that differ between LibTorch 1.13 and 2.x.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>

namespace lb {

// "auto" picks CUDA when available, else CPU; "cuda" fails clearly when there is none.
torch::Device resolve_device(const std::string& spec);

// Sets LibTorch's intra-op threads: n > 0 exactly, n <= 0 all cores (Debian's build starts at 1).
// n above max_threads() throws std::invalid_argument (tens of thousands of threads stall the host).
void set_threads(int n);
// The most threads a command accepts: max(256, 4 x the hardware threads).
int max_threads();

// Waits for queued device work, so that timers measure it (a no-op on CPU).
void device_synchronize(const torch::Device& device);

// Peak memory in bytes: the device allocator's peak on CUDA, the process's max RSS on CPU.
int64_t peak_memory_bytes(const torch::Device& device);
void reset_peak_memory(const torch::Device& device);

// A one-line description for run records: "cpu (2 threads, LibTorch 1.13.0)" or the GPU name.
std::string device_description(const torch::Device& device);
std::string torch_version();
// The kernel family OpenBLAS chose for this CPU when it loaded ("Prescott", "SkylakeX", ...; set by
// OPENBLAS_CORETYPE), "" when the BLAS is not OpenBLAS. Part of what makes floats reproducible.
std::string blas_core();

const char* build_git_sha();
const char* build_version();

// bf16 autocast on CUDA (no-op on CPU); RAII so every exit path restores the state.
class AutocastGuard {
 public:
  AutocastGuard(const torch::Device& device, bool enabled);
  ~AutocastGuard();
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

 private:
  bool active_ = false;
  bool prev_enabled_ = false;
};

}  // namespace lb
