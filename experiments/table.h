// Leaderboards from a results folder: Markdown, CSV and LaTeX tables of per-suite scores and their
// average (mean ± 95 % interval over seeds), the gap to the best other selector with a paired
// t-test across seeds, the data fraction; and the cost tables (wall time and tokens by phase,
// LEAD's speedup over each selector). Every table is stamped with command, git sha, machine, date:
// in the Markdown and LaTeX themselves, for the CSVs in a `<name>.csv.meta.json` beside each.
#pragma once

#include "experiments/record.h"

#include <string>
#include <vector>

namespace lb {

// A CSV field, quoted (RFC 4180) when it holds a comma, a quote or a newline.
std::string csv_escape(const std::string& s);

struct TableStamp {
  std::string command;
  std::string git_sha;
  std::string machine;
  std::string date;
};

struct TableOptions {
  std::string reference = "lead";  // the row speedups are relative to (by name, else by selector)
  double level = 0.95;             // interval level
};

// One row: runs with the same name, budget, pool size and config apart from the seed.
struct TableRow {
  std::string label;  // name, disambiguated with the config hash when two configs share a name
  std::string name, selector;
  double budget_fraction = 0;
  int64_t pool_size = 0;
  std::string config_key;             // hash of the config without its seed
  std::vector<const RunRecord*> runs;  // sorted by seed
};

struct Tables {
  std::string markdown;       // leaderboard + cost + tokens + problems
  std::string leaderboard_csv;
  std::string cost_csv;
  std::string latex;          // leaderboard and cost tables (booktabs)
  // The CSVs hold only their header and rows; these sidecars (`<name>.csv.meta.json`) say where
  // they come from: command, git sha, machine, date and what the rows are.
  std::string leaderboard_csv_meta, cost_csv_meta;
};

// The sidecar JSON of a generated CSV: {file, command, git_sha, machine, date, description}.
std::string csv_provenance_json(const TableStamp& stamp, const std::string& csv_file, const std::string& description);

// Writes leaderboard.md, leaderboard.csv and cost.csv (each CSV with its .meta.json) and
// leaderboard.tex into out_dir, each atomically.
void write_tables(const std::string& out_dir, const Tables& t);

// Groups records into rows, sorted by pool size, budget, then mean average score (best first).
std::vector<TableRow> group_rows(const std::vector<RunRecord>& records);

Tables make_tables(const std::vector<RunRecord>& records, const std::vector<std::string>& problems,
                   const TableStamp& stamp, const TableOptions& options = {});

// Paired t-tests of the row names[0] against each of names[1..] (a row's label, or its name when
// that is unambiguous), over the seeds both ran, one line per pair, pool size and budget
// (budget_fraction < 0: every budget). UsageError with fewer than two names.
std::string compare_rows(const std::vector<RunRecord>& records, const std::vector<std::string>& names,
                         double budget_fraction = -1);

// `leadbench table RESULTS_DIR [--out DIR] [--no-plots] [--compare A,B,... [--budget PERCENT]]`.
int cmd_table(const std::vector<std::string>& args);

}  // namespace lb
