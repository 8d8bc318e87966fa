// `leadbench data ...`: argument parsing and printing only; the work is in core/pool_convert.
#include "experiments/cmd_data.h"

#include "core/json_io.h"
#include "core/pool_convert.h"
#include "evaluation/world.h"
#include "experiments/experiment_config.h"
#include "experiments/regime.h"

#include <filesystem>

#include <cmath>
#include <cstdio>
#include <exception>
#include <iostream>
#include <map>
#include <set>
#include <stdexcept>

namespace lb {
namespace {

const char* const kDataUsage =
    "usage: leadbench data <command> ...\n"
    "  convert   original pool format -> messages-format JSONL\n"
    "  validate  check a messages-format JSONL file record by record\n"
    "  stats     counts per source, length percentiles, duplicates, rejected records\n"
    "  world     write the synthetic world (pool, base corpus, suites) as files to read\n"
    "  regime    the smallest pool at which LEAD runs in the paper's regime, from LEAD run records\n"
    "`leadbench data <command> --help` explains each.\n";

const char* const kConvertUsage =
    "usage: leadbench data convert [--format FORMAT] --input FILE --output FILE.jsonl [--dataset NAME]\n"
    "                              [--skip-bad] [--no-reformulations] [--no-constraints]\n"
    "Converts a public instruction pool in its original format to the messages format\n"
    "({\"dataset\", \"id\", \"messages\": [{\"role\", \"content\"}, ...]}, one record a line).\n"
    "  --format FORMAT      alpaca | codealpaca | dolly | unnatural | gsm8k | sharegpt | ultrachat | math\n"
    "                       alpaca, codealpaca: {instruction, input, output}; user = instruction, plus\n"
    "                         \"\\n\\n\" + input when input is non-empty\n"
    "                       dolly: {instruction, context, response, category}; context like input\n"
    "                       unnatural: core_data.jsonl / full_data.jsonl lines {instruction, instances:\n"
    "                         [{instruction_with_input, constraints, output}], reformulations?}\n"
    "                       gsm8k: {question, answer}; the answer keeps its final \"#### N\" line\n"
    "                       sharegpt: {id, conversations: [{from: human|gpt|system, value}]}\n"
    "                       ultrachat: {id, data: [user, assistant, user, ...]} (an even number of turns)\n"
    "                       math: {problem, solution, level, type}; level and type are not kept\n"
    "                       Any format may be a JSON array or JSONL (.gz read too).\n"
    "                       Without --format it is detected from the first record's fields; the\n"
    "                       alpaca layout (instruction/input/output) needs an explicit alpaca or\n"
    "                       codealpaca, which only differ in the dataset name.\n"
    "  --input FILE         the original file\n"
    "  --output FILE.jsonl  written atomically (never half-written)\n"
    "  --dataset NAME       the \"dataset\" of every record (default: the format name); ids are the\n"
    "                       source's own \"id\" when present, else NAME_<record index>\n"
    "  --skip-bad           skip bad records (malformed JSON, missing or mistyped field, empty prompt\n"
    "                       or response, duplicate id) and report how many and why; without it the\n"
    "                       first bad record stops the conversion with its file, line and field\n"
    "  --no-reformulations  unnatural: ignore \"reformulations\" (full_data.jsonl)\n"
    "  --no-constraints     unnatural: do not append the instance's \"constraints\" to the prompt\n";

const char* const kValidateUsage =
    "usage: leadbench data validate FILE.jsonl [--skip-bad]\n"
    "Checks every record of a messages-format file with the pool reader's rules (object with \"id\",\n"
    "\"messages\" of {role: system|user|assistant, content}, at least one assistant turn), plus: no\n"
    "duplicate id, no empty assistant turn.\n"
    "  --skip-bad  check every record and report all bad ones (counts by reason, the first few in\n"
    "              full) instead of stopping at the first. Exit status 1 whenever a record is bad.\n";

const char* const kWorldUsage =
    "usage: leadbench data world [CONFIG] --out DIR [key=value ...]\n"
    "Writes the synthetic world a run would generate (from CONFIG's `world` section and the\n"
    "overrides, e.g. world.pool_size=500) as plain files, to read what models are trained and tested on:\n"
    "  DIR/pool.jsonl        the instruction pool, messages format, with each sample's true defect\n"
    "  DIR/corpus.txt        the base corpus, one document per line (newlines inside shown as \\n)\n"
    "  DIR/<suite>.jsonl     one line per item: id, group, prompt, choices/answer or references, tests\n";

const char* const kRegimeUsage =
    "usage: leadbench data regime RECORD.json... [--rho R] [--budget-fraction F] [--batch-size B]\n"
    "                             [--step N] [--json OUT.json]\n"
    "From LEAD run records' (cluster, task) group sizes (telemetry.offline.cluster_task_sizes), scaled\n"
    "to a pool P by their shares, the smallest P (a multiple of --step, default 100) at which, for\n"
    "every record:\n"
    "  (a) every group holding >= 1 % of the pool has quota floor(n * rho) >= 1,\n"
    "  (b) the mean cluster's round, sum over its groups of floor(n * rho), is >= 2 batches,\n"
    "  (c) budget / mean round is within 2x of the paper's rounds (15 000 / 1 300 at pool 600 000).\n"
    "Defaults: rho, budget fraction and batch size of the records' config (else 0.015, 0.025, 16).\n";

const char* const kStatsUsage =
    "usage: leadbench data stats FILE.jsonl [--json OUT.json] [--skip-bad]\n"
    "Describes a messages-format pool: samples per source; p5/p50/p95 and mean lengths of prompts and\n"
    "responses in byte-tokenizer tokens and in characters; exact duplicates (same messages), near\n"
    "duplicates (same text after lower-casing and collapsing punctuation and white space) and samples\n"
    "with the same prompt but a different response; records rejected and why.\n"
    "  --json OUT.json  also write the statistics as JSON (atomically)\n"
    "  --skip-bad       count and skip bad records instead of stopping at the first\n";

struct Usage : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// --name VALUE or --name=VALUE for value flags; bare --name for switches; the rest positional.
struct Args {
  std::map<std::string, std::string> values;
  std::set<std::string> switches;
  std::vector<std::string> positional;
};

Args parse(const std::vector<std::string>& args, size_t from, const std::set<std::string>& value_flags,
           const std::set<std::string>& switch_flags) {
  Args a;
  for (size_t i = from; i < args.size(); ++i) {
    std::string arg = args[i];
    if (arg.size() > 2 && arg.compare(0, 2, "--") == 0) {
      std::string value;
      bool has_value = false;
      if (auto eq = arg.find('='); eq != std::string::npos) {
        value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
        has_value = true;
      }
      if (value_flags.count(arg)) {
        if (!has_value) {
          if (i + 1 >= args.size()) throw Usage(arg + " needs a value");
          value = args[++i];
        }
        a.values[arg] = value;
      } else if (switch_flags.count(arg) && !has_value) {
        a.switches.insert(arg);
      } else {
        throw Usage("unknown option " + args[i]);
      }
    } else {
      a.positional.push_back(arg);
    }
  }
  return a;
}

std::string need(const Args& a, const std::string& flag) {
  auto it = a.values.find(flag);
  if (it == a.values.end() || it->second.empty()) throw Usage(flag + " is required");
  return it->second;
}

bool wants_help(const std::vector<std::string>& args, size_t from) {
  for (size_t i = from; i < args.size(); ++i)
    if (args[i] == "--help" || args[i] == "-h") return true;
  return false;
}

int run_convert(const std::vector<std::string>& args) {
  Args a = parse(args, 1, {"--format", "--input", "--output", "--dataset"},
                 {"--skip-bad", "--no-reformulations", "--no-constraints"});
  if (!a.positional.empty()) throw Usage("unexpected argument '" + a.positional[0] + "'");
  ConvertOptions opts;
  const std::string input = need(a, "--input"), output = need(a, "--output");
  if (!file_exists(input)) throw InputError(input + ": no such file; check --input");
  try {
    if (a.values.count("--format")) {
      opts.format = parse_source_format(need(a, "--format"));
    } else {
      opts.format = detect_source_format(input);
      std::cout << "detected format: " << source_format_name(opts.format) << " (from the first record's fields)\n";
    }
  } catch (const InputError& e) {
    throw Usage(e.what());
  }
  if (input == output) throw Usage("--output must differ from --input");
  if (a.values.count("--dataset")) opts.dataset = need(a, "--dataset");
  opts.skip_bad = a.switches.count("--skip-bad") > 0;
  opts.unnatural_reformulations = a.switches.count("--no-reformulations") == 0;
  opts.unnatural_constraints = a.switches.count("--no-constraints") == 0;
  RecordTally tally;
  Pool pool = convert_pool_file(input, opts, &tally);
  pool.save_jsonl(output);
  std::cout << "converted " << input << " (" << source_format_name(opts.format) << ") -> " << output << "\n"
            << tally.summary();
  return 0;
}

int run_validate(const std::vector<std::string>& args) {
  Args a = parse(args, 1, {}, {"--skip-bad"});
  if (a.positional.size() != 1) throw Usage("validate takes exactly one FILE.jsonl");
  RecordTally tally;
  Pool pool = validate_pool_file(a.positional[0], a.switches.count("--skip-bad") > 0, &tally);
  std::cout << a.positional[0] << ": " << (tally.rejected == 0 ? "valid" : "INVALID RECORDS FOUND") << ", "
            << pool.size() << " samples in " << pool.tasks.size() << " source(s)\n"
            << tally.summary();
  return tally.rejected == 0 ? 0 : 1;
}

int run_stats(const std::vector<std::string>& args) {
  Args a = parse(args, 1, {"--json"}, {"--skip-bad"});
  if (a.positional.size() != 1) throw Usage("stats takes exactly one FILE.jsonl");
  RecordTally tally;
  Pool pool = validate_pool_file(a.positional[0], a.switches.count("--skip-bad") > 0, &tally);
  PoolStats stats = compute_pool_stats(pool);
  stats.tally = tally;
  std::cout << a.positional[0] << "\n" << format_pool_stats(stats);
  if (a.values.count("--json")) {
    nlohmann::json j = pool_stats_to_json(stats);
    j["file"] = a.positional[0];
    write_json_atomic(need(a, "--json"), j);
    std::cout << "wrote " << a.values.at("--json") << "\n";
  }
  return 0;
}

double number_flag(const Args& a, const std::string& flag, double fallback) {
  auto it = a.values.find(flag);
  if (it == a.values.end()) return fallback;
  try {
    size_t used = 0;
    const double v = std::stod(it->second, &used);
    if (used != it->second.size() || !std::isfinite(v) || v <= 0) throw std::invalid_argument("bad");
    return v;
  } catch (const std::exception&) {
    throw Usage(flag + " must be a positive number, got '" + it->second + "'");
  }
}

int run_regime(const std::vector<std::string>& args) {
  Args a = parse(args, 1, {"--rho", "--budget-fraction", "--batch-size", "--step", "--json"}, {});
  if (a.positional.empty()) throw Usage("give at least one LEAD run record");
  RegimeInput in;
  // The records' own settings are the defaults.
  const nlohmann::json first = read_json_file(a.positional[0]);
  if (first.is_object() && first.contains("config") && first["config"].is_object()) {
    const auto& c = first["config"];
    if (c.contains("lead") && c["lead"].contains("rho")) in.rho = c["lead"]["rho"].get<double>();
    if (c.contains("train") && c["train"].contains("batch_size")) in.batch_size = c["train"]["batch_size"].get<int64_t>();
    if (c.contains("selection") && c["selection"].contains("budget_fraction"))
      in.budget_fraction = c["selection"]["budget_fraction"].get<double>();
  }
  in.rho = number_flag(a, "--rho", in.rho);
  in.budget_fraction = number_flag(a, "--budget-fraction", in.budget_fraction);
  in.batch_size = static_cast<int64_t>(number_flag(a, "--batch-size", static_cast<double>(in.batch_size)));
  in.step = static_cast<int64_t>(number_flag(a, "--step", static_cast<double>(in.step)));
  for (const auto& path : a.positional) in.records.push_back(regime_groups_of_record(path));
  const RegimeResult r = compute_regime(in);
  auto line = [](const char* what, const RegimeAt& at) {
    char b[400];
    std::snprintf(b, sizeof(b),
                  "%s pool %lld: budget %lld, smallest quota of a group >= 1 %% %lld, mean round %.1f samples "
                  "(smallest cluster's %lld), %.1f rounds to the budget; (a) %s (b) %s (c) %s\n",
                  what, (long long)at.pool, (long long)at.budget, (long long)at.smallest_listed_quota, at.mean_round,
                  (long long)at.smallest_round, at.rounds, at.a ? "yes" : "no", at.b ? "yes" : "no", at.c ? "yes" : "no");
    return std::string(b);
  };
  std::printf("regime from %zu record(s); rho %g, budget %g %% of the pool, batch %lld, step %lld\n",
              in.records.size(), in.rho, in.budget_fraction * 100, (long long)in.batch_size, (long long)in.step);
  std::printf("paper: %lld / %lld = %.2f rounds; (c) allows %.2f to %.2f\n", (long long)in.paper_budget,
              (long long)in.paper_round, r.paper_rounds, r.paper_rounds / in.max_rounds_factor, r.rounds_limit);
  std::printf("smallest pool meeting (a) alone: %lld, (b) alone: %lld, (c) alone: %lld\n", (long long)r.pool_a,
              (long long)r.pool_b, (long long)r.pool_c);
  if (r.chosen.pool > 0)
    std::fputs(line("smallest pool meeting all three:", r.chosen).c_str(), stdout);
  else
    std::printf("no pool up to %lld meets all three\n", (long long)in.max_pool);
  std::fputs(line("at the paper's", r.at_paper_pool).c_str(), stdout);
  std::printf("round floor of one batch (%lld) binds at the paper's pool: %s (smallest cluster's round %lld)\n",
              (long long)in.batch_size, r.at_paper_pool.smallest_round < in.batch_size ? "yes" : "no",
              (long long)r.at_paper_pool.smallest_round);
  if (a.values.count("--json")) {
    nlohmann::json j = r.to_json();
    j["records"] = a.positional;
    j["rho"] = in.rho;
    j["budget_fraction"] = in.budget_fraction;
    j["batch_size"] = in.batch_size;
    write_json_atomic(a.values.at("--json"), j);
  }
  return r.chosen.pool > 0 ? 0 : 1;
}

int run_world(const std::vector<std::string>& args) {
  Args a = parse(args, 1, {"--out"}, {});
  std::string config;
  std::vector<std::string> overrides;
  for (const auto& p : a.positional) {
    if (p.find('=') != std::string::npos) overrides.push_back(p);
    else if (config.empty()) config = p;
    else throw Usage("unexpected argument '" + p + "'");
  }
  const std::string out = need(a, "--out");
  ExperimentConfig cfg = load_experiment_config(config, overrides);
  World world = generate_world(cfg.world);
  std::filesystem::create_directories(out);
  world.pool.save_jsonl(out + "/pool.jsonl");
  std::string corpus;
  for (std::string doc : world.base_corpus) {
    for (size_t at = 0; (at = doc.find('\n', at)) != std::string::npos; at += 2) doc.replace(at, 1, "\\n");
    corpus += doc + "\n";
  }
  write_file_atomic(out + "/corpus.txt", corpus);
  for (const auto& suite : world.suites) {
    std::string lines;
    for (const auto& it : suite.items) {
      nlohmann::json j = {{"id", it.id}, {"prompt", it.prompt}};
      if (!it.group.empty()) j["group"] = it.group;
      if (!it.choices.empty()) j["choices"] = it.choices;
      if (it.answer >= 0) j["answer"] = it.answer;
      if (!it.references.empty()) j["references"] = it.references;
      if (!it.test_code.empty()) j["tests"] = it.test_code;
      if (!it.entry_point.empty()) j["entry_point"] = it.entry_point;
      if (!it.answer_prefix.empty()) j["answer_prefix"] = it.answer_prefix;
      if (!it.code_prefix.empty()) j["code_prefix"] = it.code_prefix;
      lines += j.dump() + "\n";
    }
    write_file_atomic(out + "/" + suite.name + ".jsonl", lines);
  }
  std::cout << "world " << kWorldVersion << " (seed " << cfg.world.seed << "): " << world.pool.size()
            << " pool samples, " << world.base_corpus.size() << " corpus documents, " << world.suites.size()
            << " suites -> " << out << "\n";
  return 0;
}

}  // namespace

int cmd_data(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    (args.empty() ? std::cerr : std::cout) << kDataUsage;
    return args.empty() ? 2 : 0;
  }
  const std::string& command = args[0];
  const char* usage = command == "convert" ? kConvertUsage
                      : command == "validate" ? kValidateUsage
                      : command == "stats" ? kStatsUsage
                      : command == "world" ? kWorldUsage
                      : command == "regime" ? kRegimeUsage
                                           : nullptr;
  if (!usage) {
    std::cerr << "leadbench data: unknown command '" << command << "'\n" << kDataUsage;
    return 2;
  }
  if (wants_help(args, 1)) {
    std::cout << usage;
    return 0;
  }
  try {
    if (command == "convert") return run_convert(args);
    if (command == "validate") return run_validate(args);
    if (command == "world") return run_world(args);
    if (command == "regime") return run_regime(args);
    return run_stats(args);
  } catch (const Usage& e) {
    std::cerr << "leadbench data " << command << ": " << e.what() << "\n" << usage;
    return 2;
  } catch (const InputError& e) {
    std::cerr << "leadbench data " << command << ": " << e.what() << "\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "leadbench data " << command << ": " << e.what() << "\n";
    return 1;
  }
}

}  // namespace lb
