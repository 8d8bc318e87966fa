// Names of suite kinds and the JSON form of a suite result (the run record and `leadbench eval --json`).
#include "evaluation/suite.h"

namespace lb {

const char* suite_kind_name(SuiteKind k) {
  switch (k) {
    case SuiteKind::multiple_choice: return "multiple_choice";
    case SuiteKind::final_number: return "final_number";
    case SuiteKind::code: return "code";
    case SuiteKind::extractive_qa: return "extractive_qa";
  }
  return "unknown";
}

nlohmann::json SuiteResult::to_json() const {
  nlohmann::json j;
  j["suite"] = suite;
  j["version"] = version;
  j["metric"] = metric;
  j["value"] = headline.value;
  j["stderr"] = headline.stderr_;
  j["n"] = headline.n;
  j["details"] = details.is_null() ? nlohmann::json::object() : details;
  j["warnings"] = warnings;
  return j;
}

}  // namespace lb
