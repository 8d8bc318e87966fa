#!/usr/bin/env python3
"""Writes model_golden.safetensors: weights, tokens and float64 reference logits of a tiny decoder.

An independent PyTorch (Python) implementation of the architecture in core/model.cpp: RMSNorm,
rotary embedding (pairs (i, i + head_dim/2), applied here as complex multiplication), grouped-query
attention (KV heads repeated), SwiGLU MLP, LoRA (unfolded: x A^T B^T * alpha/rank), tied and untied
output heads. tests/core/test_model_golden.cpp loads the weights into the C++ model and compares its float32 logits.

Run with Debian's python3-torch:  /usr/bin/python3 tests/core/golden/make_golden.py
"""
import json
import math
import os
import struct

import torch

CONFIG = dict(vocab_size=64, d_model=32, n_layers=2, n_heads=4, n_kv_heads=2, d_ff=48, max_seq_len=16,
              rope_theta=10000.0, norm_eps=1e-5)
LORA = dict(rank=4, alpha=8.0, targets=["q", "k", "v", "o", "gate", "up", "down"])
BATCH, TIME = 3, 12
SEED = 20260428


def make_weights(g):
    c = CONFIG
    hd = c["d_model"] // c["n_heads"]
    shapes = {"embed.weight": (c["vocab_size"], c["d_model"]), "head.weight": (c["vocab_size"], c["d_model"])}
    proj = {"attn.q": (c["n_heads"] * hd, c["d_model"]), "attn.k": (c["n_kv_heads"] * hd, c["d_model"]),
            "attn.v": (c["n_kv_heads"] * hd, c["d_model"]), "attn.o": (c["d_model"], c["n_heads"] * hd),
            "mlp.gate": (c["d_ff"], c["d_model"]), "mlp.up": (c["d_ff"], c["d_model"]),
            "mlp.down": (c["d_model"], c["d_ff"])}
    w = {}
    for name, shape in shapes.items():
        w[name] = torch.randn(shape, generator=g, dtype=torch.float64) * 0.3
    w["norm.weight"] = 1.0 + 0.2 * torch.randn(c["d_model"], generator=g, dtype=torch.float64)
    r = LORA["rank"]
    for i in range(c["n_layers"]):
        for norm in ("attn_norm", "mlp_norm"):
            w[f"blocks.{i}.{norm}.weight"] = 1.0 + 0.2 * torch.randn(c["d_model"], generator=g, dtype=torch.float64)
        for p, (out_f, in_f) in proj.items():
            w[f"blocks.{i}.{p}.weight"] = torch.randn(out_f, in_f, generator=g, dtype=torch.float64) * 0.25
            w[f"blocks.{i}.{p}.lora_a"] = torch.randn(r, in_f, generator=g, dtype=torch.float64) * 0.25
            w[f"blocks.{i}.{p}.lora_b"] = torch.randn(out_f, r, generator=g, dtype=torch.float64) * 0.25
    # Round to float32 so that both sides start from exactly the same numbers.
    return {k: v.float().double() for k, v in w.items()}


def rms_norm(x, weight):
    return x / torch.sqrt((x * x).mean(dim=-1, keepdim=True) + CONFIG["norm_eps"]) * weight


def lora_linear(w, prefix, x):
    scale = LORA["alpha"] / LORA["rank"]
    y = x @ w[prefix + ".weight"].T
    return y + (x @ w[prefix + ".lora_a"].T) @ w[prefix + ".lora_b"].T * scale


def rotary(x):
    # x: [B, H, T, hd]; pairs (j, j + hd/2) rotate by angle pos * theta^(-j/(hd/2)).
    hd = x.shape[-1]
    half = hd // 2
    pos = torch.arange(x.shape[2], dtype=torch.float64)
    freq = CONFIG["rope_theta"] ** (-torch.arange(half, dtype=torch.float64) / half)
    rot = torch.polar(torch.ones(x.shape[2], half, dtype=torch.float64), pos[:, None] * freq[None, :])
    z = torch.complex(x[..., :half], x[..., half:]) * rot
    return torch.cat([z.real, z.imag], dim=-1)


def decoder(w, tokens, tied):
    c = CONFIG
    B, T = tokens.shape
    H, KV = c["n_heads"], c["n_kv_heads"]
    hd = c["d_model"] // H
    h = w["embed.weight"][tokens]
    causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
    for i in range(c["n_layers"]):
        p = f"blocks.{i}."
        x = rms_norm(h, w[p + "attn_norm.weight"])
        q = lora_linear(w, p + "attn.q", x).reshape(B, T, H, hd).permute(0, 2, 1, 3)
        k = lora_linear(w, p + "attn.k", x).reshape(B, T, KV, hd).permute(0, 2, 1, 3)
        v = lora_linear(w, p + "attn.v", x).reshape(B, T, KV, hd).permute(0, 2, 1, 3)
        q, k = rotary(q), rotary(k)
        k = k.repeat_interleave(H // KV, dim=1)
        v = v.repeat_interleave(H // KV, dim=1)
        att = torch.einsum("bhqd,bhkd->bhqk", q, k) / math.sqrt(hd)
        att = att.masked_fill(~causal, float("-inf")).softmax(dim=-1)
        y = torch.einsum("bhqk,bhkd->bhqd", att, v).permute(0, 2, 1, 3).reshape(B, T, H * hd)
        h = h + lora_linear(w, p + "attn.o", y)
        x = rms_norm(h, w[p + "mlp_norm.weight"])
        gate = lora_linear(w, p + "mlp.gate", x)
        up = lora_linear(w, p + "mlp.up", x)
        h = h + lora_linear(w, p + "mlp.down", torch.nn.functional.silu(gate) * up)
    hidden = rms_norm(h, w["norm.weight"])
    head = w["embed.weight"] if tied else w["head.weight"]
    return hidden, hidden @ head.T


def write_safetensors(path, tensors, metadata):
    header = {"__metadata__": metadata}
    blobs, offset = [], 0
    for name in sorted(tensors):
        t = tensors[name].contiguous()
        dtype = {torch.float32: "F32", torch.int64: "I64"}[t.dtype]
        data = t.numpy().astype("<f4" if dtype == "F32" else "<i8").tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    head = json.dumps(header, separators=(",", ":")).encode()
    head += b" " * (-len(head) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(head)))
        f.write(head)
        for b in blobs:
            f.write(b)


def main():
    g = torch.Generator().manual_seed(SEED)
    w = make_weights(g)
    tokens = torch.randint(0, CONFIG["vocab_size"], (BATCH, TIME), generator=g)
    hidden, logits_untied = decoder(w, tokens, tied=False)
    _, logits_tied = decoder(w, tokens, tied=True)
    out = {k: v.float() for k, v in w.items()}
    out["tokens"] = tokens
    out["expected.hidden"] = hidden.float()
    out["expected.logits_untied"] = logits_untied.float()
    out["expected.logits_tied"] = logits_tied.float()
    meta = {"model": json.dumps(CONFIG), "lora": json.dumps(LORA), "torch": torch.__version__,
            "generator": "tests/core/golden/make_golden.py", "seed": str(SEED)}
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "model_golden.safetensors")
    write_safetensors(path, out, meta)
    print(f"wrote {path}: {os.path.getsize(path)} bytes, logits |max| {logits_untied.abs().max():.3f}")


if __name__ == "__main__":
    main()
