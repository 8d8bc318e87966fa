// The bubblewrap sandbox against each attack of the issue: an infinite loop, a fork bomb, a memory
// bomb, writing or deleting files outside its tmpfs, opening a socket. Each fails that one program
// only; a normal program run afterwards still passes. 1 s timeouts keep the test short.
#include "evaluation/sandbox.h"
// After the project headers: Catch's CHECK must win over glog's (pulled in by LibTorch).
#include <catch2/catch.hpp>

#include <dirent.h>
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
}
