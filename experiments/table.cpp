// Leaderboard and cost tables in Markdown, CSV and LaTeX; see table.h.
#include "experiments/table.h"

#include "core/config.h"
#include "core/device.h"
#include "core/json_io.h"
#include "core/progress.h"
#include "experiments/cli.h"
#include "experiments/experiment_config.h"
#include "experiments/plots.h"
#include "experiments/stats.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

namespace fs = std::filesystem;

namespace lb {

namespace {

const std::vector<std::string> kCostPhases = {"offline_training", "offline_inference", "selection",
                                              "selection_inference", "training", "evaluation"};

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof(b), f, v);
  return b;
}

std::string fmt_score(double v) { return std::isfinite(v) ? fmt("%.1f", v) : "n/a"; }

std::string fmt_pm(const MeanInterval& m) {
  if (!std::isfinite(m.half_width)) return fmt_score(m.mean);
  return fmt_score(m.mean) + " ± " + fmt("%.1f", m.half_width);
}

std::string fmt_signed(double v) { return std::isfinite(v) ? fmt("%+.1f", v) : "n/a"; }

std::string fmt_p(double p) {
  if (!std::isfinite(p)) return "n/a";
  if (p < 0.001) return "<0.001";
  return fmt("%.3f", p);
}

std::string fmt_seconds(double s) {
  if (!std::isfinite(s)) return "n/a";
  if (s < 10) return fmt("%.2f", s);
  if (s < 100) return fmt("%.1f", s);
  return fmt("%.0f", s);
}

std::string fmt_tokens(double t) {
  if (!std::isfinite(t)) return "n/a";
  if (t < 1e4) return fmt("%.0f", t);
  if (t < 1e6) return fmt("%.1fk", t / 1e3);
  if (t < 1e9) return fmt("%.2fM", t / 1e6);
  return fmt("%.2fG", t / 1e9);
}

std::string fmt_speedup(double x) { return std::isfinite(x) ? fmt("%.2f×", x) : "—"; }

std::string fmt_percent(double fraction) {
  double p = fraction * 100;
  if (p >= 10) return fmt("%.0f %%", p);
  return fmt("%.3g %%", p);
}

std::string latex_escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '_': o += "\\_"; break;
      case '%': o += "\\%"; break;
      case '&': o += "\\&"; break;
      case '#': o += "\\#"; break;
      case '$': o += "\\$"; break;
      default: o += c;
    }
  }
  return o;
}

std::string latex_text(std::string s) {
  // ± and × in math mode; then escape the rest.
  std::string out;
  s = latex_escape(s);
  for (size_t i = 0; i < s.size();) {
    if (s.compare(i, 2, "±") == 0) {
      out += "$\\pm$";
      i += 2;
    } else if (s.compare(i, 2, "×") == 0) {
      out += "$\\times$";
      i += 2;
    } else if (s.compare(i, 3, "—") == 0) {
      out += "--";
      i += 3;
    } else if (s.compare(i, 2, "†") == 0 || s.compare(i, 3, "†") == 0) {
      out += "$^\\dagger$";
      i += 3;
    } else if (s.compare(i, 3, "‡") == 0) {
      out += "$^\\ddagger$";
      i += 3;
    } else {
      out += s[i++];
    }
  }
  return out;
}

// Per-row statistics computed once and used by every format.
struct RowStats {
  std::vector<MeanInterval> suites;  // parallel to the table's suite list (n = 0 when missing)
  MeanInterval average;
  bool single_seed = false;
  double data_fraction = 0;
  std::map<uint64_t, double> average_by_seed;
  // Gap to the best other row of the block.
  std::string best_other;
  double gap = std::nan("");
  PairedTest test;
  // Cost, means over seeds.
  std::map<std::string, double> seconds, tokens;
  double selection_cost = 0;
  double speedup = std::nan("");  // this row's selection cost / reference's
  // The fair-training rule (paper/FAIRNESS.md), over the row's runs that record their counts.
  int fair_known = 0, fair_outside = 0;
  double steps = 0, reference_steps = 0, passes = 0, reference_passes = 0;  // means over those runs
};

struct Block {
  int64_t pool_size;
  double budget_fraction;
  std::vector<size_t> rows;  // indices into the row list
};

