// The evaluator (see evaluator.h): model requests per suite kind, then one scoring path shared with
// `leadbench eval`.
#include "evaluation/evaluator.h"

#include "core/generate.h"
#include "core/json_io.h"
#include "core/seeds.h"
#include "evaluation/metrics.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <thread>
#include <unordered_map>

namespace fs = std::filesystem;

namespace lb {

namespace {

std::string rstrip(const std::string& s) {
  size_t e = s.find_last_not_of(" \t\r\n");
  return e == std::string::npos ? "" : s.substr(0, e + 1);
}
std::string strip(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

std::string list_some(const std::vector<std::string>& ids, size_t max_shown = 10) {
  std::string s;
  for (size_t i = 0; i < ids.size() && i < max_shown; ++i) s += (i ? ", " : "") + ids[i];
  if (ids.size() > max_shown) s += ", ... (" + std::to_string(ids.size() - max_shown) + " more)";
  return s;
}

// The answer letter of a multiple-choice output: its first letter, if that is A-D (or a-d) and
// stands alone ("B", "B.", "(B)", "B) foo"); otherwise -1.
int choice_from_text(const std::string& text, size_t n_choices) {
  size_t i = 0;
  while (i < text.size() && (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r' || text[i] == '('))
    ++i;
  if (i >= text.size()) return -1;
  char c = text[i];
  if (c >= 'a' && c <= 'z') c = char(c - 32);
  if (c < 'A' || c >= char('A' + n_choices)) return -1;
  if (i + 1 < text.size()) {
    char d = text[i + 1];
    if ((d >= 'a' && d <= 'z') || (d >= 'A' && d <= 'Z') || (d >= '0' && d <= '9')) return -1;
  }
  return c - 'A';
}

nlohmann::json scores_to_json(const std::map<std::string, Score>& m) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& kv : m) j[kv.first] = score_to_json(kv.second);
  return j;
}

// Accumulates per-item values by group and category.
struct Grouped {
  std::vector<double> all;
  std::map<std::string, std::vector<double>> groups, categories;
  void add(const SuiteItem& it, double v) {
    all.push_back(v);
    if (!it.group.empty()) groups[it.group].push_back(v);
    if (!it.category.empty()) categories[it.category].push_back(v);
  }
  static std::map<std::string, Score> scores(const std::map<std::string, std::vector<double>>& m) {
    std::map<std::string, Score> out;
    for (const auto& kv : m) out[kv.first] = mean_score(kv.second);
    return out;
  }
};

std::vector<Score> values_of(const std::map<std::string, Score>& m) {
  std::vector<Score> v;
  for (const auto& kv : m) v.push_back(kv.second);
  return v;
}

}  // namespace

std::vector<size_t> limited_item_indices(size_t total, int64_t limit) {
  std::vector<size_t> idx;
  if (limit <= 0 || static_cast<size_t>(limit) >= total) {
    for (size_t i = 0; i < total; ++i) idx.push_back(i);
    return idx;
  }
  for (int64_t k = 0; k < limit; ++k) idx.push_back(static_cast<size_t>(k * total / limit));
  return idx;
}

SuiteResult score_predictions(const Suite& suite, const std::vector<Prediction>& predictions) {
  SuiteResult res;
  res.suite = suite.name;
  res.version = suite.version;

  // Match predictions to items.
  std::unordered_map<std::string, size_t> item_of;
  for (size_t i = 0; i < suite.items.size(); ++i) item_of[suite.items[i].id] = i;
  std::vector<const Prediction*> pred_of(suite.items.size(), nullptr);
  std::vector<std::string> unknown, duplicate, missing;
  for (const auto& p : predictions) {
    auto it = item_of.find(p.id);
    if (it == item_of.end()) {
      unknown.push_back(p.id);
      continue;
    }
    if (pred_of[it->second]) {
      duplicate.push_back(p.id);
      continue;
    }
    pred_of[it->second] = &p;
  }
  for (size_t i = 0; i < suite.items.size(); ++i)
    if (!pred_of[i]) missing.push_back(suite.items[i].id);
  if (!missing.empty())
    res.warnings.push_back("MISSING PREDICTIONS: " + std::to_string(missing.size()) + " of " +
                           std::to_string(suite.items.size()) + " items have no prediction and count as wrong: " +
                           list_some(missing));
  if (!unknown.empty())
    res.warnings.push_back(std::to_string(unknown.size()) + " predictions have ids that are not in the suite (ignored): " +
                           list_some(unknown));
  if (!duplicate.empty())
    res.warnings.push_back(std::to_string(duplicate.size()) +
                           " predictions repeat an id already seen (the first one counts): " + list_some(duplicate));
  nlohmann::json pred_info = {{"given", predictions.size()},    {"items", suite.items.size()},
                              {"missing", missing.size()},      {"unknown", unknown.size()},
                              {"duplicate", duplicate.size()},  {"missing_ids", missing},
                              {"unknown_ids", unknown},         {"duplicate_ids", duplicate}};
  nlohmann::json details = nlohmann::json::object();

  switch (suite.kind) {
    case SuiteKind::multiple_choice: {
      res.metric = "accuracy";
      Grouped g;
      int64_t unparsed = 0;
      for (size_t i = 0; i < suite.items.size(); ++i) {
        const auto& it = suite.items[i];
        int choice = -1;
        if (const Prediction* p = pred_of[i]) {
          choice = p->choice;
          if (choice < 0 && !p->outputs.empty()) choice = choice_from_text(p->outputs[0], it.choices.size());
          if (choice < 0) ++unparsed;
        }
        const double v = choice >= 0 && choice == it.answer ? 1.0 : 0.0;
        g.add(it, v);
        res.per_item.push_back({{"id", it.id}, {"value", v}, {"choice", choice}, {"answer", it.answer}});
      }
      res.headline = mean_score(g.all);
      auto groups = Grouped::scores(g.groups);
      auto cats = Grouped::scores(g.categories);
      details["aggregation"] = "headline: micro average over all questions";
      if (!groups.empty()) {
        details["groups"] = scores_to_json(groups);
        details["macro_over_groups"] = score_to_json(average_of_scores(values_of(groups)));
      }
      if (!cats.empty()) {
        details["categories"] = scores_to_json(cats);
        details["macro_over_categories"] = score_to_json(average_of_scores(values_of(cats)));
      }
      pred_info["unparsed"] = unparsed;
      if (unparsed)
        res.warnings.push_back(std::to_string(unparsed) +
                               " outputs do not start with a choice letter and count as wrong");
      break;
    }
    case SuiteKind::final_number: {
      res.metric = "exact_match";
      Grouped g;
      int64_t no_number = 0;
      for (size_t i = 0; i < suite.items.size(); ++i) {
        const auto& it = suite.items[i];
        double v = 0;
        nlohmann::json extracted = nullptr;
        if (const Prediction* p = pred_of[i]) {
          auto num = p->outputs.empty() ? std::nullopt : last_number(p->outputs[0]);
          if (!num) ++no_number;
          else {
            extracted = *num;
            if (!it.references.empty() && numbers_equal(*num, it.references[0])) v = 1;
          }
        }
        g.add(it, v);
        res.per_item.push_back({{"id", it.id}, {"value", v}, {"extracted", extracted}, {"target", it.references}});
      }
      res.headline = mean_score(g.all);
      details["aggregation"] = "headline: mean over problems of exact match of the last number";
      if (!g.groups.empty()) details["groups"] = scores_to_json(Grouped::scores(g.groups));
      pred_info["no_number"] = no_number;
      break;
    }
    case SuiteKind::extractive_qa: {
      res.metric = "f1";
      Grouped f1, em;
      for (size_t i = 0; i < suite.items.size(); ++i) {
        const auto& it = suite.items[i];
        double f = 0, e = 0;
        if (const Prediction* p = pred_of[i]) {
          std::string text = p->outputs.empty() ? "" : p->outputs[0];
          text = strip(text);
          auto nl = text.find('\n');
          if (nl != std::string::npos) text = strip(text.substr(0, nl));
          f = squad_max_f1(text, it.references);
          e = squad_max_exact(text, it.references);
          res.per_item.push_back({{"id", it.id}, {"value", f}, {"exact_match", e}, {"answer", text}, {"target", it.references}});
        } else {
          res.per_item.push_back({{"id", it.id}, {"value", 0.0}, {"exact_match", 0.0}, {"answer", nullptr}, {"target", it.references}});
        }
        f1.add(it, f);
        em.add(it, e);
      }
      auto f1_groups = Grouped::scores(f1.groups), em_groups = Grouped::scores(em.groups);
      if (f1_groups.empty()) {
        res.headline = mean_score(f1.all);
        details["aggregation"] = "headline: mean F1 over questions";
        details["exact_match"] = score_to_json(mean_score(em.all));
      } else {
        res.headline = average_of_scores(values_of(f1_groups));
        details["aggregation"] =
            "headline: F1 averaged over groups (languages), each the mean over its questions; SE from the groups' SEs";
        details["groups"] = scores_to_json(f1_groups);
        details["groups_exact_match"] = scores_to_json(em_groups);
        details["exact_match"] = score_to_json(average_of_scores(values_of(em_groups)));
        details["f1_micro"] = score_to_json(mean_score(f1.all));
      }
      break;
    }
    case SuiteKind::code: {
      // Run every sample through the checker (in parallel when the checker allows it).
      struct Job {
        size_t item;
        size_t sample;
      };
      std::vector<Job> jobs;
      std::vector<std::vector<uint8_t>> passed(suite.items.size());
      for (size_t i = 0; i < suite.items.size(); ++i)
        if (const Prediction* p = pred_of[i]) {
          passed[i].assign(p->outputs.size(), 0);
          for (size_t s = 0; s < p->outputs.size(); ++s) jobs.push_back({i, s});
        }
      if (!jobs.empty() && !suite.code_checker)
        throw std::runtime_error("suite " + suite.name + " is a code suite without a code checker");
      std::atomic<size_t> next{0};
      std::mutex err_mu;
      std::string first_error;
      auto worker = [&]() {
        while (true) {
          size_t j = next.fetch_add(1);
          if (j >= jobs.size()) return;
          const auto& job = jobs[j];
          try {
            passed[job.item][job.sample] =
                suite.code_checker(suite.items[job.item], pred_of[job.item]->outputs[job.sample]) ? 1 : 0;
          } catch (const std::exception& e) {
            std::lock_guard<std::mutex> lock(err_mu);
            if (first_error.empty()) first_error = e.what();
          }
        }
      };
      const int threads = std::max(1, std::min<int>(suite.code_checker_parallelism, static_cast<int>(jobs.size())));
      if (threads <= 1) {
        worker();
      } else {
        std::vector<std::thread> pool;
        for (int t = 0; t < threads; ++t) pool.emplace_back(worker);
        for (auto& t : pool) t.join();
      }
      if (!first_error.empty()) throw std::runtime_error("code checker failed: " + first_error);

      int64_t min_n = -1, samples = 0, correct = 0;
      for (size_t i = 0; i < suite.items.size(); ++i)
        if (pred_of[i]) {
          int64_t n = static_cast<int64_t>(passed[i].size());
          min_n = min_n < 0 ? n : std::min(min_n, n);
          samples += n;
          for (auto b : passed[i]) correct += b;
        }
      nlohmann::json per_k = nlohmann::json::object();
      bool headline_set = false;
      for (int k : suite.pass_ks) {
        if (k < 1 || (min_n >= 0 && k > min_n) || min_n == 0) {
          res.warnings.push_back("pass@" + std::to_string(k) + " not reported: some problem has only " +
                                 std::to_string(std::max<int64_t>(min_n, 0)) + " samples (need n >= k)");
          continue;
        }
        std::vector<double> per_item;
        for (size_t i = 0; i < suite.items.size(); ++i) {
          if (!pred_of[i]) {
            per_item.push_back(0.0);
            continue;
          }
          int64_t n = static_cast<int64_t>(passed[i].size()), c = 0;
          for (auto b : passed[i]) c += b;
          per_item.push_back(pass_at_k(n, c, k));
        }
        Score s = mean_score(per_item);
        per_k["pass@" + std::to_string(k)] = score_to_json(s);
        if (!headline_set) {
          for (size_t i = 0; i < suite.items.size(); ++i)
            res.per_item.push_back({{"id", suite.items[i].id}, {"value", per_item[i]}, {"metric", "pass@" + std::to_string(k)},
                                    {"passed", passed[i]}});
          res.metric = "pass@" + std::to_string(k);
          res.headline = s;
          headline_set = true;
        }
      }
      if (!headline_set) {
        res.metric = "pass@" + std::to_string(suite.pass_ks.empty() ? 1 : suite.pass_ks[0]);
        res.headline.n = static_cast<int64_t>(suite.items.size());
      }
      details["aggregation"] = "headline: mean over problems of the unbiased pass@k estimate; SE over problems";
      details["pass_at_k"] = per_k;
      details["samples"] = samples;
      details["samples_passed"] = correct;
      std::vector<std::string> failed;
      for (size_t i = 0; i < suite.items.size(); ++i)
        if (pred_of[i] && std::find(passed[i].begin(), passed[i].end(), 1) == passed[i].end())
          failed.push_back(suite.items[i].id);
      details["problems_never_passed"] = failed.size();
      break;
    }
  }
  details["predictions"] = pred_info;
  res.details = std::move(details);
  return res;
}

std::vector<int32_t> item_prompt_tokens(const ChatTokenizer& tok, const Suite& suite, const SuiteItem& item) {
  if (suite.chat_template) {
    std::vector<int32_t> ids = tok.encode_generation_prompt({Message{"user", rstrip(item.prompt)}});
    auto pre = tok.encode(item.answer_prefix);
    ids.insert(ids.end(), pre.begin(), pre.end());
    return ids;
  }
  return tok.encode_text_prompt(item.prompt + item.answer_prefix);
}

SuiteResult evaluate_suite(DecoderModel& model, const ChatTokenizer& tok, const Suite& suite, const EvalConfig& cfg,
                           Ledger& ledger, torch::Device device, uint64_t seed,
                           std::vector<Prediction>* predictions_out) {
  auto phase = ledger.scope(Phase::evaluation);
  // The items of this run (all, or a spread subset for a smoke run).
  Suite run = suite;
  run.items.clear();
  const auto idx = limited_item_indices(suite.items.size(), cfg.limit);
  for (size_t i : idx) run.items.push_back(suite.items[i]);
  std::vector<std::string> extra_warnings;
  if (run.items.size() < suite.items.size())
    extra_warnings.push_back("PARTIAL RUN: " + std::to_string(run.items.size()) + " of " +
                             std::to_string(suite.items.size()) +
                             " items (eval.limit); not comparable with full-suite numbers");
  if (cfg.max_new_tokens > 0) run.generation.max_new_tokens = cfg.max_new_tokens;
  if (run.kind == SuiteKind::code) {
    if (cfg.code_samples > 0) run.samples_per_item = cfg.code_samples;
    if (cfg.code_temperature >= 0) run.generation.temperature = cfg.code_temperature;
    if (!cfg.pass_ks.empty()) run.pass_ks = cfg.pass_ks;
  }

  std::vector<Prediction> preds(run.items.size());
  for (size_t i = 0; i < run.items.size(); ++i) preds[i].id = run.items[i].id;
  torch::NoGradGuard no_grad;

  if (run.kind == SuiteKind::multiple_choice) {
    std::vector<std::pair<std::vector<int32_t>, std::vector<int32_t>>> pairs;
    for (const auto& it : run.items) {
      auto ctx = item_prompt_tokens(tok, run, it);
      for (const auto& c : it.choices) pairs.emplace_back(ctx, tok.encode(c));
    }
    auto lps = continuation_logprobs(model, pairs, device, cfg.max_batch_tokens, &ledger, Phase::evaluation);
    size_t k = 0;
    for (size_t i = 0; i < run.items.size(); ++i) {
      const auto& it = run.items[i];
      int best = -1;
      double best_lp = 0;
      for (size_t c = 0; c < it.choices.size(); ++c, ++k)
        if (best < 0 || lps[k] > best_lp) {
          best = static_cast<int>(c);
          best_lp = lps[k];
        }
      preds[i].choice = best;
      if (best >= 0) preds[i].outputs = {std::string(1, char('A' + best))};
    }
  } else {
    const bool code = run.kind == SuiteKind::code;
    int n = code ? std::max(1, run.samples_per_item) : 1;
    const bool greedy = run.generation.temperature <= 0;
    int generated_per_item = (code && greedy) ? 1 : n;  // greedy samples are identical: generate once
    if (code && greedy && n > 1)
      extra_warnings.push_back("greedy decoding with n = " + std::to_string(n) +
                               ": all samples are the same generation, so pass@k equals pass@1");
    std::vector<GenerationRequest> reqs;
    for (const auto& it : run.items) {
      auto prompt = item_prompt_tokens(tok, run, it);
      for (int s = 0; s < generated_per_item; ++s) {
        GenerationRequest r;
        r.prompt = prompt;
        r.options = run.generation;
        r.options.seed = Rng::derive(seed, run.name + "/" + it.id + "/" + std::to_string(s)).next_u64();
        reqs.push_back(std::move(r));
      }
    }
    auto texts = generate(model, tok, reqs, device, cfg.generation_batch_size, &ledger, Phase::evaluation);
    size_t k = 0;
    for (size_t i = 0; i < run.items.size(); ++i) {
      for (int s = 0; s < generated_per_item; ++s) preds[i].outputs.push_back(texts[k++]);
      while (static_cast<int>(preds[i].outputs.size()) < n) preds[i].outputs.push_back(preds[i].outputs.front());
    }
  }
  SuiteResult res = score_predictions(run, preds);
  res.warnings.insert(res.warnings.begin(), extra_warnings.begin(), extra_warnings.end());
  res.details["items_in_suite"] = suite.items.size();
  res.details["items_evaluated"] = run.items.size();
  res.details["seed"] = seed;
  if (predictions_out) *predictions_out = std::move(preds);
  return res;
}

// ---------------------------------------------------------------- real suites from files

namespace {
std::string resolve(const std::string& path, const std::string& sub) {
  if (fs::is_directory(path) && fs::exists(fs::path(path) / sub)) return (fs::path(path) / sub).string();
  return path;
}
}  // namespace

Suite load_real_suite(const std::string& name, const std::string& data_path, const EvalConfig& cfg,
                      std::shared_ptr<Sandbox> sandbox, const LoadOptions& opt) {
  if (name == "mmlu") {
    return build_mmlu_suite(load_mmlu(resolve(data_path, "mmlu"), opt), cfg.prompts);
  }
  if (name == "gsm8k") {
    std::string p = resolve(data_path, "gsm8k");
    if (fs::is_directory(p)) p = (fs::path(p) / "test.jsonl").string();
    return build_gsm8k_suite(load_gsm8k(p, opt), cfg.prompts);
  }
  if (name == "humaneval") {
    std::string p = resolve(data_path, "humaneval");
    if (fs::is_directory(p)) {
      if (fs::exists(fs::path(p) / "HumanEval.jsonl.gz")) p = (fs::path(p) / "HumanEval.jsonl.gz").string();
      else p = (fs::path(p) / "HumanEval.jsonl").string();
    }
    if (!sandbox) throw std::invalid_argument("load_real_suite: humaneval needs a sandbox");
    return build_humaneval_suite(load_humaneval(p, opt), cfg.prompts, humaneval_checker(sandbox),
                                 std::max(1, sandbox->config().workers));
  }
  if (name == "tydiqa") {
    return build_tydiqa_suite(load_tydiqa(resolve(data_path, "tydiqa"), opt), cfg.prompts);
  }
  throw InputError("unknown suite '" + name + "'; choose one of mmlu, gsm8k, humaneval, tydiqa");
}

CodeChecker humaneval_checker(std::shared_ptr<Sandbox> sandbox) {
  return [sandbox](const SuiteItem& item, const std::string& completion) {
    return sandbox->run_python_to_end(humaneval_program(item, completion)).passed;
  };
}

void validate_eval_config(const EvalConfig& cfg, const std::string& key_prefix, const std::string& source,
                          const ConfigSources* sources) {
  validate_sandbox_config(cfg.sandbox, key_prefix + "sandbox.", source, sources);
  auto fail = [&](const std::string& key, const std::string& what) {
    throw_config_key_error(key_prefix + key, what, source, sources);
  };
  auto check_ks = [&](const std::string& key, const std::vector<int>& ks) {
    std::set<int> seen;
    for (int k : ks) {
      if (k < 1) fail(key, "entry " + std::to_string(k) + " must be >= 1 (pass@k needs at least one sample)");
      if (!seen.insert(k).second) fail(key, "lists " + std::to_string(k) + " twice");
    }
  };
  if (cfg.code_samples < 0)
    fail("code_samples", "must be >= 0 (0 keeps the suite's samples per problem), got " + std::to_string(cfg.code_samples));
  check_ks("pass_ks", cfg.pass_ks);
  if (cfg.code_samples > 0)
    for (int k : cfg.pass_ks)
      if (k > cfg.code_samples)
        fail("pass_ks", "entry " + std::to_string(k) + " needs at least " + std::to_string(k) +
                            " samples per problem, but code_samples is " + std::to_string(cfg.code_samples) +
                            "; raise code_samples or lower the k");
  if (cfg.prompts.humaneval_ks.empty()) fail("prompts.humaneval_ks", "must name at least one k");
  check_ks("prompts.humaneval_ks", cfg.prompts.humaneval_ks);
}

// ---------------------------------------------------------------- table

std::string format_results_table(const std::vector<SuiteResult>& results) {
  std::ostringstream os;
  char line[512];
  std::snprintf(line, sizeof line, "%-26s %-36s %-12s %8s %7s %7s\n", "suite", "version", "metric", "value", "+-SE",
                "n");
  os << line;
  auto row = [&](const std::string& name, const std::string& version, const std::string& metric, const Score& s) {
    std::snprintf(line, sizeof line, "%-26s %-36s %-12s %8.2f %7.2f %7lld\n", name.c_str(), version.c_str(),
                  metric.c_str(), s.value, s.stderr_, static_cast<long long>(s.n));
    os << line;
  };
  auto from_json = [](const nlohmann::json& j) {
    Score s;
    s.value = j.value("value", 0.0);
    s.stderr_ = j.value("stderr", 0.0);
    s.n = j.value("n", int64_t(0));
    return s;
  };
  for (const auto& r : results) {
    row(r.suite, r.version, r.metric, r.headline);
    const auto& d = r.details;
    if (!d.is_object()) continue;
    // Categories when present (MMLU: 57 subjects are too many for the table; the JSON has them),
    // else groups when there are few of them (TyDiQA languages).
    if (d.contains("categories")) {
      for (auto it = d["categories"].begin(); it != d["categories"].end(); ++it)
        row("  " + it.key(), "", r.metric, from_json(it.value()));
      if (d.contains("macro_over_groups")) row("  (macro over groups)", "", r.metric, from_json(d["macro_over_groups"]));
    } else if (d.contains("groups") && d["groups"].size() <= 16) {
      for (auto it = d["groups"].begin(); it != d["groups"].end(); ++it)
        row("  " + it.key(), "", r.metric, from_json(it.value()));
    }
    if (d.contains("exact_match") && d["exact_match"].is_object()) row("  exact_match", "", "exact_match", from_json(d["exact_match"]));
    if (d.contains("pass_at_k"))
      for (auto it = d["pass_at_k"].begin(); it != d["pass_at_k"].end(); ++it)
        if (it.key() != r.metric) row("  " + it.key(), "", it.key(), from_json(it.value()));
    if (d.contains("aggregation")) os << "  note: " << d["aggregation"].get<std::string>() << "\n";
  }
  for (const auto& r : results)
    for (const auto& w : r.warnings) os << "WARNING [" << r.suite << "]: " << w << "\n";
  return os.str();
}

}  // namespace lb
