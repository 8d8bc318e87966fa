// The bubblewrap sandbox (see sandbox.h). Everything the child needs (argv, environment) is built
// before fork; between fork and exec the child only makes async-signal-safe calls (setpgid, dup2,
// setrlimit, setgid/setuid, execve), because the parent may run other threads (LibTorch).
#include "evaluation/sandbox.h"

#include "core/progress.h"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
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

struct Limits {
  rlim_t cpu, as, nproc, fsize;
};

// Forks, applies limits, execs argv; captures output; enforces the wall clock.
SandboxResult run_child(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                        const std::string& workdir, int program_fd, const Limits& lim, bool drop_root,
                        double timeout_s, int64_t output_limit) {
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
  int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
  const bool as_root = geteuid() == 0;
  const auto start = std::chrono::steady_clock::now();

  pid_t pid = fork();
  if (pid < 0) {
    close(out_pipe[0]); close(out_pipe[1]); close(err_pipe[0]); close(err_pipe[1]);
    if (devnull >= 0) close(devnull);
    throw std::runtime_error(std::string("sandbox: fork failed: ") + std::strerror(errno));
  }
  if (pid == 0) {
    // child: async-signal-safe calls only
    setpgid(0, 0);
    if (devnull >= 0) dup2(devnull, 0);
    dup2(out_pipe[1], 1);
    dup2(err_pipe[1], 2);
    if (program_fd >= 0) {
      if (program_fd == kProgramFd) fcntl(kProgramFd, F_SETFD, 0);
      else dup2(program_fd, kProgramFd);
    }
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
  if (devnull >= 0) close(devnull);

  auto elapsed = [&]() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  std::string* bufs[2] = {&res.out, &res.err};
  int fds[2] = {out_pipe[0], err_pipe[0]};
  bool open_fd[2] = {true, true};
  char chunk[8192];
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
  return res;
}

}  // namespace

Sandbox::Sandbox(SandboxConfig cfg, bool unsafe_no_sandbox) : cfg_(std::move(cfg)), unsafe_(unsafe_no_sandbox) {
  if (unsafe_)
    log_line("WARNING: --unsafe-no-sandbox: model-written code runs WITHOUT bubblewrap, with only rlimits and a "
             "timeout. It can read and write your files and use the network. Use only on a throwaway machine.");
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
  SandboxResult r = run_python("print('sandbox-ok')\n");
  if (!r.passed || r.out.find("sandbox-ok") == std::string::npos) {
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

SandboxResult Sandbox::run_python(const std::string& program) const {
  ProgramFile file(program);
  Limits lim;
  lim.cpu = static_cast<rlim_t>(std::max(1, cfg_.cpu_seconds));
  lim.as = static_cast<rlim_t>(std::max(64, cfg_.memory_mb)) << 20;
  lim.nproc = static_cast<rlim_t>(std::max(1, cfg_.max_processes));
  lim.fsize = static_cast<rlim_t>(std::max(1, cfg_.max_file_mb)) << 20;
  const std::vector<std::string> env = {"PATH=/usr/bin:/bin", "LANG=C.UTF-8", "HOME=/tmp",
                                        "PYTHONDONTWRITEBYTECODE=1", "PYTHONHASHSEED=0"};
  if (unsafe_) {
    char dir_templ[] = "/tmp/leadbench-unsafe-XXXXXX";
    std::string workdir = mkdtemp(dir_templ) ? dir_templ : "/tmp";
    auto res = run_child({cfg_.python, "/dev/fd/3"}, env, workdir, file.fd, lim, false, cfg_.timeout_s,
                         cfg_.output_limit_bytes);
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
  argv.insert(argv.end(), {"--proc", "/proc", "--dev", "/dev"});
  if (cfg_.tmpfs_mb > 0) argv.insert(argv.end(), {"--size", std::to_string(int64_t(cfg_.tmpfs_mb) << 20)});
  argv.insert(argv.end(), {"--tmpfs", "/tmp", "--file", std::to_string(kProgramFd), "/tmp/program.py", "--chdir",
                           "/tmp"});
  for (const auto& e : env) {
    auto eq = e.find('=');
    argv.insert(argv.end(), {"--setenv", e.substr(0, eq), e.substr(eq + 1)});
  }
  argv.insert(argv.end(), {"--", cfg_.python, "/tmp/program.py"});
  return run_child(argv, env, "/", file.fd, lim, cfg_.drop_root, cfg_.timeout_s, cfg_.output_limit_bytes);
}

}  // namespace lb