std::string block_title(const Block& b) {
  return "pool " + std::to_string(b.pool_size) + " · budget " + fmt_percent(b.budget_fraction);
}

}  // namespace

std::string csv_escape(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string o = "\"";
  for (char c : s) {
    if (c == '"') o += '"';
    o += c;
  }
  return o + "\"";
}

std::vector<TableRow> group_rows(const std::vector<RunRecord>& records) {
  std::map<std::tuple<int64_t, double, std::string, std::string>, TableRow> groups;
  for (const auto& r : records) {
    // Records written before a knob existed group with new ones that leave it neutral.
    nlohmann::json cfg = experiment_hash_view(r.raw.at("config"));
    cfg.erase("seed");
    // A replay's list names its own seed's source record, so it differs per seed by design.
    if (cfg.contains("selection") && cfg["selection"].is_object()) cfg["selection"].erase("fixed_ids_from");
    std::string key = config_hash(cfg);
    auto& g = groups[{r.pool_size, r.budget_fraction, r.name, key}];
    g.name = r.name;
    g.selector = r.selector;
    g.budget_fraction = r.budget_fraction;
    g.pool_size = r.pool_size;
    g.config_key = key;
    g.runs.push_back(&r);
  }
  std::vector<TableRow> rows;
  std::map<std::tuple<int64_t, double, std::string>, int> name_count;
  for (auto& [k, g] : groups) {
    std::sort(g.runs.begin(), g.runs.end(), [](const RunRecord* a, const RunRecord* b) {
      return a->seed != b->seed ? a->seed < b->seed : a->file < b->file;
    });
    ++name_count[{g.pool_size, g.budget_fraction, g.name}];
    rows.push_back(g);
  }
  for (auto& g : rows) {
    g.label = g.name;
    if (name_count[{g.pool_size, g.budget_fraction, g.name}] > 1) g.label += " [" + g.config_key.substr(0, 8) + "]";
  }
  auto mean_avg = [](const TableRow& g) {
    double s = 0;
    for (auto* r : g.runs) s += r->average;
    return s / g.runs.size();
  };
  std::stable_sort(rows.begin(), rows.end(), [&](const TableRow& a, const TableRow& b) {
    if (a.pool_size != b.pool_size) return a.pool_size < b.pool_size;
    if (a.budget_fraction != b.budget_fraction) return a.budget_fraction < b.budget_fraction;
    double ma = mean_avg(a), mb = mean_avg(b);
    if (ma != mb) return ma > mb;
    return a.label < b.label;
  });
  return rows;
}

