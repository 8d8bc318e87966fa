#!/usr/bin/env bash
# Installs the Debian 12 packages leadbench needs, only those that are missing (fast when all are there).
set -euo pipefail
pkgs=(cmake g++ make git ccache libtorch-dev libopenblas0-openmp libeigen3-dev libboost-dev
      nlohmann-json3-dev catch2 libbenchmark-dev zlib1g-dev libpcre2-dev libutf8proc-dev libgloo-dev pkg-config bubblewrap python3 gnuplot-nox)
# A single-node Slurm for the sweep test against a real controller (scripts/slurm_local.sh, tests/slurm/).
pkgs+=(slurm-wlm munge)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}" >&2
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
