// Loaders for the real benchmark files (see loaders.h). Every error names file, line or record,
// field, and what to do.
#include "evaluation/loaders.h"

#include "core/json_io.h"
#include "evaluation/csv.h"
#include "evaluation/metrics.h"

#include <algorithm>
#include <filesystem>
#include <set>

namespace fs = std::filesystem;

namespace lb {

namespace {

// Runs fn; with skip_bad an InputError counts a skipped record instead of propagating.
template <class F> void guarded(const LoadOptions& opt, F&& fn) {
  if (!opt.skip_bad) {
    fn();
    return;
  }
  try {
    fn();
  } catch (const InputError&) {
    ++*opt.skipped;
  }
}

void check_options(const LoadOptions& opt) {
  if (opt.skip_bad && !opt.skipped) throw std::invalid_argument("LoadOptions: skip_bad needs a skipped counter");
}

int64_t skipped_so_far(const LoadOptions& opt) { return opt.skipped ? *opt.skipped : 0; }

// A file that yields no item is an error, never a score over 0 items or a subject or language left
// out: an empty file is almost always a cut download or a failed copy. `skipped_before` is the
// skip counter before the file was read, so that the message can say the rows were all skipped.
void require_items(size_t n, const std::string& path, const std::string& what, const LoadOptions& opt,
                   int64_t skipped_before) {
  if (n > 0) return;
  const int64_t skipped = skipped_so_far(opt) - skipped_before;
  throw InputError(path + ": no " + what +
                   (skipped > 0 ? " (all " + std::to_string(skipped) + " records were malformed and skipped)"
                                : std::string(" (the file holds none)")) +
                   "; the file is empty or incomplete: re-download or re-create it, or leave it out");
}

std::vector<MmluQuestion> load_mmlu_file(const std::string& path, const std::string& subject,
                                         const LoadOptions& opt) {
  std::vector<MmluQuestion> out;
  const int64_t skipped_before = skipped_so_far(opt);
  const auto rows = parse_csv(read_text_file(path), path);
  for (size_t r = 0; r < rows.size(); ++r) {
    guarded(opt, [&] {
      const auto& row = rows[r];
      const std::string where = path + ":" + std::to_string(row.line);
      if (row.fields.size() != 6)
        throw InputError(where + ": expected 6 columns (question,A,B,C,D,answer), found " +
                         std::to_string(row.fields.size()) +
                         "; quote fields that contain commas, or pass --skip-bad to skip the row");
      std::string ans = row.fields[5];
      while (!ans.empty() && (ans.back() == ' ' || ans.back() == '\r')) ans.pop_back();
      while (!ans.empty() && ans.front() == ' ') ans.erase(ans.begin());
      if (ans.size() != 1 || ans[0] < 'A' || ans[0] > 'D')
        throw InputError(where + ": field 'answer' (column 6) must be one of A, B, C, D, got '" + row.fields[5] +
                         "'; fix the row or pass --skip-bad to skip it");
      MmluQuestion q;
      q.subject = subject;
      q.question = row.fields[0];
      q.choices.assign(row.fields.begin() + 1, row.fields.begin() + 5);
      q.answer = ans[0] - 'A';
      q.row = static_cast<int64_t>(r);
      q.line = row.line;
      out.push_back(std::move(q));
    });
  }
  require_items(out.size(), path, "questions of subject '" + subject + "'", opt, skipped_before);
  return out;
}

std::map<std::string, std::vector<MmluQuestion>> load_mmlu_split(const std::string& dir, const std::string& split,
                                                                  const LoadOptions& opt) {
  std::map<std::string, std::vector<MmluQuestion>> out;
  const std::string suffix = "_" + split + ".csv";
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    std::string name = f.filename().string();
    std::string subject = name.substr(0, name.size() - suffix.size());
    out[subject] = load_mmlu_file(f.string(), subject, opt);
  }
  return out;
}

}  // namespace

MmluData load_mmlu(const std::string& dir, const LoadOptions& opt) {
  check_options(opt);
  const std::string dev = (fs::path(dir) / "dev").string(), test = (fs::path(dir) / "test").string();
  if (!fs::is_directory(dev) || !fs::is_directory(test))
    throw InputError(dir + ": an MMLU folder must hold dev/ and test/ with <subject>_dev.csv and "
                     "<subject>_test.csv (the Hendrycks layout); point --data at it");
  MmluData d;
  d.dev = load_mmlu_split(dev, "dev", opt);
  d.test = load_mmlu_split(test, "test", opt);
  if (d.test.empty()) throw InputError(test + ": no <subject>_test.csv files found");
  for (const auto& kv : d.test)
    if (!d.dev.count(kv.first))
      throw InputError(dev + ": missing " + kv.first + "_dev.csv (the few-shot exemplars of subject '" + kv.first +
                       "')");
  return d;
}

std::vector<Gsm8kProblem> load_gsm8k(const std::string& path, const LoadOptions& opt) {
  check_options(opt);
  if (!file_exists(path)) throw InputError(path + ": GSM8K file not found (expected test.jsonl)");
  std::vector<Gsm8kProblem> out;
  const int64_t skipped_before = skipped_so_far(opt);
  for_each_jsonl(
      path,
      [&](const nlohmann::json& j, int64_t line) {
        const std::string where = path + ":" + std::to_string(line);
        if (!j.is_object()) throw InputError(where + ": expected a JSON object with 'question' and 'answer'");
        Gsm8kProblem p;
        p.index = line - 1;
        p.question = require_string(j, "question", where);
        p.answer = require_string(j, "answer", where);
        auto gold = gsm8k_gold_answer(p.answer);
        if (!gold)
          throw InputError(where + ": field 'answer' has no final '#### <number>' line; fix the record or "
                           "pass --skip-bad to skip it");
        p.gold = *gold;
        out.push_back(std::move(p));
      },
      opt.skip_bad, opt.skipped);
  require_items(out.size(), path, "GSM8K problems", opt, skipped_before);
  return out;
}

