// The leadbench command line: demo | run | sweep | table | eval | data | probe | tokenize | adapter | version.
// Every error ends here as a message and an exit code (2: usage, 1: failure); no exception escapes.
#include "core/config.h"
#include "core/device.h"
#include "core/json_io.h"
#include "experiments/cli.h"
#include "experiments/cmd_adapter.h"
#include "experiments/cmd_data.h"
#include "experiments/cmd_eval.h"
#include "experiments/cmd_tokenize.h"
#include "experiments/runner.h"
#include "experiments/sweep.h"
#include "experiments/table.h"
#include "experiments/version.h"

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <vector>

#include <unistd.h>

namespace {

const char* kUsage =
    "usage: leadbench COMMAND [arguments] [key=value ...] [--device auto|cpu|cuda] [--threads N] [--progress|--quiet]\n"
    "\n"
    "commands:\n"
    "  demo [--quick]        LEAD and every baseline at 2.5 % on the embedded world; leaderboard and cost table\n"
    "  run CONFIG            one selector, one seed -> one run record (JSON)\n"
    "  sweep CONFIG          every combination of the config's sweep lists, resumable, in parallel (--jobs)\n"
    "  table RESULTS_DIR     Markdown, CSV and LaTeX leaderboards, cost tables and plots from run records\n"
    "  eval ...              score a predictions file (JSONL, made by any model) on a real suite\n"
    "  data ...              convert, validate and describe instruction pools\n"
    "  probe [CONFIG]        the base model's in-context copying, the skill syn_tydiqa's extractive QA needs\n"
    "  tokenize ...          a Hugging Face tokenizer (tokenizer.json / .gguf) on a JSONL of texts or chats\n"
    "  adapter check|merge   a PEFT LoRA adapter on a Hugging Face checkpoint: verify it, or merge it into the weights\n"
    "  version, --version    the leadbench version, its git commit and the LibTorch it was built with\n"
    "\n"
    "`leadbench COMMAND --help` explains each. Configs: experiments/configs/*.json.\n";

// Debian 12's OpenBLAS (0.3.21) does not know some recent CPUs and falls back to its generic SSE3
// "Prescott" kernels, which made every phase ~2.8x slower on such a host (benchmarks/README.md). It
// reads OPENBLAS_CORETYPE only when it loads, so leadbench starts itself again asking for the kernels
// OpenBLAS would pick for the CPU's instruction set: "SkylakeX" with AVX-512, "Haswell" with AVX2
// and FMA. A user's own OPENBLAS_CORETYPE is kept, LEADBENCH_KEEP_BLAS=1 keeps OpenBLAS's choice;
// the run record's device names the kernel either way. Kernels round differently, so a record is
// reproduced bit for bit only with the kernel it names.
void upgrade_blas_kernel(char** argv) {
  if (std::getenv("OPENBLAS_CORETYPE") || std::getenv("LEADBENCH_KEEP_BLAS")) return;
  if (lb::blas_core() != "Prescott") return;
  const char* kernel = nullptr;
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512dq"))
    kernel = "SkylakeX";
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
    kernel = "Haswell";
  if (!kernel) return;
  ::setenv("OPENBLAS_CORETYPE", kernel, 1);
  ::execv("/proc/self/exe", argv);  // returns only on failure: then go on with OpenBLAS's choice
}

}  // namespace

int main(int argc, char** argv) {
  upgrade_blas_kernel(argv);
  std::vector<std::string> all(argv, argv + argc);
  if (!all.empty()) all[0] = "leadbench";
  lb::set_command_line(all);
  if (argc < 2) {
    std::cerr << kUsage;
    return 2;
  }
  std::string cmd = argv[1];
  std::vector<std::string> args(argv + 2, argv + argc);
  try {
    if (cmd == "--help" || cmd == "-h" || cmd == "help") {
      std::cout << kUsage;
      return 0;
    }
    if (cmd == "--version" || cmd == "version") {
      if (!args.empty()) throw lb::UsageError("takes no arguments");
      std::cout << lb::version_text();
      return 0;
    }
    if (cmd == "demo") return lb::cmd_demo(args);
    if (cmd == "run") return lb::cmd_run(args);
    if (cmd == "sweep") return lb::cmd_sweep(args);
    if (cmd == "table") return lb::cmd_table(args);
    if (cmd == "eval") return lb::cmd_eval_cli(args);
    if (cmd == "data") return lb::cmd_data(args);
    if (cmd == "probe") return lb::cmd_probe(args);
    if (cmd == "tokenize") return lb::cmd_tokenize(args);
    if (cmd == "adapter") return lb::cmd_adapter(args);
    std::cerr << "leadbench: unknown command '" << cmd << "'\n\n" << kUsage;
    return 2;
  } catch (const lb::UsageError& e) {
    std::cerr << "leadbench " << cmd << ": " << e.what() << "\n";
    return 2;
  } catch (const lb::ConfigError& e) {
    std::cerr << "leadbench " << cmd << ": config error: " << e.what() << "\n";
    return 2;
  } catch (const lb::InputError& e) {
    std::cerr << "leadbench " << cmd << ": input error: " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "leadbench " << cmd << ": error: " << e.what() << "\n";
    return 1;
  } catch (...) {
    std::cerr << "leadbench " << cmd << ": unknown error\n";
    return 1;
  }
}
