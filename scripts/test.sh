#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test through CTest (and the Python scripts' unit tests). Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
bash scripts/build.sh
# the Python scripts' arithmetic (standard library only, no build needed)
python3 -m unittest discover -s tests/scripts -t tests/scripts
cd "${BUILD_DIR:-build}"
ctest --output-on-failure -j "$(nproc)" --timeout 900
