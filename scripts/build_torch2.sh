#!/usr/bin/env bash
# Builds leadbench against LibTorch 2.x with CUDA, taken from PyPI's `torch` wheel, with this
# machine's CUDA toolkit (nvcc, cuDNN, NCCL), into build-torch2/, and runs the CPU tests there
# (the CUDA tests skip without a GPU). CI runs it beside the everyday LibTorch 1.13 build so that the
# GPU build cannot rot unseen.
#   bash scripts/build_torch2.sh            # install what is missing, build, run the tests
#   NO_TESTS=1 bash scripts/build_torch2.sh # build only
# The wheel lives in a virtual environment outside the clone (LEADBENCH_TORCH2_VENV, default
# ~/.cache/leadbench/torch2-venv; about 4 GB with its CUDA libraries), installed on first use and
# reused afterwards. The product never imports Python: the venv only carries the LibTorch files.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${LEADBENCH_TORCH2_VENV:-$HOME/.cache/leadbench/torch2-venv}
BUILD_DIR=${BUILD_DIR:-build-torch2}
TORCH_SPEC=${TORCH_SPEC:-torch>=2.4}
PY=${PYTHON:-python3}

bash scripts/install.sh  # the same Debian packages as the everyday build (minus LibTorch itself, unused here)
if ! command -v nvcc >/dev/null; then
  for d in /usr/local/cuda/bin /usr/local/cuda-*/bin; do [ -x "$d/nvcc" ] && PATH=$d:$PATH && break; done
fi
command -v nvcc >/dev/null || { echo "build_torch2: no nvcc found (the CUDA toolkit is needed to build against a CUDA LibTorch)" >&2; exit 1; }
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c 'import torch' 2>/dev/null; then
  echo "build_torch2: installing $TORCH_SPEC into $VENV (first use only)"
  mkdir -p "$(dirname "$VENV")"
  "$PY" -m venv "$VENV" || { echo "build_torch2: python3 -m venv failed: apt-get install python3-venv" >&2; exit 1; }
  "$VENV/bin/python" -m pip install -q --upgrade pip
  "$VENV/bin/python" -m pip install -q "$TORCH_SPEC"
fi
TORCH_DIR=$("$VENV/bin/python" -c 'import torch, os; print(os.path.dirname(torch.__file__))')
TORCH_VERSION=$("$VENV/bin/python" -c 'import torch; print(torch.__version__, "cuda", torch.version.cuda)')
echo "build_torch2: LibTorch $TORCH_VERSION from $TORCH_DIR, $(nvcc --version | tail -1)"

# The wheel's LibTorch first on the prefix path, so that Debian's 1.13 config is never picked up.
if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
  CUDACXX=$(command -v nvcc) cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_PREFIX_PATH="$TORCH_DIR/share/cmake;/usr" -DLEADBENCH_BUILD_BENCHMARKS=OFF >/dev/null
fi
cmake --build "$BUILD_DIR" -j "$(nproc)"
[ -n "${NO_TESTS:-}" ] && exit 0
# The wheel's own shared libraries (libtorch_cuda needs its CUDA runtime even on a CPU-only host).
NV_LIBS=$(find "$(dirname "$TORCH_DIR")/nvidia" -maxdepth 3 -type d -name lib 2>/dev/null | tr '\n' ':')
cd "$BUILD_DIR"
LD_LIBRARY_PATH="$TORCH_DIR/lib:${NV_LIBS}${LD_LIBRARY_PATH:-}" ctest --output-on-failure -j "$(nproc)" --timeout 900