Tables make_tables(const std::vector<RunRecord>& records, const std::vector<std::string>& problems,
                   const TableStamp& stamp, const TableOptions& options) {
  std::vector<TableRow> rows = group_rows(records);

  // The union of suites, in order of first appearance; versions seen per suite.
  std::vector<std::string> suites;
  std::map<std::string, std::set<std::string>> versions, metrics;
  for (const auto& row : rows)
    for (auto* r : row.runs)
      for (const auto& s : r->suites) {
        if (std::find(suites.begin(), suites.end(), s.suite) == suites.end()) suites.push_back(s.suite);
        versions[s.suite].insert(s.version);
        metrics[s.suite].insert(s.metric);
      }

  // Blocks of rows compared with each other.
  std::vector<Block> blocks;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (blocks.empty() || blocks.back().pool_size != rows[i].pool_size ||
        blocks.back().budget_fraction != rows[i].budget_fraction)
      blocks.push_back({rows[i].pool_size, rows[i].budget_fraction, {}});
    blocks.back().rows.push_back(i);
  }

  std::vector<RowStats> st(rows.size());
  bool any_single = false, any_multi = false;
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& row = rows[i];
    auto& s = st[i];
    s.single_seed = row.runs.size() == 1;
    (s.single_seed ? any_single : any_multi) = true;
    for (const auto& name : suites) {
      std::vector<double> vals;
      const SuiteScore* only = nullptr;
      for (auto* r : row.runs)
        for (const auto& sc : r->suites)
          if (sc.suite == name) {
            vals.push_back(sc.value);
            only = &sc;
          }
      if (vals.empty()) {
        MeanInterval m;
        m.mean = std::nan("");
        m.half_width = std::nan("");
        s.suites.push_back(m);
      } else if (vals.size() == 1 && only) {
        s.suites.push_back(interval_from_stderr(only->value, only->stderr_, options.level));
      } else {
        s.suites.push_back(interval_over_seeds(vals, options.level));
      }
    }
    std::vector<double> avgs;
    double df = 0;
    for (auto* r : row.runs) {
      avgs.push_back(r->average);
      s.average_by_seed[r->seed] = r->average;
      df += r->data_fraction;
    }
    s.data_fraction = df / row.runs.size();
    s.average = s.single_seed ? interval_from_stderr(row.runs[0]->average, row.runs[0]->average_stderr, options.level)
                              : interval_over_seeds(avgs, options.level);
    for (const auto& ph : kCostPhases) {
      double sec = 0, tok = 0;
      for (auto* r : row.runs) {
        auto it = r->phases.find(ph);
        if (it == r->phases.end()) continue;
        sec += it->second.seconds;
        tok += static_cast<double>(it->second.forward_tokens + it->second.backward_tokens);
      }
      s.seconds[ph] = sec / row.runs.size();
      s.tokens[ph] = tok / row.runs.size();
    }
    double c = 0;
    for (auto* r : row.runs) c += r->selection_cost_seconds;
    s.selection_cost = c / row.runs.size();
    for (auto* r : row.runs) {
      const TrainingFairness f = training_fairness_of_record(r->raw);
      if (!f.known) continue;
      ++s.fair_known;
      s.fair_outside += f.within_10pct ? 0 : 1;
      s.steps += static_cast<double>(f.optimizer_steps);
      s.reference_steps += static_cast<double>(f.reference_steps);
      s.passes += static_cast<double>(f.sample_passes);
      s.reference_passes += static_cast<double>(f.reference_passes);
    }
    if (s.fair_known > 0)
      for (double* v : {&s.steps, &s.reference_steps, &s.passes, &s.reference_passes}) *v /= s.fair_known;
  }

  // Gaps, paired tests and speedups within each block.
  for (const auto& b : blocks) {
    long ref = -1;
    for (size_t i : b.rows)
      if (rows[i].name == options.reference) { ref = static_cast<long>(i); break; }
    if (ref < 0)
      for (size_t i : b.rows)
        if (rows[i].selector == options.reference) { ref = static_cast<long>(i); break; }
    for (size_t i : b.rows) {
      long best = -1;
      for (size_t j : b.rows) {
        if (j == i) continue;
        if (best < 0 || st[j].average.mean > st[static_cast<size_t>(best)].average.mean) best = static_cast<long>(j);
      }
      if (best >= 0) {
        auto& o = st[static_cast<size_t>(best)];
        st[i].best_other = rows[static_cast<size_t>(best)].label;
        st[i].gap = st[i].average.mean - o.average.mean;
        std::vector<double> a, c;
        for (const auto& [seed, v] : st[i].average_by_seed) {
          auto it = o.average_by_seed.find(seed);
          if (it == o.average_by_seed.end()) continue;
          a.push_back(v);
          c.push_back(it->second);
        }
        st[i].test = paired_t_test(a, c);
      }
      if (ref >= 0 && st[static_cast<size_t>(ref)].selection_cost > 0)
        st[i].speedup = st[i].selection_cost / st[static_cast<size_t>(ref)].selection_cost;
    }
  }

  // Notes shared by the formats.
  std::vector<std::string> notes;
  notes.push_back("Scores in % (higher is better); `average` is the unweighted mean of the suite scores.");
  if (any_multi)
    notes.push_back("± is the half-width of the " + fmt("%.0f", options.level * 100) +
                    " % interval of the mean over seeds (Student t, n−1 degrees of freedom; Boost.Math quantiles).");
  if (any_single)
    notes.push_back("† one seed: ± is z·(standard error of that run's score) with z = " +
                    fmt("%.3f", normal_quantile(0.5 + options.level / 2)) +
                    "; for `average`, the standard error is sqrt(Σ se²)/k over the k suites. This is item "
                    "sampling noise only, not seed-to-seed variation.");
  notes.push_back("`gap` is this row's average minus that of the best other row at the same pool and budget; "
                  "`p` is a two-sided paired t-test of the averages across the seeds both rows share (n/a with fewer than 2).");
  notes.push_back("`data` is the fraction of the pool trained (unique samples), mean over seeds.");
  for (size_t i = 0; i < rows.size(); ++i)
    if (st[i].fair_outside > 0)
      notes.push_back("‡ " + rows[i].label + " (pool " + std::to_string(rows[i].pool_size) + "): " +
                      std::to_string(st[i].fair_outside) + " of " + std::to_string(st[i].fair_known) +
                      " runs trained outside the fair-training rule (paper/FAIRNESS.md): " + fmt("%.0f", st[i].steps) +
                      " optimizer steps against the static protocol's " + fmt("%.0f", st[i].reference_steps) + ", " +
                      fmt("%.0f", st[i].passes) + " sample passes against " + fmt("%.0f", st[i].reference_passes) +
                      " (means over those runs); its score mixes which samples with how they were trained.");
  {
    std::string m = "Suites: ";
    bool first = true;
    for (const auto& name : suites) {
      std::string vs, ms;
      for (const auto& v : versions[name]) vs += (vs.empty() ? "" : "/") + v;
      for (const auto& v : metrics[name]) ms += (ms.empty() ? "" : "/") + v;
      m += (first ? "" : "; ") + name + " = " + ms + " (version " + vs + ")";
      first = false;
    }
    notes.push_back(m + ".");
    for (const auto& name : suites)
      if (versions[name].size() > 1)
        notes.push_back("WARNING: suite " + name + " was scored with different prompt versions across runs.");
  }
  std::set<std::string> shas, devices;
  for (const auto& r : records) {
    shas.insert(r.git_sha);
    devices.insert(r.device);
  }
  {
    std::string a, d;
    for (const auto& s : shas) a += (a.empty() ? "" : ", ") + s;
    for (const auto& s : devices) d += (d.empty() ? "" : "; ") + s;
    notes.push_back("Runs: " + std::to_string(records.size()) + " records; git sha of the runs: " + (a.empty() ? "none" : a) +
                    "; devices: " + (d.empty() ? "none" : d) + ".");
    if (shas.size() > 1) notes.push_back("WARNING: the runs come from different code versions.");
  }
  std::vector<std::string> cost_notes = {
      "Wall seconds by phase, mean over seeds. `selection cost` is every phase but evaluation: the cost the paper compares.",
      std::string("`speedup` is this row's selection cost divided by that of `") + options.reference +
          "` at the same pool and budget (> 1: " + options.reference + " is that many times faster)."};
  {
    // Runs that reused LEAD's offline stage (core/result_cache.h) carry its measured cost, not the
    // time it took to load it: say so, so that nobody reads their wall time as the cost.
    int64_t reused = 0;
    for (const auto& r : records)
      if (r.raw.is_object() && r.raw.contains("reused") && r.raw["reused"].is_array() && !r.raw["reused"].empty()) ++reused;
    if (reused > 0)
      cost_notes.push_back(std::to_string(reused) + " of the runs reused an offline stage computed by an earlier run with the "
                           "same content key (record field `reused`); their phases charge that stage at its measured cost.");
  }

  std::string stamp_line = "Generated by `" + stamp.command + "` · git " + stamp.git_sha + " · " + stamp.machine + " · " +
                           stamp.date;

  // ---------------- Markdown ----------------
  std::ostringstream md;
  md << "# Leaderboard\n\n" << stamp_line << "\n\n";
  if (rows.empty()) md << "No complete run records.\n\n";
  for (const auto& b : blocks) {
    md << "## " << block_title(b) << "\n\n| selector | data | seeds |";
    for (const auto& s : suites) md << ' ' << s << " |";
    md << " average | gap to best other | p |\n|---|---:|---:|";
    for (size_t k = 0; k < suites.size(); ++k) md << "---:|";
    md << "---:|---|---:|\n";
    for (size_t i : b.rows) {
      const auto& s = st[i];
      std::string mark = s.single_seed ? " †" : "";
      md << "| " << rows[i].label << " | " << fmt_percent(s.data_fraction) << " | " << rows[i].runs.size() << " |";
      for (const auto& m : s.suites) md << ' ' << fmt_pm(m) << (std::isfinite(m.mean) ? mark : "") << " |";
      md << " **" << fmt_pm(s.average) << "**" << mark << (s.fair_outside > 0 ? " ‡" : "") << " | ";
      if (s.best_other.empty())
        md << "— | — |\n";
      else
        md << fmt_signed(s.gap) << " vs " << s.best_other << " | " << fmt_p(s.test.p_value) << " |\n";
    }
    md << "\n";
  }
  for (const auto& n : notes) md << "- " << n << "\n";
  md << "\n# Cost\n\n" << stamp_line << "\n\n";
  for (const auto& b : blocks) {
    md << "## " << block_title(b) << " — wall seconds\n\n| selector |";
    for (const auto& ph : kCostPhases) md << ' ' << ph << " |";
    md << " selection cost | speedup of " << options.reference << " |\n|---|";
    for (size_t k = 0; k < kCostPhases.size(); ++k) md << "---:|";
    md << "---:|---:|\n";
    for (size_t i : b.rows) {
      md << "| " << rows[i].label << " |";
      for (const auto& ph : kCostPhases) md << ' ' << fmt_seconds(st[i].seconds[ph]) << " |";
      md << ' ' << fmt_seconds(st[i].selection_cost) << " | " << fmt_speedup(st[i].speedup) << " |\n";
    }
    md << "\n## " << block_title(b) << " — tokens (forward + backward)\n\n| selector |";
    for (const auto& ph : kCostPhases) md << ' ' << ph << " |";
    md << "\n|---|";
    for (size_t k = 0; k < kCostPhases.size(); ++k) md << "---:|";
    md << "\n";
    for (size_t i : b.rows) {
      md << "| " << rows[i].label << " |";
      for (const auto& ph : kCostPhases) md << ' ' << fmt_tokens(st[i].tokens[ph]) << " |";
      md << "\n";
    }
    md << "\n";
  }
  for (const auto& n : cost_notes) md << "- " << n << "\n";
  if (!problems.empty()) {
    md << "\n# Problems\n\nThese files are not usable run records and are left out of the tables above:\n\n";
    for (const auto& p : problems) md << "- " << p << "\n";
  }

  // ---------------- CSV ----------------
  std::ostringstream lc, cc;
  // The CSVs start with their header row (a comment line is a row to most CSV readers); where they
  // come from is in their .meta.json sidecars.
  lc << "pool_size,budget_fraction,name,selector,seeds,data_fraction";
  for (const auto& s : suites) lc << ',' << s << "_mean," << s << "_ci95";
  lc << ",average_mean,average_ci95,interval,best_other,gap,p_value\n";
  cc << "pool_size,budget_fraction,name,selector,seeds";
  for (const auto& ph : kCostPhases) cc << ',' << ph << "_seconds";
  cc << ",selection_cost_seconds";
  for (const auto& ph : kCostPhases) cc << ',' << ph << "_tokens";
  cc << ",speedup_of_" << options.reference << "\n";
  auto num = [](double v, const char* f = "%.6g") { return std::isfinite(v) ? fmt(f, v) : std::string(); };
  for (const auto& b : blocks)
    for (size_t i : b.rows) {
      const auto& s = st[i];
      lc << b.pool_size << ',' << num(b.budget_fraction) << ',' << csv_escape(rows[i].label) << ','
         << csv_escape(rows[i].selector) << ',' << rows[i].runs.size() << ',' << num(s.data_fraction);
      for (const auto& m : s.suites) lc << ',' << num(m.mean) << ',' << num(m.half_width);
      lc << ',' << num(s.average.mean) << ',' << num(s.average.half_width) << ','
         << (s.single_seed ? "normal_from_stderr" : "t_over_seeds") << ',' << csv_escape(s.best_other) << ','
         << num(s.gap) << ',' << num(s.test.p_value) << "\n";
      cc << b.pool_size << ',' << num(b.budget_fraction) << ',' << csv_escape(rows[i].label) << ','
         << csv_escape(rows[i].selector) << ',' << rows[i].runs.size();
      for (const auto& ph : kCostPhases) cc << ',' << num(s.seconds.at(ph));
      cc << ',' << num(s.selection_cost);
      for (const auto& ph : kCostPhases) cc << ',' << num(s.tokens.at(ph), "%.0f");
      cc << ',' << num(s.speedup) << "\n";
    }

  // ---------------- LaTeX ----------------
  std::ostringstream tx;
  tx << "% " << stamp_line << "\n% needs \\usepackage{booktabs}\n";
  for (const auto& b : blocks) {
    tx << "\\begin{table}[t]\n\\centering\n\\caption{Leaderboard, " << latex_text(block_title(b)) << ".}\n";
    tx << "\\begin{tabular}{lrr" << std::string(suites.size() + 1, 'r') << "lr}\n\\toprule\n";
    tx << "selector & data & seeds";
    for (const auto& s : suites) tx << " & " << latex_escape(s);
    tx << " & average & gap to best other & $p$ \\\\\n\\midrule\n";
    for (size_t i : b.rows) {
      const auto& s = st[i];
      std::string mark = s.single_seed ? "†" : "";
      tx << latex_escape(rows[i].label) << " & " << latex_text(fmt_percent(s.data_fraction)) << " & "
         << rows[i].runs.size();
      for (const auto& m : s.suites) tx << " & " << latex_text(fmt_pm(m) + (std::isfinite(m.mean) ? mark : ""));
      tx << " & \\textbf{" << latex_text(fmt_pm(s.average)) << "}" << latex_text(mark + (s.fair_outside > 0 ? " ‡" : "")) << " & ";
      if (s.best_other.empty())
        tx << "-- & -- \\\\\n";
      else
        tx << latex_text(fmt_signed(s.gap) + " vs " + s.best_other) << " & " << latex_text(fmt_p(s.test.p_value))
           << " \\\\\n";
    }
    tx << "\\bottomrule\n\\end{tabular}\n\\end{table}\n\n";
    tx << "\\begin{table}[t]\n\\centering\n\\caption{Wall seconds by phase, " << latex_text(block_title(b))
       << ".}\n\\begin{tabular}{l" << std::string(kCostPhases.size() + 2, 'r') << "}\n\\toprule\nselector";
    for (const auto& ph : kCostPhases) tx << " & " << latex_escape(ph);
    tx << " & selection cost & speedup \\\\\n\\midrule\n";
    for (size_t i : b.rows) {
      tx << latex_escape(rows[i].label);
      for (const auto& ph : kCostPhases) tx << " & " << fmt_seconds(st[i].seconds[ph]);
      tx << " & " << fmt_seconds(st[i].selection_cost) << " & " << latex_text(fmt_speedup(st[i].speedup)) << " \\\\\n";
    }
    tx << "\\bottomrule\n\\end{tabular}\n\\end{table}\n\n";
  }
  for (const auto& n : notes) tx << "% " << n << "\n";
  for (const auto& n : cost_notes) tx << "% " << n << "\n";

  Tables t;
  t.markdown = md.str();
  t.leaderboard_csv = lc.str();
  t.cost_csv = cc.str();
  t.latex = tx.str();
  t.leaderboard_csv_meta = csv_provenance_json(
      stamp, "leaderboard.csv",
      "One row per selector, pool size and budget: each suite's mean and 95 % interval half-width (over "
      "seeds, or from the run's standard error for one seed: column `interval`), the average of the suites, "
      "the best other selector at that pool and budget, the gap to it and the paired t-test p-value.");
  t.cost_csv_meta = csv_provenance_json(
      stamp, "cost.csv",
      "One row per selector, pool size and budget: wall seconds and tokens (forward + backward) by phase, "
      "mean over seeds. selection_cost_seconds is every phase but evaluation; speedup_of_" + options.reference +
          " is this row's selection cost divided by that of " + options.reference + " at the same pool and budget.");
  return t;
}

