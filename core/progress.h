// Progress on long work: one fixed-column line per step or round
// (`round | step | loss | lr | tok/s | ETA`), printed to stderr.
// Quiet when stderr is not a terminal unless forced (`--progress`); LEADBENCH_PROGRESS=1/0 also
// forces it on or off.
#pragma once

#include <cstdint>
#include <string>

namespace lb {

class Progress {
 public:
  // total_steps <= 0: unknown, no ETA.
  Progress(std::string title, int64_t total_steps);
  void step(int64_t round, int64_t step, double loss, double lr, double tokens_per_second);
  // Free-form line under the same on/off rule.
  void note(const std::string& line);
  static bool enabled();
  static void force(bool on);  // from --progress / --quiet

 private:
  std::string title_;
  int64_t total_;
  double start_;
  bool header_done_ = false;
  double last_print_ = -1;
};

// A line that is always printed (stderr), for the demo's top-level stages.
void log_line(const std::string& line);
// Off: log_line prints nothing (data-parallel ranks other than 0, whose lines repeat rank 0's).
void set_log_lines(bool on);

}  // namespace lb
