// One writer per run record: `<record>.lock`, held with flock(LOCK_EX | LOCK_NB) by whichever process
// writes the record, holding that process's pid so a refused one can say who is running it. A sweep
// takes the lock before it starts a run and hands the open lock to the `leadbench run` child (the
// descriptor is inherited, its number in LEADBENCH_RECORD_LOCK_FD), so parent and child share one
// lock and never wait on each other; a `run` started by hand takes the lock itself. The kernel drops
// the lock when the last process holding the descriptor dies, so a killed run never leaves a lock
// that blocks the next one; the file left behind is rewritten by the next holder.
#pragma once

#include <sys/types.h>

#include <string>

namespace lb {

// Exit status of `leadbench run` when its record is being written by another process (EX_TEMPFAIL).
constexpr int kRecordBusyExitCode = 75;

// The environment variable a sweep sets for its child: the number of the inherited lock descriptor.
constexpr const char* kRecordLockFdEnv = "LEADBENCH_RECORD_LOCK_FD";

// `<record_path>.lock`.
std::string record_lock_path(const std::string& record_path);

class RecordLock {
 public:
  RecordLock() = default;
  RecordLock(RecordLock&& o) noexcept;
  RecordLock& operator=(RecordLock&& o) noexcept;
  RecordLock(const RecordLock&) = delete;
  RecordLock& operator=(const RecordLock&) = delete;
  ~RecordLock();  // releases: removes the lock file (when this process created the lock) and closes it

  // Takes the lock of `record_path` without waiting. Busy: held() is false and holder_pid() is the pid
  // stored by the holder (0 when it has not written it yet). Throws std::runtime_error when the lock
  // file cannot be created (naming it). The descriptor is close-on-exec.
  static RecordLock try_acquire(const std::string& record_path);

  // For `leadbench run`: adopts the lock a sweep passed down through kRecordLockFdEnv when that
  // descriptor is the lock of `record_path` (and then forgets the variable), else try_acquire. The
  // adopted lock stores this process's pid; it is released when the parent's copy is closed too.
  static RecordLock acquire_for_run(const std::string& record_path);

  bool held() const { return fd_ >= 0; }
  pid_t holder_pid() const { return holder_; }  // busy: the other process; held: this one
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }  // the lock file

  // "<record> is already being run by pid N" (or "by another process" when the pid is unknown).
  std::string busy_message(const std::string& record_path) const;

  // Stores `pid` in the lock file (the holder a refused process names).
  void store_pid(pid_t pid);

 private:
  void release();
  int fd_ = -1;
  pid_t holder_ = 0;
  bool owner_ = false;  // created here (removes the file on release), not adopted from a parent
  std::string path_;
};

// Removes temporary files a killed writer of `record_path` left beside it (`<record>.tmp.<pid>`,
// `<stem>.predictions.jsonl.tmp.<pid>`). Call only while holding the record's lock.
void remove_stale_record_temporaries(const std::string& record_path);

}  // namespace lb
