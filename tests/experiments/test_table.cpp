// Leaderboard tables: output matches golden files for fixed records (stamp fixed), corrupt and
// partial result files are reported by name, and the grouping/gap/speedup logic on small cases.
#include "core/json_io.h"
#include "experiments/cli.h"
#include "experiments/plots.h"
#include "experiments/record.h"
#include "experiments/table.h"
#include "fake_records.h"

#include "test_dirs.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace fs = std::filesystem;

namespace {

using lbtest::fresh_dir;

// Three selectors: lead and random with 3 seeds, ifd with one seed (interval from standard errors).
void write_fixture(const fs::path& dir) {
  using lbtest::FakeRun;
  std::vector<std::vector<double>> lead = {{40, 30, 20, 50}, {42, 31, 22, 49}, {41, 29, 21, 52}};
  std::vector<std::vector<double>> rnd = {{35, 25, 18, 45}, {36, 27, 17, 44}, {34, 26, 19, 47}};
  for (uint64_t s = 0; s < 3; ++s) {
    FakeRun a;
    a.seed = s;
    a.scores = lead[s];
    a.stderrs = {3, 4, 4, 3};
    a.hash = "00000000000000a" + std::to_string(s);
    a.clusters = {0, 3, 3, 1, 6, 3};
    lb::write_json_atomic((dir / ("lead-s" + std::to_string(s) + ".json")).string(), lbtest::fake_record(a));
    FakeRun b;
    b.name = b.selector = "random";
    b.seed = s;
    b.scores = rnd[s];
    b.stderrs = {3, 4, 4, 3};
    b.offline_inference_seconds = 0;
    b.hash = "00000000000000b" + std::to_string(s);
    lb::write_json_atomic((dir / ("random-s" + std::to_string(s) + ".json")).string(), lbtest::fake_record(b));
  }
  FakeRun c;
  c.name = c.selector = "iterative_ifd";
  c.scores = {38, 28, 19, 46};
  c.stderrs = {3.2, 4.1, 3.9, 3.0};
  c.selection_inference_seconds = 88;
  c.hash = "00000000000000c0";
  lb::write_json_atomic((dir / "iterative_ifd-s0.json").string(), lbtest::fake_record(c));
}

std::string read(const fs::path& p) {
  std::ifstream f(p);
  return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

const lb::TableStamp kStamp{"leadbench table results/test", "0123456789ab", "testhost, 2 cores", "2026-11-28T21:00:00Z"};

}  // namespace

TEST_CASE("table output matches the golden files for fixed records") {
  fs::path dir = fresh_dir("golden");
  write_fixture(dir);
  auto scan = lb::scan_results_dir(dir.string());
  REQUIRE(scan.problems.empty());
  REQUIRE(scan.records.size() == 7);
  lb::Tables t = lb::make_tables(scan.records, scan.problems, kStamp);
  fs::path golden = fs::path(LEADBENCH_SOURCE_DIR) / "tests" / "experiments" / "golden";
  if (std::getenv("LEADBENCH_UPDATE_GOLDEN")) {
    lb::write_file_atomic((golden / "leaderboard.md").string(), t.markdown);
    lb::write_file_atomic((golden / "leaderboard.csv").string(), t.leaderboard_csv);
    lb::write_file_atomic((golden / "cost.csv").string(), t.cost_csv);
    lb::write_file_atomic((golden / "leaderboard.tex").string(), t.latex);
    lb::write_file_atomic((golden / "leaderboard.csv.meta.json").string(), t.leaderboard_csv_meta);
    lb::write_file_atomic((golden / "cost.csv.meta.json").string(), t.cost_csv_meta);
  }
  CHECK(t.markdown == read(golden / "leaderboard.md"));
  CHECK(t.leaderboard_csv == read(golden / "leaderboard.csv"));
  CHECK(t.cost_csv == read(golden / "cost.csv"));
  CHECK(t.latex == read(golden / "leaderboard.tex"));
  CHECK(t.leaderboard_csv_meta == read(golden / "leaderboard.csv.meta.json"));
  CHECK(t.cost_csv_meta == read(golden / "cost.csv.meta.json"));
  fs::remove_all(dir);
}

TEST_CASE("table CSVs start with their header row; provenance is in .meta.json sidecars") {
  fs::path dir = fresh_dir("csv_meta");
  write_fixture(dir);
  auto first_line = [](const std::string& text) { return text.substr(0, text.find('\n')); };
  lb::Tables t = lb::make_tables(lb::scan_results_dir(dir.string()).records, {}, kStamp);
  CHECK(first_line(t.leaderboard_csv).rfind("pool_size,budget_fraction,name,selector,", 0) == 0);
  CHECK(first_line(t.cost_csv).rfind("pool_size,budget_fraction,name,selector,", 0) == 0);
  // Every line of a CSV has the header's number of fields (none is a comment a reader takes for a row).
  for (const std::string* csv : {&t.leaderboard_csv, &t.cost_csv}) {
    const auto fields = [](const std::string& line) { return std::count(line.begin(), line.end(), ',') + 1; };
    std::istringstream in(*csv);
    std::string header, line;
    std::getline(in, header);
    while (std::getline(in, line)) {
      INFO(line);
      CHECK(line.rfind("#", 0) != 0);
      CHECK(fields(line) == fields(header));  // the fixture's labels hold no commas
    }
  }

  // `leadbench table` writes the sidecars, and does not take them for run records next time.
  REQUIRE(lb::cmd_table({dir.string(), "--no-plots"}) == 0);
  for (const char* name : {"leaderboard.csv", "cost.csv"}) {
    INFO(name);
    const fs::path meta = dir / "tables" / (std::string(name) + ".meta.json");
    REQUIRE(fs::exists(meta));
    nlohmann::json j = lb::read_json_file(meta.string());
    CHECK(j["file"] == name);
    CHECK(j["command"].is_string());  // the command line (not set when called in-process, as here)
    for (const char* key : {"git_sha", "machine", "date", "description"}) {
      INFO(key);
      REQUIRE(j.contains(key));
      CHECK(!j[key].get<std::string>().empty());
    }
    CHECK(read(dir / "tables" / name).rfind("pool_size,", 0) == 0);
  }
  auto again = lb::scan_results_dir(dir.string());
  for (const auto& p : again.problems) INFO(p);
  CHECK(again.problems.empty());
  CHECK(again.records.size() == 7);
  fs::remove_all(dir);
}

TEST_CASE("table: --budget without --compare is a usage error") {
  fs::path dir = fresh_dir("budget_alone");
  write_fixture(dir);
  CHECK_THROWS_AS(lb::cmd_table({dir.string(), "--budget", "2.5", "--no-plots"}), lb::UsageError);
  CHECK(!fs::exists(dir / "tables"));
  fs::remove_all(dir);
}

TEST_CASE("table numbers: interval over seeds and gap with paired test and speedup") {
  fs::path dir = fresh_dir("numbers");
  write_fixture(dir);
  auto scan = lb::scan_results_dir(dir.string());
  auto rows = lb::group_rows(scan.records);
  REQUIRE(rows.size() == 3);
  // Sorted by mean average, best first: lead (35.58), iterative_ifd (32.75), random (31.08).
  CHECK(rows[0].name == "lead");
  CHECK(rows[1].name == "iterative_ifd");
  CHECK(rows[2].name == "random");
  CHECK(rows[0].runs.size() == 3);
  lb::Tables t = lb::make_tables(scan.records, {}, kStamp);
  // lead's average per seed: 35, 36, 35.75 -> mean 35.583; t(0.975, 2) = 4.3027, sd = 0.5204 -> ± 1.29
  CHECK(t.markdown.find("| lead | 2.5 % | 3 |") != std::string::npos);
  CHECK(t.markdown.find("**35.6 ± 1.3**") != std::string::npos);
  // Best other for lead is iterative_ifd (one seed: paired test has 1 pair -> n/a).
  CHECK(t.markdown.find("+2.8 vs iterative_ifd | n/a |") != std::string::npos);
  // Random's best other is lead, paired over 3 seeds. Differences of averages: -4.25, -5, -4.25:
  // mean -4.5, sd 0.433, t = -18.0 with 2 df; p = 1 - |t|/sqrt(t^2 + 2) = 0.0031 (closed form for df 2).
  CHECK(t.markdown.find("-4.5 vs lead | 0.003 |") != std::string::npos);
  // Selection cost: lead 2 + 0.5 + 0 + 10 = 12.5; iterative_ifd 2 + 0.5 + 88 + 10 = 100.5 -> 8.04x.
  CHECK(t.markdown.find("8.04×") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("table --compare: paired t-test of any two rows over their shared seeds") {
  fs::path dir = fresh_dir("compare");
  write_fixture(dir);
  auto scan = lb::scan_results_dir(dir.string());
  // lead - random per seed: 4.25, 5, 4.25 -> +4.50, sd 0.433, t = 18.0, p = 1 - 18/sqrt(326) = 0.0031 (df 2);
  // 95 % CI 4.50 -+ t(0.975, 2) 4.3027 x 0.25 = 3.42 to 5.58; random's mean 31.083: +14.5 % (11.0 to 17.9).
  const std::string out = lb::compare_rows(scan.records, {"lead", "random", "iterative_ifd", "nope"});
  INFO(out);
  CHECK(out.find("pool 1000, budget 2.5 %: lead - random = +4.50 points (95 % CI +3.42 to +5.58) over 3 seeds, "
                 "+14.5 % of random's 31.08 (95 % CI +11.0 to +17.9 %), t = 18.00, p = 0.003\n") != std::string::npos);
  // Per suite: syn_mmlu 40, 42, 41 against 35, 36, 34 -> 5, 6, 7: mean 6, se 1/sqrt(3), CI 6 -+ 2.48,
  // t = 10.39, p = 1 - t/sqrt(t^2 + 2) = 0.009.
  CHECK(out.find("\n  syn_mmlu: +6.00 points (95 % CI +3.52 to +8.48) over 3 seeds, t = 10.39, p = 0.009\n") !=
        std::string::npos);
  // iterative_ifd ran one seed: no test, said so; an unknown row is named.
  CHECK(out.find("lead - iterative_ifd: fewer than 2 shared seeds") != std::string::npos);
  CHECK(out.find("lead - nope: no such row here") != std::string::npos);
  // Another budget holds no runs; fewer than two names is a usage error.
  CHECK(lb::compare_rows(scan.records, {"lead", "random"}, 0.5).find("no runs at budget 50 %") != std::string::npos);
  CHECK_THROWS_AS(lb::compare_rows(scan.records, {"lead"}), lb::UsageError);
  fs::remove_all(dir);
}

TEST_CASE("corrupt and partial result files are reported by name and not skipped silently") {
  fs::path dir = fresh_dir("corrupt");
  write_fixture(dir);
  { std::ofstream(dir / "broken.json") << "{\"format\": \"leadbench.run\", \"name\": "; }
  nlohmann::json incomplete = lbtest::fake_record([] {
    lbtest::FakeRun f;
    f.scores = {1, 2, 3, 4};
    f.stderrs = {1, 1, 1, 1};
    return f;
  }());
  incomplete.erase("phases");
  lb::write_json_atomic((dir / "incomplete.json").string(), incomplete);
  { std::ofstream(dir / "lead-s9.json.tmp.12345") << "{\"format\""; }
  auto scan = lb::scan_results_dir(dir.string());
  CHECK(scan.records.size() == 7);
  REQUIRE(scan.problems.size() == 3);
  std::string all;
  for (const auto& p : scan.problems) all += p + "\n";
  CHECK(all.find("broken.json") != std::string::npos);
  CHECK(all.find("incomplete.json") != std::string::npos);
  CHECK(all.find("missing field \"phases\"") != std::string::npos);
  CHECK(all.find("lead-s9.json.tmp.12345") != std::string::npos);
  CHECK(all.find("partial write") != std::string::npos);
  lb::Tables t = lb::make_tables(scan.records, scan.problems, kStamp);
  CHECK(t.markdown.find("# Problems") != std::string::npos);
  CHECK(t.markdown.find("broken.json") != std::string::npos);
  fs::remove_all(dir);
}

TEST_CASE("plots: bandit cluster choices are read from LEAD telemetry") {
  nlohmann::json tele = {{"rounds", {{{"round", 0}, {"cluster", 2}}, {{"round", 1}, {"cluster", 5}}}}};
  CHECK(lb::bandit_cluster_choices(tele) == std::vector<int>{2, 5});
  CHECK(lb::bandit_cluster_choices(nlohmann::json::object()).empty());
  fs::path dir = fresh_dir("plots");
  write_fixture(dir);
  auto scan = lb::scan_results_dir(dir.string());
  auto msgs = lb::write_plots(scan.records, (dir / "tables").string(), kStamp);
  REQUIRE(msgs.size() == 3);
  CHECK(msgs[0].find("skipped") != std::string::npos);  // one budget only
  CHECK(msgs[1].find("skipped") != std::string::npos);  // one pool size only
  CHECK(fs::exists(dir / "tables" / "bandit_clusters.gp"));
  CHECK(fs::exists(dir / "tables" / "bandit_clusters.dat"));
  if (lb::gnuplot_available()) {
    CHECK(fs::exists(dir / "tables" / "bandit_clusters.svg"));
    CHECK(fs::exists(dir / "tables" / "bandit_clusters.png"));
  }
  fs::remove_all(dir);
}

TEST_CASE("plots: cost vs pool fits a power law and extrapolates it to the paper's pool") {
  lb::PowerLaw f = lb::fit_power_law({{1000, 3 * std::pow(1000.0, 1.5)}, {4000, 3 * std::pow(4000.0, 1.5)},
                                      {16000, 3 * std::pow(16000.0, 1.5)}});
  REQUIRE(f.ok);
  CHECK(f.b == Approx(1.5));
  CHECK(f.a == Approx(3));
  CHECK(f.at(600000) == Approx(3 * std::pow(600000.0, 1.5)));
  CHECK_FALSE(lb::fit_power_law({{1000, 5}, {1000, 6}}).ok);  // one pool size
  CHECK_FALSE(lb::fit_power_law({{1000, 5}, {2000, 0}}).ok);  // a zero cost has no logarithm

  // LEAD costs 10 s per 1 000 samples, iterative IFD 30 s: both linear, a multiple of 3 at any pool.
  fs::path dir = fresh_dir("plots_fit");
  int k = 0;
  for (int64_t pool : {1000, 4000}) {
    lbtest::FakeRun a;
    a.pool_size = pool;
    a.scores = {40, 30, 20, 50};
    a.stderrs = {3, 4, 4, 3};
    a.offline_inference_seconds = 0;
    a.training_seconds = 10.0 * pool / 1000 - 0.5;  // selection_cost = training + 0.5 (selection)
    a.hash = "00000000000000d" + std::to_string(k++);
    lb::write_json_atomic((dir / ("lead-" + std::to_string(pool) + ".json")).string(), lbtest::fake_record(a));
    lbtest::FakeRun b = a;
    b.name = b.selector = "iterative_ifd";
    b.training_seconds = 30.0 * pool / 1000 - 0.5;
    b.hash = "00000000000000e" + std::to_string(k++);
    lb::write_json_atomic((dir / ("iifd-" + std::to_string(pool) + ".json")).string(), lbtest::fake_record(b));
  }
  auto scan = lb::scan_results_dir(dir.string());
  REQUIRE(scan.problems.empty());
  auto msgs = lb::write_plots(scan.records, (dir / "tables").string(), kStamp);
  REQUIRE(msgs.size() == 3);
  CHECK(msgs[1].find("cost_vs_pool_fit.csv") != std::string::npos);
  std::string csv = read(dir / "tables" / "cost_vs_pool_fit.csv");
  // The header is the first line; provenance and the fit's description are in the sidecar.
  CHECK(csv.rfind("name,pools,exponent_b,coefficient_a,cost_at_600000_seconds,multiple_of_lead_at_600000\n", 0) == 0);
  nlohmann::json meta = lb::read_json_file((dir / "tables" / "cost_vs_pool_fit.csv.meta.json").string());
  CHECK(meta["file"] == "cost_vs_pool_fit.csv");
  CHECK(meta["command"] == kStamp.command);
  CHECK(meta["git_sha"] == kStamp.git_sha);
  CHECK(meta["description"].get<std::string>().find("extrapolation, not a measurement") != std::string::npos);
  CHECK(csv.find("\niterative_ifd,2,1.0000,0.03,18000,3.000\n") != std::string::npos);
  CHECK(csv.find("\nlead,2,1.0000,0.01,6000,1.000\n") != std::string::npos);
  std::string gp = read(dir / "tables" / "cost_vs_pool.gp");
  CHECK(gp.find("set arrow from 600000") != std::string::npos);
  CHECK(gp.find("dt 2 notitle") != std::string::npos);
  fs::remove_all(dir);
}
