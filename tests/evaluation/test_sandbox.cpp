// The bubblewrap sandbox against each attack of the issue: an infinite loop, a fork bomb, a memory
// bomb, writing or deleting files outside its tmpfs, opening a socket, reaching host files through an
// inherited file descriptor, filling /dev, nested user namespaces, and forged HumanEval passes
// (exiting with status 0 before the tests ran). Each fails that one program only; a normal program run
// afterwards still passes. 1 s timeouts keep the test short.
#include "evaluation/evaluator.h"
#include "evaluation/sandbox.h"
// After the project headers: Catch's CHECK must win over glog's (pulled in by LibTorch).
#include <catch2/catch.hpp>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <thread>

using namespace lb;

namespace {

SandboxConfig fast_config() {
  SandboxConfig c;
  c.timeout_s = 1.0;
  c.cpu_seconds = 2;
  c.memory_mb = 512;
  c.max_processes = 32;
  return c;
}

// The shared sandbox, or nullptr after printing SKIPPED when bubblewrap cannot run here.
Sandbox* sandbox_or_skip() {
  static std::unique_ptr<Sandbox> sb;
  static std::string problem;
  static bool probed = false;
  if (!probed) {
    probed = true;
    sb = std::make_unique<Sandbox>(fast_config());
    problem = sb->probe();
  }
  if (!problem.empty()) {
    std::printf("SKIPPED: the sandbox cannot run here: %s\n", problem.c_str());
    return nullptr;
  }
  return sb.get();
}

int processes_of_uid(int uid) {
  int count = 0;
  DIR* d = opendir("/proc");
  if (!d) return 0;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] < '0' || e->d_name[0] > '9') continue;
    std::ifstream f(std::string("/proc/") + e->d_name + "/status");
    std::string line;
    while (std::getline(f, line))
      if (line.rfind("Uid:", 0) == 0) {
        if (std::stoi(line.substr(4)) == uid) ++count;
        break;
      }
  }
  closedir(d);
  return count;
}

void expect_still_works(Sandbox& sb) {
  auto r = sb.run_python("print(sum(range(10)))\n");
  CHECK(r.passed);
  CHECK(r.out == "45\n");
}

}  // namespace

TEST_CASE("sandbox: a normal program passes, a failing assertion fails, output is captured") {
  Sandbox* sb = sandbox_or_skip();
  if (!sb) return;
  auto ok = sb->run_python("import math\nprint(math.factorial(5))\n");
  CHECK(ok.passed);
  CHECK(ok.out == "120\n");
  auto bad = sb->run_python("assert 1 + 1 == 3, 'arithmetic'\n");
  CHECK_FALSE(bad.passed);
  CHECK(bad.exit_code == 1);
  CHECK(bad.err.find("AssertionError") != std::string::npos);
  auto tmp = sb->run_python("open('/tmp/x.txt','w').write('hello')\nprint(open('/tmp/x.txt').read())\n");
  CHECK(tmp.passed);  // its own tmpfs is writable
  CHECK(tmp.out == "hello\n");
  auto loud = sb->run_python("import sys\nsys.stdout.write('x' * 1000000)\n");
  CHECK(loud.passed);
  CHECK(loud.output_truncated);
  CHECK(static_cast<int64_t>(loud.out.size()) == sb->config().output_limit_bytes);
}

TEST_CASE("sandbox: an infinite loop is killed at the wall-clock limit") {
  Sandbox* sb = sandbox_or_skip();
  if (!sb) return;
  auto r = sb->run_python("while True:\n    pass\n");
  CHECK_FALSE(r.passed);
  CHECK(r.timed_out);
  CHECK(r.seconds < 5.0);
  expect_still_works(*sb);
}

