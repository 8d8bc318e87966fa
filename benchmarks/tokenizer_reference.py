"""Side-by-side tokenizer benchmark, Python half (benchmarks/compare_tokenizer.sh runs it).

  texts OUT.jsonl            the benchmark corpus: every text of GSM8K (questions, answers), HumanEval
                             (prompts, solutions, tests), MMLU test (question + choices), TyDiQA dev
                             (passages, questions; 9 languages) and Code Alpaca 2k, one {"text"} a line
  bench TOKENIZER TEXTS N    Hugging Face `tokenizers` (Rust) on those texts, single thread: a warm-up
                             pass, then N timed passes of a loop of Tokenizer.encode(text,
                             add_special_tokens=False), then N of encode_batch (RAYON_NUM_THREADS=1);
                             prints one JSON line
  report                     reads "NAME HF_JSON LEADBENCH_JSON" lines (compare_tokenizer.sh) and prints
                             the Markdown table; exit status 1 when any ids differ
"""
import csv
import glob
import gzip
import json
import os
import sys
import time


def corpus(data):
    texts = []
    for split in ["train", "test"]:
        for line in open(f"{data}/gsm8k/{split}.jsonl", encoding="utf-8"):
            r = json.loads(line)
            texts += [r["question"], r["answer"]]
    for line in gzip.open(f"{data}/humaneval/HumanEval.jsonl.gz", "rt", encoding="utf-8"):
        r = json.loads(line)
        texts += [r["prompt"], r["canonical_solution"], r["test"]]
    for path in sorted(glob.glob(f"{data}/mmlu/test/*.csv")):
        for row in csv.reader(open(path, encoding="utf-8")):
            texts.append(row[0] + "\n" + "\n".join(f"{c}. {t}" for c, t in zip("ABCD", row[1:5])))
    for path in sorted(glob.glob(f"{data}/tydiqa/*_tydiqa_dev.json")):
        for article in json.load(open(path, encoding="utf-8"))["data"]:
            for p in article["paragraphs"]:
                texts.append(p["context"])
                texts += [q["question"] for q in p["qas"]]
    for r in json.load(open(f"{data}/pools/codealpaca/code_alpaca_2k.json", encoding="utf-8")):
        texts += [t for t in (r["instruction"], r.get("input", ""), r["output"]) if t]
    return texts


def fnv_ids(all_ids):  # FNV-1a 64 over every id (4 bytes, little endian) and a 0xff after each text
    h = 0xcbf29ce484222325
    for ids in all_ids:
        for i in ids:
            for k in range(4):
                h = ((h ^ ((i >> (8 * k)) & 0xff)) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
        h = ((h ^ 0xff) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def timed(fn, repeats):
    walls, cpus = [], []
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return sorted(walls)[len(walls) // 2], sorted(cpus)[len(cpus) // 2]


def bench(tokenizer, texts_path, repeats):
    import importlib.metadata
    from tokenizers import Tokenizer
    texts = [json.loads(line)["text"] for line in open(texts_path, encoding="utf-8")]
    path = tokenizer if tokenizer.endswith(".json") else os.path.join(tokenizer, "tokenizer.json")
    tok = Tokenizer.from_file(path)
    ids = [tok.encode(t, add_special_tokens=False).ids for t in texts]  # warm-up (fills the BPE cache)
    loop_wall, loop_cpu = timed(lambda: [tok.encode(t, add_special_tokens=False) for t in texts], repeats)
    batch_wall, batch_cpu = timed(lambda: tok.encode_batch(texts, add_special_tokens=False), repeats)
    print(json.dumps({"impl": f"tokenizers {importlib.metadata.version('tokenizers')}", "texts": len(texts),
                      "bytes": sum(len(t.encode()) for t in texts), "tokens": sum(map(len, ids)),
                      "ids_fnv": f"{fnv_ids(ids):016x}", "loop_wall_s": loop_wall, "loop_cpu_s": loop_cpu,
                      "batch_wall_s": batch_wall, "batch_cpu_s": batch_cpu}))


def report(lines):
    print("| tokenizer | texts | tokens | same ids | HF loop tok/s | HF encode_batch tok/s | leadbench tok/s "
          "| leadbench / best HF (wall) | (CPU time) |")
    print("| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |")
    ok, impl = True, ""
    for line in lines:
        name, rest = line.split(" ", 1)
        hf, end = json.JSONDecoder().raw_decode(rest)
        lb = json.loads(rest[end:])
        same = hf["ids_fnv"] == lb["ids_fnv"] and hf["tokens"] == lb["tokens"]
        ok, impl, n = ok and same, hf["impl"], lb["tokens"]
        best_wall = min(hf["loop_wall_s"], hf["batch_wall_s"])
        best_cpu = min(hf["loop_cpu_s"], hf["batch_cpu_s"])
        print(f"| {name} | {lb['texts']} | {n} | {'yes' if same else 'NO'} | {n / hf['loop_wall_s']:,.0f} | "
              f"{n / hf['batch_wall_s']:,.0f} | {n / lb['wall_s']:,.0f} | {best_wall / lb['wall_s']:.2f} | "
              f"{best_cpu / lb['cpu_s']:.2f} |")
    print(f"(medians of the timed passes; {impl}; a ratio above 1: leadbench is faster)")
    return ok


if __name__ == "__main__":
    if sys.argv[1] == "report":
        sys.exit(0 if report([l for l in sys.stdin if l.strip()]) else 1)
    if sys.argv[1] == "texts":
        texts = corpus(sys.argv[3] if len(sys.argv) > 3 else "../shared/data")
        with open(sys.argv[2], "w", encoding="utf-8") as f:
            for t in texts:
                f.write(json.dumps({"text": t}, ensure_ascii=False) + "\n")
        print(f"{len(texts)} texts, {sum(len(t.encode()) for t in texts)} bytes -> {sys.argv[2]}", file=sys.stderr)
    else:
        bench(sys.argv[2], sys.argv[3], int(sys.argv[4]))
