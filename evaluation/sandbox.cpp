// The bubblewrap sandbox (see sandbox.h). Everything the child needs (argv, environment) is built
// before fork; between fork and exec the child only makes async-signal-safe calls (setpgid, dup2,
// close_range or raw getdents64 + close, setrlimit, setgid/setuid, execve), because the parent may run
// other threads (LibTorch). The child closes every descriptor above its program file before exec, so
// nothing the evaluator holds open (a folder, a job runner's pipe) reaches the sandbox.
#include "evaluation/sandbox.h"

#include "core/config.h"
#include "core/progress.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace lb {

std::string SandboxResult::describe() const {
  if (passed) return "passed";
  if (timed_out) return "timeout";
  std::string tail = err.size() > 300 ? err.substr(err.size() - 300) : err;
  for (char& c : tail)
    if (c == '\n') c = ' ';
  if (term_signal) return "killed by signal " + std::to_string(term_signal) + (tail.empty() ? "" : ": " + tail);
  if (exit_code == 0) return "exit 0 before the end of the program (an early os._exit or sys.exit)";
  return "exit " + std::to_string(exit_code) + (tail.empty() ? "" : ": " + tail);
}

namespace {

std::string find_in_path(const std::string& name) {
  if (name.find('/') != std::string::npos) return access(name.c_str(), X_OK) == 0 ? name : "";
  const char* path = std::getenv("PATH");
  std::string p = path ? path : "/usr/bin:/bin";
  p += ":/usr/bin:/bin";
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find(':', start);
    if (end == std::string::npos) end = p.size();
    std::string dir = p.substr(start, end - start);
    if (!dir.empty()) {
      std::string full = dir + "/" + name;
      if (access(full.c_str(), X_OK) == 0) return full;
    }
    start = end + 1;
  }
  return "";
}

// A program's source in an unlinked temporary file, read through a file descriptor.
struct ProgramFile {
  int fd = -1;
  explicit ProgramFile(const std::string& text) {
    const char* tmpdir = std::getenv("TMPDIR");
    std::string templ = std::string(tmpdir && *tmpdir ? tmpdir : "/tmp") + "/leadbench-prog-XXXXXX";
    std::vector<char> buf(templ.begin(), templ.end());
    buf.push_back('\0');
    fd = mkostemp(buf.data(), O_CLOEXEC);
    if (fd < 0) throw std::runtime_error("sandbox: cannot create a temporary file in " + templ + ": " + std::strerror(errno));
    unlink(buf.data());
    size_t off = 0;
    while (off < text.size()) {
      ssize_t w = write(fd, text.data() + off, text.size() - off);
      if (w < 0) {
        if (errno == EINTR) continue;
        close(fd);
        throw std::runtime_error(std::string("sandbox: cannot write the program file: ") + std::strerror(errno));
      }
      off += static_cast<size_t>(w);
    }
    lseek(fd, 0, SEEK_SET);
  }
  ~ProgramFile() {
    if (fd >= 0) close(fd);
  }
};

constexpr int kProgramFd = 3;  // the program's fd number in the child
// Processes a sandbox needs before the program forks: bubblewrap, its pid-1 process, the interpreter.
constexpr int kMinSandboxProcesses = 3;

