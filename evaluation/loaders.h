// Loaders for the real benchmark files (formats in ../shared/data/README.md): MMLU CSV folders,
// GSM8K JSONL, HumanEval JSONL (.gz too), TyDiQA GoldP SQuAD-style JSON (one combined file or one
// file per language). A malformed record is an InputError naming file, line/record and field, unless
// skip_bad is set: then it is counted in *skipped and left out (the caller reports the count). A
// file that yields no item (empty, or every record skipped) is an InputError naming the file.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace lb {

struct LoadOptions {
  bool skip_bad = false;     // skip malformed records instead of stopping
  int64_t* skipped = nullptr;  // counts skipped records (required when skip_bad)
};

struct MmluQuestion {
  std::string subject;               // file name without _dev.csv / _test.csv, e.g. "abstract_algebra"
  std::string question;
  std::vector<std::string> choices;  // 4 options, in order A..D
  int answer = -1;                   // 0..3
  int64_t row = 0;                   // 0-based row in its CSV file (the id's number)
  int64_t line = 0;                  // 1-based line where the row starts
};

struct MmluData {
  std::map<std::string, std::vector<MmluQuestion>> dev;   // subject -> rows (k-shot exemplars)
  std::map<std::string, std::vector<MmluQuestion>> test;  // subject -> rows (the questions)
};

// `dir` holds dev/ and test/ with <subject>_dev.csv / <subject>_test.csv (no header, 6 columns:
// question,A,B,C,D,answer). Every test subject must have a dev file.
MmluData load_mmlu(const std::string& dir, const LoadOptions& opt = {});

struct Gsm8kProblem {
  int64_t index = 0;    // 0-based line number in the file (the id)
  std::string question;
  std::string answer;   // the full reference solution
  std::string gold;     // canonical final number (after "####")
};
std::vector<Gsm8kProblem> load_gsm8k(const std::string& path, const LoadOptions& opt = {});

struct HumanEvalProblem {
  std::string task_id;  // "HumanEval/0"
  std::string prompt;   // signature + docstring the completion continues
  std::string canonical_solution;
  std::string test;     // defines check(candidate)
  std::string entry_point;
};
std::vector<HumanEvalProblem> load_humaneval(const std::string& path, const LoadOptions& opt = {});

struct TydiqaQuestion {
  std::string id;        // e.g. "english--3215621880858840488-2"
  std::string language;  // the id prefix before the first '-'
  std::string title;
  std::string context;
  std::string question;
  std::vector<std::string> answers;  // gold answer texts (1 or more)
};
// `path`: a SQuAD-style JSON file (combined or one language), or a folder of such files (*.json).
// Questions are returned sorted by language, then in file order.
std::vector<TydiqaQuestion> load_tydiqa(const std::string& path, const LoadOptions& opt = {});

}  // namespace lb
