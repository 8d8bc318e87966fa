#!/usr/bin/env python3
"""The reference training step in PyTorch's Python API, to compare with bench_train (C++).

The same model as core/model.cpp (Llama-style decoder: RMSNorm, rotary embedding, causal
multi-head attention, SwiGLU MLP, tied head; d_model 192, 4 layers, 6 heads, d_ff 512, vocab 263,
about 1.82 M parameters) and the same step as core/trainer.cpp (per-sample mean target loss from
one cross-entropy over the batch, batch loss = mean of the sample means, backward, global-norm
clipping to 1.0, AdamW), written the way a Python user would write it (one nn.Linear per
projection). Batch 16 x 128 input tokens of random bytes, every position a target.
Warm-up steps are excluded; prints one line per repeat and a JSON summary on the last line.

Run with the Debian interpreter that has python3-torch: /usr/bin/python3 benchmarks/train_reference.py
"""
import argparse
import json
import math
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class RMSNorm(nn.Module):
    def __init__(self, dim, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rope(x, cos, sin):
    half = x.shape[-1] // 2
    x1, x2 = x[..., :half], x[..., half:]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1)


class Block(nn.Module):
    def __init__(self, d, heads, d_ff):
        super().__init__()
        self.heads, self.hd = heads, d // heads
        self.attn_norm, self.mlp_norm = RMSNorm(d), RMSNorm(d)
        self.q = nn.Linear(d, d, bias=False)
        self.k = nn.Linear(d, d, bias=False)
        self.v = nn.Linear(d, d, bias=False)
        self.o = nn.Linear(d, d, bias=False)
        self.gate = nn.Linear(d, d_ff, bias=False)
        self.up = nn.Linear(d, d_ff, bias=False)
        self.down = nn.Linear(d_ff, d, bias=False)

    def forward(self, x, cos, sin, blocked):
        B, T, d = x.shape
        h = self.attn_norm(x)
        q = self.q(h).view(B, T, self.heads, self.hd).transpose(1, 2)
        k = self.k(h).view(B, T, self.heads, self.hd).transpose(1, 2)
        v = self.v(h).view(B, T, self.heads, self.hd).transpose(1, 2)
        q, k = rope(q, cos, sin), rope(k, cos, sin)
        scores = (q / math.sqrt(self.hd)) @ k.transpose(-2, -1)
        att = torch.softmax(scores.masked_fill(blocked, float("-inf")), dim=-1)
        x = x + self.o((att @ v).transpose(1, 2).reshape(B, T, d))
        h = self.mlp_norm(x)
        return x + self.down(F.silu(self.gate(h)) * self.up(h))


class Decoder(nn.Module):
    def __init__(self, vocab=263, d=192, layers=4, heads=6, d_ff=512, max_len=128, theta=10000.0):
        super().__init__()
        self.embed = nn.Embedding(vocab, d)
        nn.init.normal_(self.embed.weight, std=0.02)
        self.blocks = nn.ModuleList(Block(d, heads, d_ff) for _ in range(layers))
        self.norm = RMSNorm(d)
        half = d // heads // 2
        inv = theta ** (-torch.arange(half, dtype=torch.float64) / half)
        ang = torch.outer(torch.arange(max_len, dtype=torch.float64), inv)
        self.register_buffer("cos", torch.cos(ang).float(), persistent=False)
        self.register_buffer("sin", torch.sin(ang).float(), persistent=False)
        self.register_buffer("blocked", torch.ones(max_len, max_len, dtype=torch.bool).triu(1), persistent=False)

    def forward(self, tokens):
        T = tokens.shape[1]
        x = self.embed(tokens)
        cos, sin, blocked = self.cos[:T], self.sin[:T], self.blocked[:T, :T]
        for b in self.blocks:
            x = b(x, cos, sin, blocked)
        return self.norm(x) @ self.embed.weight.t()  # tied head


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--steps", type=int, default=10, help="timed steps per repeat")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = Decoder(max_len=args.seq)
    n_params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    seqs = torch.randint(0, 256, (args.batch, args.seq + 1))
    inputs, targets = seqs[:, :-1].contiguous(), seqs[:, 1:].contiguous()
    counts = torch.full((args.batch,), float(args.seq))

    def step():
        opt.zero_grad(set_to_none=True)
        logits = model(inputs)
        nll = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction="none")
        per_sample = nll.view(args.batch, -1).sum(1) / counts
        loss = per_sample.mean()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return per_sample.detach().tolist()  # the per-sample losses reach the host, as in the C++ trainer

    for _ in range(args.warmup):
        step()
    rates, cpu_ms = [], []
    for r in range(args.repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(args.steps):
            step()
        dt, dc = time.perf_counter() - t0, time.process_time() - c0
        rates.append(args.steps * args.batch * args.seq / dt)
        cpu_ms.append(dc / args.steps * 1000)
        print(f"python  repeat {r}  {args.steps} steps  {dt / args.steps * 1000:8.1f} ms/step  "
              f"{cpu_ms[-1]:8.1f} cpu-ms/step  {rates[-1]:9.0f} tok/s", flush=True)
    summary = {
        "impl": "python",
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "params": n_params,
        "tokens_per_second_median": statistics.median(rates),
        "tokens_per_second_min": min(rates),
        "tokens_per_second_max": max(rates),
        "cpu_ms_per_step_median": statistics.median(cpu_ms),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
