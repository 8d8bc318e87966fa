// EvalModeGuard: puts a model in eval mode (no adapter dropout) for a scope and restores its mode
// on every exit path. Shared by the inference engine and generation.
#pragma once

#include "core/model.h"

namespace lb {

class EvalModeGuard {
 public:
  explicit EvalModeGuard(DecoderModel& m) : m_(m), was_training_(m->is_training()) { m_->eval(); }
  ~EvalModeGuard() { m_->train(was_training_); }
  EvalModeGuard(const EvalModeGuard&) = delete;
  EvalModeGuard& operator=(const EvalModeGuard&) = delete;

 private:
  DecoderModel& m_;
  bool was_training_;
};

}  // namespace lb
