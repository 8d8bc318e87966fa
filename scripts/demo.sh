#!/usr/bin/env bash
# Installs what is missing, builds, and runs the main job: `leadbench demo` (extra arguments are passed on).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
bash scripts/build.sh
exec "./${BUILD_DIR:-build}/leadbench" demo "$@"