std::string csv_provenance_json(const TableStamp& stamp, const std::string& csv_file, const std::string& description) {
  nlohmann::json j = {{"file", csv_file},       {"command", stamp.command}, {"git_sha", stamp.git_sha},
                      {"machine", stamp.machine}, {"date", stamp.date},       {"description", description}};
  return j.dump(2) + "\n";
}

void write_tables(const std::string& out_dir, const Tables& t) {
  const fs::path out(out_dir);
  write_file_atomic((out / "leaderboard.md").string(), t.markdown);
  write_file_atomic((out / "leaderboard.csv").string(), t.leaderboard_csv);
  write_file_atomic((out / "leaderboard.csv.meta.json").string(), t.leaderboard_csv_meta);
  write_file_atomic((out / "cost.csv").string(), t.cost_csv);
  write_file_atomic((out / "cost.csv.meta.json").string(), t.cost_csv_meta);
  write_file_atomic((out / "leaderboard.tex").string(), t.latex);
}

std::string compare_rows(const std::vector<RunRecord>& records, const std::vector<std::string>& names,
                         double budget_fraction) {
  if (names.size() < 2) throw UsageError("--compare needs a row and at least one other, e.g. --compare lead,random");
  const auto rows = group_rows(records);
  // Rows of one pool size and budget, by label; a name matches its label, or the one label it has.
  std::map<std::pair<int64_t, double>, std::vector<const TableRow*>> cells;
  for (const auto& r : rows)
    if (budget_fraction < 0 || std::fabs(r.budget_fraction - budget_fraction) < 1e-9)
      cells[{r.pool_size, r.budget_fraction}].push_back(&r);
  if (cells.empty()) return "no runs at budget " + fmt("%g", 100 * budget_fraction) + " %\n";
  std::string out;
  for (const auto& [cell, cell_rows] : cells) {
    const std::string where = "pool " + std::to_string(cell.first) + ", budget " + fmt("%g", 100 * cell.second) + " %";
    auto find = [&](const std::string& n) -> const TableRow* {
      const TableRow* hit = nullptr;
      for (const TableRow* r : cell_rows)
        if (r->label == n) return r;
      for (const TableRow* r : cell_rows)
        if (r->name == n) {
          if (hit) throw UsageError(where + ": '" + n + "' names several rows (configs differ); use a label from the leaderboard");
          hit = r;
        }
      return hit;
    };
    const TableRow* ref = find(names[0]);
    if (!ref) continue;
    // Per seed: the four-suite average (key "") and each suite's headline score.
    auto by_seed = [](const TableRow& r) {
      std::map<std::string, std::map<uint64_t, double>> m;
      for (const RunRecord* run : r.runs) {
        m[""][run->seed] = run->average;
        for (const SuiteScore& s : run->suites) m[s.suite][run->seed] = s.value;
      }
      return m;
    };
    const auto a = by_seed(*ref);
    // "d points (95 % CI lo to hi) over n seeds" of the paired differences a - b over the seeds both
    // ran, then (with a name) the same relative to b's mean over those seeds, the baseline's mean taken
    // as fixed (the interval of the difference divided by it), then the t-test. False: < 2 shared seeds.
    auto paired = [](const std::map<uint64_t, double>& ra, const std::map<uint64_t, double>& rb,
                     const std::string& relative_to, std::string* text) {
      std::vector<double> x, y;
      for (const auto& [seed, v] : rb) {
        auto it = ra.find(seed);
        if (it == ra.end()) continue;
        x.push_back(it->second);
        y.push_back(v);
      }
      if (x.size() < 2) return false;
      const PairedTest t = paired_t_test(x, y);
      const double half = t_quantile(0.975, t.df) * t.sd_diff / std::sqrt(static_cast<double>(t.n));
      *text = fmt("%+.2f", t.mean_diff) + " points (95 % CI " + fmt("%+.2f", t.mean_diff - half) + " to " +
              fmt("%+.2f", t.mean_diff + half) + ") over " + std::to_string(t.n) + " seeds";
      const double base = mean_of(y);
      if (!relative_to.empty() && base > 0)
        *text += ", " + fmt("%+.1f", 100 * t.mean_diff / base) + " % of " + relative_to + "'s " + fmt("%.2f", base) +
                 " (95 % CI " + fmt("%+.1f", 100 * (t.mean_diff - half) / base) + " to " +
                 fmt("%+.1f", 100 * (t.mean_diff + half) / base) + " %)";
      *text += t.sd_diff > 0 ? ", t = " + fmt("%.2f", t.t) + ", p = " + fmt("%.3f", t.p_value)
                             : " (the same difference on every seed)";
      return true;
    };
    for (size_t k = 1; k < names.size(); ++k) {
      const TableRow* other = find(names[k]);
      const std::string pair = ref->label + " - " + names[k];
      if (!other) {
        out += where + ": " + pair + ": no such row here\n";
        continue;
      }
      const auto b = by_seed(*other);
      std::string text;
      if (!paired(a.at(""), b.at(""), names[k], &text)) {
        out += where + ": " + pair + ": fewer than 2 shared seeds\n";
        continue;
      }
      out += where + ": " + pair + " = " + text + "\n";
      // Then per suite, in the reference row's suite order.
      for (const SuiteScore& s : ref->runs.front()->suites) {
        auto ia = a.find(s.suite);
        auto ib = b.find(s.suite);
        std::string suite_text;
        if (ia == a.end() || ib == b.end() || !paired(ia->second, ib->second, "", &suite_text)) continue;
        out += "  " + s.suite + ": " + suite_text + "\n";
      }
    }
  }
  return out.empty() ? "no row named '" + names[0] + "'" + (budget_fraction < 0 ? "" : " at that budget") + "\n" : out;
}

