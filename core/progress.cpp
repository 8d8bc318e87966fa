// Progress lines; see progress.h.
#include "core/progress.h"

#include <atomic>

#include "core/ledger.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace lb {
namespace {
int g_forced = -1;  // -1: decide from the terminal and environment
}

bool Progress::enabled() {
  if (g_forced >= 0) return g_forced == 1;
  if (const char* e = std::getenv("LEADBENCH_PROGRESS")) return std::string(e) == "1";
  return ::isatty(2) != 0;
}

void Progress::force(bool on) { g_forced = on ? 1 : 0; }

Progress::Progress(std::string title, int64_t total_steps)
    : title_(std::move(title)), total_(total_steps), start_(now_seconds()) {}

void Progress::step(int64_t round, int64_t step, double loss, double lr, double tokens_per_second) {
  if (!enabled()) return;
  double now = now_seconds();
  bool last = total_ > 0 && step >= total_;
  if (!last && last_print_ >= 0 && now - last_print_ < 1.0) return;  // at most one line a second
  last_print_ = now;
  if (!header_done_) {
    std::fprintf(stderr, "%-16s | %5s | %7s | %8s | %9s | %9s | %6s\n", title_.c_str(), "round", "step", "loss", "lr",
                 "tok/s", "ETA");
    header_done_ = true;
  }
  std::string eta = "-";
  if (total_ > 0 && step > 0) {
    double rem = (now - start_) / step * (total_ - step);
    char b[32];
    std::snprintf(b, sizeof(b), "%dm%02ds", int(rem) / 60, int(rem) % 60);
    eta = b;
  }
  char steps[32];
  if (total_ > 0)
    std::snprintf(steps, sizeof(steps), "%lld/%lld", (long long)step, (long long)total_);
  else
    std::snprintf(steps, sizeof(steps), "%lld", (long long)step);
  std::fprintf(stderr, "%-16s | %5lld | %7s | %8.4f | %9.2e | %9.0f | %6s\n", title_.c_str(), (long long)round, steps,
               loss, lr, tokens_per_second, eta.c_str());
}

void Progress::note(const std::string& line) {
  if (enabled()) std::fprintf(stderr, "%s\n", line.c_str());
}

namespace {
std::atomic<bool> g_log_lines{true};
}  // namespace

void set_log_lines(bool on) { g_log_lines = on; }

void log_line(const std::string& line) {
  if (!g_log_lines) return;
  std::fprintf(stderr, "%s\n", line.c_str());
  std::fflush(stderr);
}

}  // namespace lb