TEST_CASE("sandbox: a fork bomb fails only itself and leaves no process behind") {
  Sandbox* sb = sandbox_or_skip();
  if (!sb) return;
  auto r = sb->run_python(
      "import os\n"
      "while True:\n"
      "    try:\n"
      "        os.fork()\n"
      "    except OSError:\n"
      "        pass\n");
  CHECK_FALSE(r.passed);
  if (r.sandbox_uid >= 0) {
    int left = -1;
    for (int i = 0; i < 150 && left != 0; ++i) {
      left = processes_of_uid(static_cast<int>(r.sandbox_uid));
      if (left) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    CHECK(left == 0);
  }
  expect_still_works(*sb);
}

TEST_CASE("sandbox: a memory bomb fails with MemoryError under the address-space limit") {
  Sandbox* sb = sandbox_or_skip();
  if (!sb) return;
  auto r = sb->run_python("x = bytearray(8 * 1024 * 1024 * 1024)\nprint('allocated')\n");
  CHECK_FALSE(r.passed);
  CHECK_FALSE(r.timed_out);
  CHECK(r.err.find("MemoryError") != std::string::npos);
  auto grow = sb->run_python("xs = []\nwhile True:\n    xs.append(bytearray(64 * 1024 * 1024))\n");
  CHECK_FALSE(grow.passed);
  expect_still_works(*sb);
}

TEST_CASE("sandbox: writing or deleting files outside its tmpfs fails and the files are untouched") {
  Sandbox* sb = sandbox_or_skip();
  if (!sb) return;
  char cwd_buf[4096];
  REQUIRE(getcwd(cwd_buf, sizeof cwd_buf));
  const std::string victim = std::string(cwd_buf) + "/sandbox_victim_" + std::to_string(getpid()) + ".txt";
  const std::string created = std::string(cwd_buf) + "/sandbox_created_" + std::to_string(getpid()) + ".txt";
  { std::ofstream(victim) << "keep me"; }
  auto del = sb->run_python("import os\nos.remove('" + victim + "')\n");
  CHECK_FALSE(del.passed);
  auto write = sb->run_python("open('" + created + "', 'w').write('x')\n");
  CHECK_FALSE(write.passed);
  auto sys_write = sb->run_python("open('/usr/leadbench_sandbox_probe', 'w').write('x')\n");
  CHECK_FALSE(sys_write.passed);
  CHECK(sys_write.err.find("Read-only file system") != std::string::npos);
  auto sys_del = sb->run_python("import os\nos.remove('/usr/bin/python3')\n");
  CHECK_FALSE(sys_del.passed);
  std::ifstream still(victim);
  std::string content;
  std::getline(still, content);
  CHECK(content == "keep me");
  CHECK_FALSE(std::ifstream(created).good());
  CHECK(access("/usr/leadbench_sandbox_probe", F_OK) != 0);
  CHECK(access("/usr/bin/python3", F_OK) == 0);
  std::remove(victim.c_str());
  expect_still_works(*sb);
}

TEST_CASE("sandbox: opening a network connection fails") {
  Sandbox* sb = sandbox_or_skip();
  if (!sb) return;
  auto r = sb->run_python(
      "import socket\n"
      "s = socket.create_connection(('1.1.1.1', 80), timeout=0.5)\n"
      "print('connected')\n");
  CHECK_FALSE(r.passed);
  CHECK(r.out.find("connected") == std::string::npos);
  auto dns = sb->run_python("import socket\nprint(socket.gethostbyname('example.com'))\n");
  CHECK_FALSE(dns.passed);
  expect_still_works(*sb);
}

TEST_CASE("sandbox: a missing bubblewrap is refused with install instructions") {
  SandboxConfig c = fast_config();
  c.bwrap = "/nonexistent/bwrap";
  Sandbox sb(c);
  std::string problem = sb.probe();
  CHECK(problem.find("apt-get install bubblewrap") != std::string::npos);
  CHECK_THROWS_AS(sb.require_available(), SandboxUnavailable);
  // The explicit unsafe override runs the program anyway (with rlimits and the timeout).
  Sandbox unsafe(c, /*unsafe_no_sandbox=*/true);
  CHECK(unsafe.probe().empty());
  auto r = unsafe.run_python("print(6 * 7)\n");
  CHECK(r.passed);
  CHECK(r.out == "42\n");
  // The end token holds there too: an early exit with status 0 is no pass.
  auto to_end = unsafe.run_python_to_end("print(6 * 7)\n");
  CHECK(to_end.passed);
  CHECK(to_end.out == "42\n");
  auto early = unsafe.run_python_to_end("import os\nos._exit(0)\nprint('never')\n");
  CHECK(early.exit_code == 0);
  CHECK_FALSE(early.passed);
}

TEST_CASE("sandbox: file descriptors open in the evaluator do not reach the program (no way out through /proc/self/fd)") {
  Sandbox* sb = sandbox_or_skip();
  if (!sb) return;
  // A host folder with a secret, open without O_CLOEXEC as `exec 7</some/dir` leaves it, and a pipe
  // as a job runner holds one: both would be inherited by every child without the fix.
  char cwd_buf[4096];
  REQUIRE(getcwd(cwd_buf, sizeof cwd_buf));
  const std::string dir = std::string(cwd_buf) + "/sandbox_fd_dir_" + std::to_string(getpid());
  const std::string secret = dir + "/secret.txt", created = dir + "/created.txt";
  mkdir(dir.c_str(), 0777);
  chmod(dir.c_str(), 0777);  // writable for the sandbox's uid too: only the sandbox may stop the write
  { std::ofstream(secret) << "host secret"; }
  chmod(secret.c_str(), 0666);
  const int opened = open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  REQUIRE(opened >= 0);
  const int dir_fd = fcntl(opened, F_DUPFD, 7);  // inheritable on purpose, above the child's program fd 3
  REQUIRE(dir_fd >= 7);
  close(opened);
  int job_pipe[2];
  REQUIRE(pipe(job_pipe) == 0);  // inheritable on purpose
  REQUIRE(fcntl(job_pipe[0], F_SETFL, O_NONBLOCK) == 0);
  auto r = sb->run_python(
      "import os\n"
      "hits = []\n"
      "for n in range(3, 65):\n"
      "    try:\n"
      "        hits.append('read %d: %s' % (n, open('/proc/self/fd/%d/secret.txt' % n).read()))\n"
      "    except Exception:\n"
      "        pass\n"
      "    try:\n"
      "        open('/proc/self/fd/%d/secret.txt' % n, 'w').write('overwritten')\n"
      "        hits.append('overwrote %d' % n)\n"
      "    except Exception:\n"
      "        pass\n"
      "    try:\n"
      "        open('/proc/self/fd/%d/created.txt' % n, 'w').write('x')\n"
      "        hits.append('created %d' % n)\n"
      "    except Exception:\n"
      "        pass\n"
      "    try:\n"
      "        os.write(n, b'from the sandbox')\n"
      "        hits.append('wrote to fd %d' % n)\n"
      "    except Exception:\n"
      "        pass\n"
      "print('hits', hits)\n");
  CHECK(r.passed);
  CHECK(r.out == "hits []\n");
  std::ifstream still(secret);
  std::string content;
  std::getline(still, content);
  CHECK(content == "host secret");
  CHECK(access(created.c_str(), F_OK) != 0);
  char buf[64];
  CHECK(read(job_pipe[0], buf, sizeof buf) < 0);  // nothing arrived on the job runner's pipe
  close(dir_fd);
  close(job_pipe[0]);
  close(job_pipe[1]);
  std::remove(secret.c_str());
  std::remove(created.c_str());
  rmdir(dir.c_str());
  expect_still_works(*sb);
}

TEST_CASE("sandbox: /dev is read-only and /dev/shm is capped like /tmp") {
  Sandbox* sb = sandbox_or_skip();
  if (!sb) return;
  const int cap_mb = sb->config().tmpfs_mb;
  // Files of 8 MB (under the file-size limit) until 16 MB past the cap: the tmpfs must refuse first.
  const std::string files = std::to_string(cap_mb / 8 + 2);
  auto shm = sb->run_python(
      "import errno\n"
      "chunk = b'x' * (8 << 20)\n"
      "for i in range(" + files + "):\n"
      "    try:\n"
      "        with open('/dev/shm/fill%d' % i, 'wb') as f:\n"
      "            f.write(chunk)\n"
      "    except OSError as e:\n"
      "        print('refused', errno.errorcode[e.errno], 'after', i * 8, 'MB')\n"
      "        break\n"
      "else:\n"
      "    print('wrote all')\n");
  CHECK(shm.passed);
  CHECK(shm.out.find("refused ENOSPC") != std::string::npos);
  CHECK(shm.out.find("wrote all") == std::string::npos);
  auto dev = sb->run_python("open('/dev/fill', 'wb').write(b'x' * 1024)\n");
  CHECK_FALSE(dev.passed);
  CHECK(dev.err.find("Read-only file system") != std::string::npos);
  // What Python needs from /dev still works: null, urandom, and a semaphore in /dev/shm.
  auto ok = sb->run_python(
      "import os, multiprocessing\n"
      "open('/dev/null', 'w').write('x')\n"
      "assert len(os.urandom(16)) == 16\n"
      "lock = multiprocessing.Lock()\n"
      "with lock:\n"
      "    print('ok')\n");
  CHECK(ok.passed);
  CHECK(ok.out == "ok\n");
}

TEST_CASE("sandbox: nested user namespaces cannot be created inside (where bubblewrap can disable them)") {
  Sandbox* sb = sandbox_or_skip();
  if (!sb) return;
  if (!sb->nested_userns_disabled()) {
    std::printf("SKIPPED: this bubblewrap cannot disable nested user namespaces (needs --disable-userns, "
                "bubblewrap >= 0.8, not setuid)\n");
    return;
  }
  auto r = sb->run_python(
      "import ctypes, errno\n"
      "libc = ctypes.CDLL(None, use_errno=True)\n"
      "CLONE_NEWUSER = 0x10000000\n"
      "if libc.unshare(CLONE_NEWUSER) == 0:\n"
      "    print('unshare succeeded')\n"
      "else:\n"
      "    print('unshare failed', errno.errorcode[ctypes.get_errno()])\n"
      "if libc.mount(b'none', b'/tmp', b'tmpfs', 0, None) == 0:\n"
      "    print('mount succeeded')\n"
      "else:\n"
      "    print('mount failed', errno.errorcode[ctypes.get_errno()])\n");
  CHECK(r.passed);
  CHECK(r.out.find("unshare failed") != std::string::npos);
  CHECK(r.out.find("mount failed") != std::string::npos);
  CHECK(r.out.find("succeeded") == std::string::npos);
  expect_still_works(*sb);
}

TEST_CASE("sandbox: a HumanEval completion that exits with status 0 before its tests finish does not pass") {
  Sandbox* sb = sandbox_or_skip();
  if (!sb) return;
  std::shared_ptr<Sandbox> shared(sb, [](Sandbox*) {});  // the test's sandbox, not owned here
  CodeChecker checker = humaneval_checker(shared);
  SuiteItem item;
  item.id = "add";
  item.entry_point = "add";
  item.code_prefix = "def add(a, b):\n    \"\"\"Return a + b.\"\"\"\n";
  item.test_code = "def check(candidate):\n    assert candidate(2, 3) == 5\n    assert candidate(-1, 1) == 0\n";
  CHECK(checker(item, "    return a + b\n"));
  CHECK(checker(item, "    print('x' * 200000)\n    return a + b\n"));  // loud but right: the token is still seen
  CHECK_FALSE(checker(item, "    return a - b\n"));
  const std::vector<std::pair<std::string, std::string>> forged = {
      {"os._exit(0) at top level", "    return 0\n\nimport os\nos._exit(0)\n"},
      {"os._exit(0) from atexit", "    return 0\n\nimport atexit, os\natexit.register(lambda: os._exit(0))\n"},
      {"os._exit(0) in the function", "    import os\n    os._exit(0)\n"},
      {"sys.exit(0) in the function", "    import sys\n    sys.exit(0)\n"},
      {"raise SystemExit in the check path", "    raise SystemExit\n"},
      {"SystemExit(0) from a finally", "    try:\n        return 0\n    finally:\n        raise SystemExit(0)\n"},
      {"reading stdin for the token", "    return 0\n\nimport os, sys\nprint(sys.stdin.read())\nprint(os.read(0, 100))\nos._exit(0)\n"},
  };
  for (const auto& [what, completion] : forged) {
    INFO(what);
    CHECK_FALSE(checker(item, completion));
  }
  // The runs themselves: exit 0 but no end token for the forged exit; the token is not left in `out`.
  auto forged_run = sb->run_python_to_end(humaneval_program(item, "    import os\n    os._exit(0)\n"));
  CHECK(forged_run.exit_code == 0);
  CHECK_FALSE(forged_run.completed);
  CHECK_FALSE(forged_run.passed);
  auto honest = sb->run_python_to_end(humaneval_program(item, "    print('hi')\n    return a + b\n"));
  CHECK(honest.passed);
  CHECK(honest.completed);
  CHECK(honest.out == "hi\nhi\n");
}

TEST_CASE("sandbox: closing inherited descriptors works with close_range and with its /proc/self/fd fallback") {
  for (bool try_close_range : {true, false}) {
    INFO("close_range tried first: " << try_close_range);
    const int base = open("/dev/null", O_RDONLY);
    REQUIRE(base >= 0);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      // Below the cut (kept) and above it (closed), then the call the sandbox's child makes.
      bool ok = dup2(base, 40) == 40 && dup2(base, 100) == 100 && dup2(base, 1000) == 1000;
      sandbox_detail::close_fds_from(50, try_close_range);
      ok = ok && fcntl(40, F_GETFD) >= 0 && fcntl(2, F_GETFD) >= 0;
      ok = ok && fcntl(100, F_GETFD) < 0 && fcntl(1000, F_GETFD) < 0;
      _exit(ok ? 0 : 1);
    }
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    close(base);
  }
}