namespace {
const char* kTableUsage =
    "usage: leadbench table RESULTS_DIR [--out DIR] [--reference NAME] [--no-plots] [--strict]\n"
    "                       [--compare A,B,... [--budget PERCENT]] [--progress|--quiet]\n"
    "  Reads every run record (*.json) under RESULTS_DIR and writes leaderboard.md, leaderboard.csv,\n"
    "  cost.csv, leaderboard.tex and plots (gnuplot, SVG + PNG) into DIR (default: RESULTS_DIR/tables).\n"
    "  Prints the Markdown leaderboard. Files that are not usable records are named, not skipped\n"
    "  silently; --strict makes them an error (exit 1).\n"
    "  --reference NAME  the row speedups are relative to (default: lead)\n"
    "  --compare A,B,... row A against each other row, paired over the seeds both ran, at every pool\n"
    "                    size and budget (--budget PERCENT: one budget): the difference of the four-suite\n"
    "                    averages in points and relative to the other row, with 95 % t-intervals and a\n"
    "                    paired t-test, then each suite's; prints them and writes nothing\n";
}

int cmd_table(const std::vector<std::string>& args) {
  ParsedArgs p = parse_args(args, {"--out", "--reference", "--compare", "--budget"}, {"--no-plots", "--strict"});
  if (p.common.help) {
    std::cout << kTableUsage;
    return 0;
  }
  if (p.positional.size() != 1) throw UsageError(std::string("table needs one RESULTS_DIR\n") + kTableUsage);
  if (!p.overrides.empty()) throw UsageError("table takes no key=value overrides");
  if (p.has("--budget") && !p.has("--compare"))
    throw UsageError("--budget selects the budget of --compare; give --compare A,B,... too\n" + std::string(kTableUsage));
  std::string dir = p.positional[0];
  std::string out = p.value("--out", (fs::path(dir) / "tables").string());
  RecordScan scan = scan_results_dir(dir);
  if (p.has("--compare")) {
    std::vector<std::string> names;
    std::string all = p.value("--compare");
    for (size_t at = 0; at <= all.size();) {
      size_t comma = all.find(',', at);
      if (comma == std::string::npos) comma = all.size();
      if (comma > at) names.push_back(all.substr(at, comma - at));
      at = comma + 1;
    }
    double budget = -1;
    if (p.has("--budget")) {
      try {
        budget = std::stod(p.value("--budget")) / 100;
      } catch (const std::exception&) {
        throw UsageError("--budget needs a percentage, e.g. --budget 2.5");
      }
    }
    for (const auto& pr : scan.problems) log_line("problem: " + pr);
    std::cout << compare_rows(scan.records, names, budget);
    return scan.problems.empty() || !p.has("--strict") ? 0 : 1;
  }
  // The tables folder may sit inside `dir`: the scan passes over its files (CSV sidecars end in
  // .meta.json, and it holds no other JSON), so regenerating tables never reads old tables.
  TableStamp stamp{command_line(), build_git_sha(), machine_description(), utc_now_iso8601()};
  TableOptions opt;
  opt.reference = p.value("--reference", "lead");
  Tables t = make_tables(scan.records, scan.problems, stamp, opt);
  write_tables(out, t);
  std::cout << t.markdown;
  for (const auto& pr : scan.problems) log_line("problem: " + pr);
  if (!p.has("--no-plots")) {
    auto msgs = write_plots(scan.records, out, stamp);
    for (const auto& m : msgs) log_line(m);
  }
  log_line("tables written to " + out + " (leaderboard.md, leaderboard.csv, cost.csv, leaderboard.tex; the CSVs' "
           "provenance in <name>.csv.meta.json)");
  if (!scan.problems.empty()) {
    log_line(std::to_string(scan.problems.size()) + " file(s) in " + dir + " are not usable run records (listed above)");
    if (p.has("--strict")) return 1;
  }
  return 0;
}

}  // namespace lb