// A fresh end-of-program token from the kernel's random source (never from a seed: a program that
// knows the seed must not be able to print it).
std::string fresh_token() {
  unsigned char bytes[16];
  size_t got = 0;
  while (got < sizeof bytes) {
    ssize_t n = getrandom(bytes + got, sizeof bytes - got, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  if (got < sizeof bytes) {
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    got = 0;
    while (fd >= 0 && got < sizeof bytes) {
      ssize_t n = read(fd, bytes + got, sizeof bytes - got);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      got += static_cast<size_t>(n);
    }
    if (fd >= 0) close(fd);
    if (got < sizeof bytes) throw std::runtime_error("sandbox: no random source (getrandom, /dev/urandom) for the end token");
  }
  static const char hex[] = "0123456789abcdef";
  std::string token = "leadbench-end-";
  for (unsigned char b : bytes) {
    token += hex[b >> 4];
    token += hex[b & 15];
  }
  return token;
}

// The harness around a run_python_to_end program (python3 -c WRAPPER PROGRAM_PATH): it reads the
// token line from stdin and puts /dev/null there before the program's first statement, runs the
// program as __main__ (runpy, as `python3 PROGRAM_PATH` would), and prints the token only when the
// program returned. An exit part-way (os._exit, sys.exit, SystemExit) never reaches the print.
// The token lives in this frame: code in the same interpreter that goes looking for it (frame or
// memory introspection) could still find it; the token stops early exits, not a program written to
// attack the harness.
const char* const kEndTokenWrapper =
    "import os, sys\n"
    "def _leadbench_run():\n"
    "    token = b''\n"
    "    while not token.endswith(b'\\n') and len(token) < 256:\n"
    "        chunk = os.read(0, 256 - len(token))\n"
    "        if not chunk:\n"
    "            break\n"
    "        token += chunk\n"
    "    null = os.open('/dev/null', os.O_RDONLY)\n"
    "    os.dup2(null, 0)\n"
    "    os.close(null)\n"
    "    write, out, err = os.write, sys.stdout, sys.stderr\n"
    "    path = sys.argv[1]\n"
    "    sys.argv = [path]\n"
    "    import runpy\n"
    "    runpy.run_path(path, run_name='__main__')\n"
    "    for stream in (out, err):\n"
    "        try:\n"
    "            stream.flush()\n"
    "        except Exception:\n"
    "            pass\n"
    "    write(1, b'\\n' + token)\n"
    "_leadbench_run()\n";

// Removes the token line the wrapper printed (and the newline it put before it) from `out`.
void strip_token(std::string& out, const std::string& token) {
  size_t pos = out.rfind(token);
  if (pos == std::string::npos) return;
  size_t begin = pos, end = pos + token.size();
  if (begin > 0 && out[begin - 1] == '\n') --begin;
  if (end < out.size() && out[end] == '\n') ++end;
  out.erase(begin, end - begin);
}

}  // namespace

namespace sandbox_detail {

void close_fds_from(int lowest, bool try_close_range) {
#ifndef SYS_close_range
#define SYS_close_range 436  // the same number on every Linux architecture
#endif
  if (try_close_range && syscall(SYS_close_range, static_cast<unsigned>(lowest), ~0U, 0U) == 0) return;
  // Kernels before 5.9: list /proc/self/fd with the raw getdents64 system call (no allocation, so
  // safe after fork in a threaded parent) and close each entry from `lowest` up.
  int dir = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    alignas(8) char buf[4096];
    while (true) {
      long n = syscall(SYS_getdents64, dir, buf, sizeof buf);
      if (n <= 0) break;
      for (long off = 0; off < n;) {
        const unsigned short reclen = *reinterpret_cast<unsigned short*>(buf + off + 16);
        const char* name = buf + off + 19;  // d_ino (8), d_off (8), d_reclen (2), d_type (1)
        int fd = 0;
        bool digits = *name != '\0';
        for (const char* c = name; *c; ++c) {
          if (*c < '0' || *c > '9') {
            digits = false;
            break;
          }
          fd = fd * 10 + (*c - '0');
        }
        if (digits && fd >= lowest && fd != dir) close(fd);
        off += reclen;
      }
    }
    close(dir);
    return;
  }
  // No /proc: every number up to the descriptor limit.
  struct rlimit r;
  rlim_t top = 65536;
  if (getrlimit(RLIMIT_NOFILE, &r) == 0 && r.rlim_cur != RLIM_INFINITY) top = std::min<rlim_t>(r.rlim_cur, 1u << 20);
  for (rlim_t fd = static_cast<rlim_t>(lowest); fd < top; ++fd) close(static_cast<int>(fd));
}

}  // namespace sandbox_detail