std::vector<HumanEvalProblem> load_humaneval(const std::string& path, const LoadOptions& opt) {
  check_options(opt);
  if (!file_exists(path)) throw InputError(path + ": HumanEval file not found (expected HumanEval.jsonl[.gz])");
  std::vector<HumanEvalProblem> out;
  std::set<std::string> seen;
  const int64_t skipped_before = skipped_so_far(opt);
  for_each_jsonl(
      path,
      [&](const nlohmann::json& j, int64_t line) {
        const std::string where = path + ":" + std::to_string(line);
        if (!j.is_object()) throw InputError(where + ": expected a JSON object (task_id, prompt, test, ...)");
        HumanEvalProblem p;
        p.task_id = require_string(j, "task_id", where);
        p.prompt = require_string(j, "prompt", where);
        p.canonical_solution = j.contains("canonical_solution") && j["canonical_solution"].is_string()
                                   ? j["canonical_solution"].get<std::string>()
                                   : "";
        p.test = require_string(j, "test", where);
        p.entry_point = require_string(j, "entry_point", where);
        if (!seen.insert(p.task_id).second)
          throw InputError(where + ": duplicate task_id '" + p.task_id + "'");
        out.push_back(std::move(p));
      },
      opt.skip_bad, opt.skipped);
  require_items(out.size(), path, "HumanEval problems", opt, skipped_before);
  return out;
}

namespace {

void load_tydiqa_file(const std::string& path, const LoadOptions& opt, std::vector<TydiqaQuestion>& out) {
  const nlohmann::json doc = read_json_file(path);
  if (!doc.is_object() || !doc.contains("data") || !doc["data"].is_array())
    throw InputError(path + ": expected SQuAD-style JSON {\"data\": [{\"title\", \"paragraphs\": [...]}]}");
  const auto& data = doc["data"];
  const size_t before = out.size();
  const int64_t skipped_before = skipped_so_far(opt);
  for (size_t a = 0; a < data.size(); ++a) {
    const std::string art_where = path + ": data[" + std::to_string(a) + "]";
    guarded(opt, [&] {
      const auto& art = data[a];
      if (!art.is_object() || !art.contains("paragraphs") || !art["paragraphs"].is_array())
        throw InputError(art_where + ": missing field 'paragraphs' (a list)");
      const std::string title = art.contains("title") && art["title"].is_string() ? art["title"].get<std::string>() : "";
      const auto& paras = art["paragraphs"];
      for (size_t p = 0; p < paras.size(); ++p) {
        const std::string para_where = art_where + ".paragraphs[" + std::to_string(p) + "]";
        const auto& para = paras[p];
        const std::string context = require_string(para, "context", para_where);
        const auto& qas = require_field(para, "qas", para_where);
        if (!qas.is_array()) throw InputError(para_where + ": field 'qas' must be a list");
        for (size_t q = 0; q < qas.size(); ++q) {
          const std::string qa_where = para_where + ".qas[" + std::to_string(q) + "]";
          guarded(opt, [&] {
            const auto& qa = qas[q];
            TydiqaQuestion t;
            t.id = require_string(qa, "id", qa_where);
            t.question = require_string(qa, "question", qa_where);
            t.context = context;
            t.title = title;
            auto dash = t.id.find('-');
            if (dash == std::string::npos || dash == 0)
              throw InputError(qa_where + ": field 'id' ('" + t.id +
                               "') does not start with a language prefix such as 'english-'");
            t.language = t.id.substr(0, dash);
            const auto& answers = require_field(qa, "answers", qa_where);
            if (!answers.is_array() || answers.empty())
              throw InputError(qa_where + ": field 'answers' must be a non-empty list of {\"text\", \"answer_start\"}");
            for (size_t k = 0; k < answers.size(); ++k)
              t.answers.push_back(require_string(answers[k], "text", qa_where + ".answers[" + std::to_string(k) + "]"));
            out.push_back(std::move(t));
          });
        }
      }
    });
  }
  require_items(out.size() - before, path,
                data.empty() ? "articles" : "questions", opt,
                skipped_before);
}

}  // namespace

std::vector<TydiqaQuestion> load_tydiqa(const std::string& path, const LoadOptions& opt) {
  check_options(opt);
  std::vector<std::string> files;
  if (fs::is_directory(path)) {
    for (const auto& e : fs::directory_iterator(path))
      if (e.path().extension() == ".json") files.push_back(e.path().string());
    std::sort(files.begin(), files.end());
    if (files.empty()) throw InputError(path + ": no *.json TyDiQA files in this folder");
  } else if (file_exists(path)) {
    files.push_back(path);
  } else {
    throw InputError(path + ": TyDiQA file or folder not found");
  }
  std::vector<TydiqaQuestion> all;
  for (const auto& f : files) load_tydiqa_file(f, opt, all);
  std::stable_sort(all.begin(), all.end(),
                   [](const TydiqaQuestion& a, const TydiqaQuestion& b) { return a.language < b.language; });
  std::set<std::string> seen;
  for (const auto& q : all)
    if (!seen.insert(q.id).second) throw InputError(path + ": duplicate question id '" + q.id + "'");
  return all;
}

}  // namespace lb
