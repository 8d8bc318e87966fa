// The version lines of `leadbench --version`; see version.h.
#include "experiments/version.h"

#include "core/device.h"

#include <torch/version.h>

namespace lb {

std::string version_text() {
  const std::string blas = blas_core();
  return std::string("leadbench ") + build_version() + " (git " + build_git_sha() + ")\nLibTorch " + TORCH_VERSION + "\n" +
         (blas.empty() ? std::string() : "BLAS: OpenBLAS, " + blas + " kernels\n");
}

}  // namespace lb