namespace {

struct Limits {
  rlim_t cpu, as, nproc, fsize;
};

// Forks, applies limits, execs argv; captures output; enforces the wall clock.
// `stdin_line` (may be empty: /dev/null) is what the child reads on stdin; `token` (may be empty) is
// looked for in the whole of stdout, also past output_limit, and sets res.completed.
SandboxResult run_child(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                        const std::string& workdir, int program_fd, const Limits& lim, bool drop_root,
                        double timeout_s, int64_t output_limit, const std::string& stdin_line = "",
                        const std::string& token = "") {
  SandboxResult res;
  // Each run gets its own unprivileged uid, so the process limit (counted per uid) of one program
  // never starves another running at the same time (other workers, other test processes).
  static std::atomic<uint32_t> counter{0};
  const uid_t run_uid = static_cast<uid_t>(1000000u + (static_cast<uint32_t>(getpid()) & 0xFFFFu) * 64u +
                                           (counter.fetch_add(1) % 64u));
  std::vector<char*> cargv, cenv;
  for (const auto& a : argv) cargv.push_back(const_cast<char*>(a.c_str()));
  cargv.push_back(nullptr);
  for (const auto& e : env) cenv.push_back(const_cast<char*>(e.c_str()));
  cenv.push_back(nullptr);

  int out_pipe[2], err_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0) throw std::runtime_error("sandbox: pipe failed");
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    close(out_pipe[0]);
    close(out_pipe[1]);
    throw std::runtime_error("sandbox: pipe failed");
  }
  int stdin_fd = -1;
  if (stdin_line.empty()) {
    stdin_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  } else {
    // A pipe already holding the line, its write end closed: the child reads the line, then EOF.
    int in_pipe[2];
    if (stdin_line.size() > 4096 || pipe2(in_pipe, O_CLOEXEC) != 0 ||
        write(in_pipe[1], stdin_line.data(), stdin_line.size()) != static_cast<ssize_t>(stdin_line.size())) {
      close(out_pipe[0]); close(out_pipe[1]); close(err_pipe[0]); close(err_pipe[1]);
      throw std::runtime_error("sandbox: cannot set up the program's stdin");
    }
    close(in_pipe[1]);
    stdin_fd = in_pipe[0];
  }
  const bool as_root = geteuid() == 0;
  const auto start = std::chrono::steady_clock::now();

  pid_t pid = fork();
  if (pid < 0) {
    close(out_pipe[0]); close(out_pipe[1]); close(err_pipe[0]); close(err_pipe[1]);
    if (stdin_fd >= 0) close(stdin_fd);
    throw std::runtime_error(std::string("sandbox: fork failed: ") + std::strerror(errno));
  }
  if (pid == 0) {
    // child: async-signal-safe calls only
    setpgid(0, 0);
    if (stdin_fd >= 0) dup2(stdin_fd, 0);
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    if (program_fd >= 0) {
      if (program_fd == kProgramFd) fcntl(kProgramFd, F_SETFD, 0);
      else dup2(program_fd, kProgramFd);
    }
    // Nothing else of the parent's (folders opened without O_CLOEXEC, a job runner's pipes) may
    // reach bubblewrap, which would hand it on to the program.
    sandbox_detail::close_fds_from(program_fd >= 0 ? kProgramFd + 1 : kProgramFd, true);
    struct rlimit r;
    r.rlim_cur = r.rlim_max = lim.cpu;
    setrlimit(RLIMIT_CPU, &r);
    r.rlim_cur = r.rlim_max = lim.as;
    setrlimit(RLIMIT_AS, &r);
    r.rlim_cur = r.rlim_max = lim.fsize;
    setrlimit(RLIMIT_FSIZE, &r);
    r.rlim_cur = r.rlim_max = 0;
    setrlimit(RLIMIT_CORE, &r);
    if (!workdir.empty() && chdir(workdir.c_str()) != 0) _exit(126);
    if (as_root && drop_root) {
      if (setgroups(0, nullptr) != 0 || setgid(run_uid) != 0 || setuid(run_uid) != 0) _exit(125);
    }
    r.rlim_cur = r.rlim_max = lim.nproc;
    setrlimit(RLIMIT_NPROC, &r);
    execve(cargv[0], cargv.data(), cenv.data());
    _exit(127);
  }
  if (as_root && drop_root) res.sandbox_uid = static_cast<int64_t>(run_uid);
  setpgid(pid, pid);  // both sides, so the group exists before any kill
  close(out_pipe[1]);
  close(err_pipe[1]);
  if (stdin_fd >= 0) close(stdin_fd);

  auto elapsed = [&]() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  std::string* bufs[2] = {&res.out, &res.err};
  int fds[2] = {out_pipe[0], err_pipe[0]};
  bool open_fd[2] = {true, true};
  char chunk[8192];
  std::string token_window;  // the last token.size() - 1 bytes of stdout, so a token split across reads is found
  bool exited = false;
  int status = 0;
  while (true) {
    const double left = timeout_s - elapsed();
    if (left <= 0) break;
    if (open_fd[0] || open_fd[1]) {
      struct pollfd pfd[2];
      int n = 0;
      int map[2];
      for (int k = 0; k < 2; ++k)
        if (open_fd[k]) {
          pfd[n].fd = fds[k];
          pfd[n].events = POLLIN;
          pfd[n].revents = 0;
          map[n++] = k;
        }
      int pr = poll(pfd, n, std::max(1, static_cast<int>(left * 1000)));
      if (pr < 0 && errno != EINTR) break;
      for (int i = 0; i < n && pr > 0; ++i) {
        if (!(pfd[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
        const int k = map[i];
        ssize_t got = read(fds[k], chunk, sizeof chunk);
        if (got <= 0) {
          if (got < 0 && errno == EINTR) continue;
          open_fd[k] = false;
          continue;
        }
        if (k == 0 && !token.empty() && !res.completed) {
          token_window.append(chunk, static_cast<size_t>(got));
          if (token_window.find(token) != std::string::npos) res.completed = true;
          else if (token_window.size() >= token.size()) token_window.erase(0, token_window.size() - (token.size() - 1));
        }
        const int64_t room = output_limit - static_cast<int64_t>(bufs[k]->size());
        if (room > 0) bufs[k]->append(chunk, static_cast<size_t>(std::min<int64_t>(room, got)));
        if (got > room) res.output_truncated = true;
      }
    } else {
      pid_t w = waitpid(pid, &status, WNOHANG);
      if (w == pid) {
        exited = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  if (!exited) {
    // Pipes closed and the process is still running, or the clock ran out: check once, then kill.
    pid_t w = waitpid(pid, &status, WNOHANG);
    if (w == pid && !(open_fd[0] || open_fd[1])) {
      exited = true;
    } else {
      if (w != pid) {
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
      }
      res.timed_out = true;
    }
  }
  close(out_pipe[0]);
  close(err_pipe[0]);
  res.seconds = elapsed();
  if (WIFEXITED(status)) res.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) res.term_signal = WTERMSIG(status);
  res.passed = !res.timed_out && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  if (!token.empty()) {
    res.passed = res.passed && res.completed;
    strip_token(res.out, token);
  }
  return res;
}

}  // namespace

Sandbox::Sandbox(SandboxConfig cfg, bool unsafe_no_sandbox) : cfg_(std::move(cfg)), unsafe_(unsafe_no_sandbox) {
  validate_sandbox_config(cfg_);
  if (unsafe_)
    log_line("WARNING: --unsafe-no-sandbox: model-written code runs WITHOUT bubblewrap, with only rlimits and a "
             "timeout. It can read and write your files and use the network. Use only on a throwaway machine.");
}

void Sandbox::detect_features() const {
  std::call_once(features_once_, [this] {
    if (unsafe_) return;
    const std::string bwrap = find_in_path(cfg_.bwrap);
    if (bwrap.empty()) return;
    // --disable-userns (bubblewrap 0.8) stops the program from creating user namespaces of its own,
    // where it would hold every capability (mount, more namespaces) and reach more kernel code.
    Limits lim{5, rlim_t(256) << 20, static_cast<rlim_t>(cfg_.max_processes), rlim_t(1) << 20};
    SandboxResult help = run_child({bwrap, "--help"}, {"PATH=/usr/bin:/bin"}, "/", -1, lim, cfg_.drop_root, 10.0,
                                   1 << 20);
    disable_userns_ = (help.out + help.err).find("--disable-userns") != std::string::npos;
  });
}

bool Sandbox::nested_userns_disabled() const {
  detect_features();
  return disable_userns_;
}

std::string Sandbox::probe() {
  std::lock_guard<std::mutex> lock(probe_mu_);
  if (probed_) return probe_problem_;
  probed_ = true;
  if (access(cfg_.python.c_str(), X_OK) != 0) {
    probe_problem_ = "the interpreter " + cfg_.python +
                     " does not exist or is not executable; set sandbox.python to a python3 under /usr";
    return probe_problem_;
  }
  if (unsafe_) return probe_problem_ = "";
  if (find_in_path(cfg_.bwrap).empty()) {
    probe_problem_ = "bubblewrap ('" + cfg_.bwrap +
                     "') is not installed, so model-written code cannot be run safely. Install it "
                     "(Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install bubblewrap), or pass "
                     "--unsafe-no-sandbox on a throwaway machine";
    return probe_problem_;
  }
  auto works = [](const SandboxResult& r) { return r.passed && r.out.find("sandbox-ok") != std::string::npos; };
  SandboxResult r = run_python_to_end("print('sandbox-ok')\n");
  if (!works(r) && nested_userns_disabled()) {
    // This bubblewrap knows --disable-userns but cannot apply it here (setuid bubblewrap, a kernel
    // without the per-namespace limit): run without it, and say what that leaves open.
    disable_userns_ = false;
    r = run_python_to_end("print('sandbox-ok')\n");
    if (works(r))
      log_line("WARNING: sandbox: bubblewrap could not disable nested user namespaces here; model-written code can "
               "create its own user namespace (and mount inside it). It still cannot reach host files, the "
               "network or other processes, but it reaches more kernel code.");
  }
  if (!works(r)) {
    probe_problem_ = "bubblewrap is installed but could not start a sandbox (" + r.describe() +
                     "). It needs user namespaces: enable them (sysctl kernel.unprivileged_userns_clone=1, "
                     "user.max_user_namespaces > 0), or in a container allow them (e.g. docker --security-opt "
                     "seccomp=unconfined, or run as root with CAP_SYS_ADMIN); or pass --unsafe-no-sandbox on a "
                     "throwaway machine";
  }
  return probe_problem_;
}

void Sandbox::require_available() {
  std::string problem = probe();
  if (!problem.empty()) throw SandboxUnavailable("refusing to run untrusted code: " + problem);
}

SandboxResult Sandbox::run_python(const std::string& program) const { return run(program, false); }

SandboxResult Sandbox::run_python_to_end(const std::string& program) const { return run(program, true); }

SandboxResult Sandbox::run(const std::string& program, bool to_end) const {
  ProgramFile file(program);
  Limits lim;
  lim.cpu = static_cast<rlim_t>(cfg_.cpu_seconds);
  lim.as = static_cast<rlim_t>(cfg_.memory_mb) << 20;
  lim.nproc = static_cast<rlim_t>(cfg_.max_processes);
  lim.fsize = static_cast<rlim_t>(cfg_.max_file_mb) << 20;
  const std::vector<std::string> env = {"PATH=/usr/bin:/bin", "LANG=C.UTF-8", "HOME=/tmp",
                                        "PYTHONDONTWRITEBYTECODE=1", "PYTHONHASHSEED=0"};
  const std::string token = to_end ? fresh_token() : "";
  const std::string stdin_line = to_end ? token + "\n" : "";
  auto interpreter = [&](const std::string& path) {
    std::vector<std::string> cmd = {cfg_.python};
    if (to_end) cmd.insert(cmd.end(), {"-c", kEndTokenWrapper});
    cmd.push_back(path);
    return cmd;
  };
  if (unsafe_) {
    char dir_templ[] = "/tmp/leadbench-unsafe-XXXXXX";
    std::string workdir = mkdtemp(dir_templ) ? dir_templ : "/tmp";
    auto res = run_child(interpreter("/dev/fd/3"), env, workdir, file.fd, lim, false, cfg_.timeout_s,
                         cfg_.output_limit_bytes, stdin_line, token);
    std::string cmd = "rm -rf '" + workdir + "'";
    if (workdir != "/tmp") (void)std::system(cmd.c_str());
    return res;
  }
  std::vector<std::string> argv = {find_in_path(cfg_.bwrap)};
  if (argv[0].empty()) {
    SandboxResult r;
    r.err = "bubblewrap not found";
    return r;
  }
  for (const char* s : {"--unshare-all", "--die-with-parent", "--new-session", "--clearenv"}) argv.push_back(s);
  if (nested_userns_disabled()) argv.insert(argv.end(), {"--unshare-user", "--disable-userns"});
  // System folders read-only; merged-/usr symlinks recreated as symlinks.
  for (const char* d : {"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"}) {
    struct stat st;
    if (lstat(d, &st) != 0) continue;
    if (S_ISLNK(st.st_mode)) {
      char target[4096];
      ssize_t n = readlink(d, target, sizeof target - 1);
      if (n <= 0) continue;
      target[n] = '\0';
      argv.insert(argv.end(), {"--symlink", target, d});
    } else if (S_ISDIR(st.st_mode)) {
      argv.insert(argv.end(), {"--ro-bind", d, d});
    }
  }
  // /dev: bubblewrap's device nodes (null, zero, full, random, urandom, tty, pts) on a tmpfs without a
  // size limit, so /dev/shm gets its own tmpfs of tmpfs_mb and the rest of /dev is made read-only.
  const std::string tmpfs_bytes = std::to_string(int64_t(cfg_.tmpfs_mb) << 20);
  argv.insert(argv.end(), {"--proc", "/proc", "--dev", "/dev", "--size", tmpfs_bytes, "--tmpfs", "/dev/shm",
                           "--remount-ro", "/dev"});
  argv.insert(argv.end(), {"--size", tmpfs_bytes, "--tmpfs", "/tmp", "--file", std::to_string(kProgramFd),
                           "/tmp/program.py", "--chdir", "/tmp"});
  for (const auto& e : env) {
    auto eq = e.find('=');
    argv.insert(argv.end(), {"--setenv", e.substr(0, eq), e.substr(eq + 1)});
  }
  argv.push_back("--");
  for (const auto& a : interpreter("/tmp/program.py")) argv.push_back(a);
  return run_child(argv, env, "/", file.fd, lim, cfg_.drop_root, cfg_.timeout_s, cfg_.output_limit_bytes,
                   stdin_line, token);
}

void throw_config_key_error(const std::string& key, const std::string& what, const std::string& source,
                            const ConfigSources* sources) {
  std::string where = source;
  if (sources) {
    auto it = sources->find(key);
    if (it != sources->end()) where = it->second;
  }
  if (where.empty()) throw ConfigError(key + " " + what);
  throw ConfigError("config key '" + key + "' in " + where + ": " + what);
}

void validate_sandbox_config(const SandboxConfig& c, const std::string& key_prefix, const std::string& source,
                             const ConfigSources* sources) {
  auto fail = [&](const char* key, const std::string& what) { throw_config_key_error(key_prefix + key, what, source, sources); };
  auto at_least = [&](const char* key, int64_t value, int64_t min, const std::string& why = "") {
    if (value < min)
      fail(key, "must be >= " + std::to_string(min) + (why.empty() ? "" : " (" + why + ")") + ", got " +
                    std::to_string(value));
  };
  if (!(c.timeout_s > 0) || !std::isfinite(c.timeout_s) || c.timeout_s > 86400) {
    char got[64];
    std::snprintf(got, sizeof got, "%g", c.timeout_s);
    fail("timeout_s", std::string(c.timeout_s > 86400 ? "must be at most 86400 (a day)" : "must be > 0") +
                          " (seconds of wall clock per program), got " + got);
  }
  at_least("cpu_seconds", c.cpu_seconds, 1);
  at_least("memory_mb", c.memory_mb, 64, "Python needs that much address space");
  at_least("max_processes", c.max_processes, kMinSandboxProcesses,
           "bubblewrap, its init process and the interpreter count against it");
  at_least("max_file_mb", c.max_file_mb, 1);
  at_least("tmpfs_mb", c.tmpfs_mb, 1);
  at_least("output_limit_bytes", c.output_limit_bytes, 1);
  if (c.workers < 1 || c.workers > 1024) fail("workers", "must be in 1..1024, got " + std::to_string(c.workers));
  if (c.python.empty() || c.python[0] != '/')
    fail("python", "must be an absolute path to a python3 under a system folder (e.g. /usr/bin/python3), got '" +
                       c.python + "'");
  if (c.bwrap.empty()) fail("bwrap", "must name the bubblewrap executable (e.g. bwrap), got ''");
}

}  // namespace lb
