// The per-record write lock (flock on `<record>.lock`); see record_lock.h.
#include "experiments/record_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace fs = std::filesystem;

namespace lb {

namespace {

bool same_file(int fd, const std::string& path) {
  struct stat a {}, b {};
  return ::fstat(fd, &a) == 0 && ::stat(path.c_str(), &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

pid_t read_pid(int fd) {
  char buf[32] = {0};
  ssize_t n = ::pread(fd, buf, sizeof(buf) - 1, 0);
  if (n <= 0) return 0;
  char* end = nullptr;
  long v = std::strtol(buf, &end, 10);
  return end != buf && v > 0 ? static_cast<pid_t>(v) : 0;
}

}  // namespace

std::string record_lock_path(const std::string& record_path) { return record_path + ".lock"; }

RecordLock::RecordLock(RecordLock&& o) noexcept
    : fd_(o.fd_), holder_(o.holder_), owner_(o.owner_), path_(std::move(o.path_)) {
  o.fd_ = -1;
  o.owner_ = false;
}

RecordLock& RecordLock::operator=(RecordLock&& o) noexcept {
  if (this != &o) {
    release();
    fd_ = o.fd_;
    holder_ = o.holder_;
    owner_ = o.owner_;
    path_ = std::move(o.path_);
    o.fd_ = -1;
    o.owner_ = false;
  }
  return *this;
}

RecordLock::~RecordLock() { release(); }

void RecordLock::release() {
  if (fd_ < 0) return;
  // Removing the file before closing is safe: a process that locked this file meanwhile finds the
  // path gone or pointing elsewhere (same_file) and locks the current file instead.
  if (owner_) ::unlink(path_.c_str());
  ::close(fd_);
  fd_ = -1;
  owner_ = false;
}

void RecordLock::store_pid(pid_t pid) {
  if (fd_ < 0) return;
  const std::string text = std::to_string(pid) + "\n";
  if (::ftruncate(fd_, 0) == 0 && ::pwrite(fd_, text.data(), text.size(), 0) == static_cast<ssize_t>(text.size()))
    holder_ = pid;
}

std::string RecordLock::busy_message(const std::string& record_path) const {
  return record_path + " is already being run by " +
         (holder_ > 0 ? "pid " + std::to_string(holder_) : std::string("another process")) + " (lock " + path_ + ")";
}

RecordLock RecordLock::try_acquire(const std::string& record_path) {
  const std::string path = record_lock_path(record_path);
  fs::path parent = fs::path(path).parent_path();
  if (!parent.empty()) {
    std::error_code ec;
    fs::create_directories(parent, ec);
  }
  for (int attempt = 0; attempt < 100; ++attempt) {
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
      throw std::runtime_error(path + ": cannot create the run's lock file (" + std::strerror(errno) +
                               "); check that the results folder is writable");
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      const int err = errno;
      if (err == EWOULDBLOCK) {
        RecordLock busy;
        busy.holder_ = read_pid(fd);
        busy.path_ = path;
        ::close(fd);
        return busy;
      }
      ::close(fd);
      if (err == EINTR) continue;
      throw std::runtime_error(path + ": cannot lock (" + std::string(std::strerror(err)) + ")");
    }
    if (same_file(fd, path)) {
      RecordLock l;
      l.fd_ = fd;
      l.owner_ = true;
      l.path_ = path;
      l.store_pid(::getpid());
      return l;
    }
    ::close(fd);  // the previous holder removed this file while we waited for it; lock the new one
  }
  throw std::runtime_error(path + ": the lock file keeps being replaced; is another program deleting it?");
}

RecordLock RecordLock::acquire_for_run(const std::string& record_path) {
  if (const char* env = std::getenv(kRecordLockFdEnv)) {
    const std::string text = env;
    ::unsetenv(kRecordLockFdEnv);  // nothing this process starts may take it for its own
    char* end = nullptr;
    long fd = std::strtol(text.c_str(), &end, 10);
    const std::string path = record_lock_path(record_path);
    // Only a descriptor that is this record's lock file is adopted; any other is left alone.
    if (end != text.c_str() && *end == 0 && fd > 2 && fd < (1L << 30) && same_file(static_cast<int>(fd), path) &&
        ::flock(static_cast<int>(fd), LOCK_EX | LOCK_NB) == 0) {
      ::fcntl(static_cast<int>(fd), F_SETFD, FD_CLOEXEC);
      RecordLock l;
      l.fd_ = static_cast<int>(fd);
      l.owner_ = false;
      l.path_ = path;
      l.store_pid(::getpid());
      return l;
    }
  }
  return try_acquire(record_path);
}

void remove_stale_record_temporaries(const std::string& record_path) {
  const fs::path rec(record_path);
  const std::string name = rec.filename().string();
  std::string stem = name;
  if (stem.size() > 5 && stem.compare(stem.size() - 5, 5, ".json") == 0) stem.resize(stem.size() - 5);
  const std::string a = name + ".tmp.", b = stem + ".predictions.jsonl.tmp.";
  std::error_code ec;
  const fs::path dir = rec.has_parent_path() ? rec.parent_path() : fs::path(".");
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string f = it->path().filename().string();
    if (f.rfind(a, 0) == 0 || f.rfind(b, 0) == 0) {
      std::error_code rm;
      fs::remove(it->path(), rm);
    }
  }
}

}  // namespace lb
