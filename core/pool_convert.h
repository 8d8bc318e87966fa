// Real instruction pools: converters from the original formats of public pools (Stanford Alpaca,
// Code Alpaca, Dolly, Unnatural Instructions, GSM8K train, ShareGPT, UltraChat, MATH) to the messages format of
// core/pool.h, plus validation and statistics of messages-format files (`leadbench data ...`).
//
// Accepted inputs (every format may be one JSON array of records or JSONL, one record a line;
// ".gz" is read transparently). Whitespace-only text counts as empty.
//   alpaca, codealpaca  {"instruction", "input"?, "output"}: user = instruction, or
//                       instruction + "\n\n" + input when input is non-empty; assistant = output.
//                       A missing "input" means no input.
//   dolly               {"instruction", "context"?, "response", "category"?}: user = instruction
//                       (+ "\n\n" + context when non-empty); assistant = response. The category is
//                       checked to be a string but not kept (the messages format has no slot for it).
//   unnatural           one task a line, as in core_data.jsonl / full_data.jsonl of
//                       orhonovich/unnatural-instructions: {"instruction"?, "instances": [{
//                       "instruction_with_input", "input"?, "constraints"?, "output"}],
//                       "reformulations"?: [{"instruction"?, "input"?, "instruction_with_input",
//                       "output"}]}. One sample per instance and per reformulation.
//                       user = instruction_with_input (or, when absent, the task's instruction +
//                       "\n\n" + input), then "\n" + constraints when constraints are present and not
//                       "none"/"none." (open-instruct's rule; switch: unnatural_constraints);
//                       assistant = output. Ids: unnatural_<task>_<k> and unnatural_<task>_r<k>
//                       with 0-based task line and item indices. A bad instance or reformulation is
//                       rejected on its own; the task's other items are kept.
//   gsm8k               {"question", "answer"}: user = question; assistant = the whole answer,
//                       reasoning and the final "#### N" line included (a record without such a
//                       line is rejected: the file is then not GSM8K train).
//   sharegpt            {"id"?, "system"?, "conversations": [{"from", "value"}, ...]}: from
//                       human|user -> user, gpt|assistant|chatgpt|bard|bing -> assistant,
//                       system -> system. Every assistant turn is trained on (tokenizer rule).
//                       A conversation with an empty turn or without any assistant turn is rejected.
//   ultrachat           {"id"?, "data": [TEXT, ...]} (stingning/ultrachat): the turns alternate user,
//                       assistant, user, ... starting with the user. A record with an odd number of
//                       turns (a last question without its answer), an empty or non-string turn, or
//                       no turns is rejected; every assistant turn is trained on.
//   math                {"problem", "solution", "level"?, "type"?} (hendrycks/math, one problem a
//                       file there; here a JSON array or JSONL of them): user = problem, assistant =
//                       the whole solution (its \boxed{} answer included). "level" and "type" are
//                       checked to be strings but not kept (the messages format has no slot for them).
// Ids: the record's own "id" (string or integer) when it has one, else "<dataset>_<index>" with
// the 0-based record index in the source file (so ids do not shift when bad records are skipped).
// A duplicate id is a rejected record. Every produced sample is checked by Pool::sample_from_json.
//
// Bad input: a record that is not valid JSON, lacks a field, has a field of the wrong type, has an
// empty prompt or response, ... is an InputError naming file, line, record index and field, with
// what to do; with skip_bad it is skipped instead and counted by kind in a RecordTally, whose first
// few entries are listed. Nothing is dropped without being counted.
#pragma once

#include "core/json_io.h"
#include "core/pool.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace lb {

enum class SourceFormat { alpaca, codealpaca, dolly, unnatural, gsm8k, sharegpt, ultrachat, math };

// "alpaca" -> SourceFormat::alpaca; an unknown name is an InputError listing the choices.
SourceFormat parse_source_format(const std::string& name);
const char* source_format_name(SourceFormat f);
std::string source_format_choices();  // "alpaca|codealpaca|dolly|unnatural|gsm8k|sharegpt|ultrachat|math"

// Guesses the format from the fields of the file's first record that is a JSON object:
// "conversations" -> sharegpt, "instances" -> unnatural, "question" and "answer" -> gsm8k,
// "instruction" and "response" -> dolly, "data" -> ultrachat, "problem" and "solution" -> math.
// "instruction" and "output" fit both alpaca and codealpaca (the same layout), and anything else is unknown: both are an InputError that asks for
// an explicit format.
SourceFormat detect_source_format(const std::string& path);

// Where a source record sits: file, 1-based line of its first byte, 0-based record index.
struct RecordLocation {
  std::string file;
  int64_t line = 0;
  int64_t index = 0;
  std::string str() const;  // "file:line (record index)"
};

// One bad record (or one bad item of a record), raised by the per-record converters.
struct RecordError : InputError {
  std::string kind;  // short category used for counting, e.g. `missing field "output"`
  RecordError(std::string kind, const std::string& message);
};

// One record that was not used, and why.
struct Rejection {
  std::string where;    // RecordLocation::str(), plus the item inside the record if any
  std::string kind;     // RecordError::kind
  std::string message;  // full explanation
};

// What a pass over a file did with its records: nothing is dropped without a count here.
struct RecordTally {
  static constexpr int kListed = 5;  // rejections kept verbatim; the rest only counted by kind
  int64_t records = 0;   // source records read (array elements or non-blank lines)
  int64_t accepted = 0;  // samples kept
  int64_t rejected = 0;  // records or items (unnatural instances) rejected
  std::map<std::string, int64_t> rejected_by_kind;
  std::vector<Rejection> first_rejections;  // at most kListed

  void reject(Rejection r);
  // Multi-line human summary: counts, counts by kind, the first rejections.
  std::string summary() const;
  nlohmann::json to_json() const;
};

struct ConvertOptions {
  SourceFormat format = SourceFormat::alpaca;
  std::string dataset;                  // "dataset" of every sample; empty: the format's name
  bool skip_bad = false;                // skip and count bad records instead of stopping
  bool unnatural_reformulations = true; // full_data.jsonl: one sample per reformulation too
  bool unnatural_constraints = true;    // append non-"none" constraints to the prompt (open-instruct)
};

// The samples a source record yields, and the items of it that were rejected (unnatural only;
// other formats throw RecordError for a bad record).
struct RecordOutcome {
  std::vector<Sample> samples;
  std::vector<Rejection> rejections;
};

// Converts one parsed source record. `index` is its 0-based position (for generated ids).
// Throws RecordError when the whole record is unusable.
RecordOutcome convert_record(const nlohmann::json& record, const ConvertOptions& opts,
                             const RecordLocation& where);

// Calls fn for every record of a JSON-array or JSONL file. A record that is not valid JSON is
// passed with record == nullptr and parse_error set (its location names the line of the error).
// A broken array structure (unterminated) is an InputError.
void for_each_source_record(
    const std::string& path,
    const std::function<void(const nlohmann::json* record, const RecordLocation& where,
                             const std::string& parse_error)>& fn);

// Converts a whole file. Without opts.skip_bad the first bad record throws InputError (file, line,
// record, field, what to do). Also throws when no record at all could be converted.
Pool convert_pool_file(const std::string& input, const ConvertOptions& opts, RecordTally* tally);

// Reads a messages-format file (JSONL or JSON array) with Pool::sample_from_json's rules, plus:
// no duplicate ids and no empty assistant turn. Without skip_bad the first bad record throws.
Pool validate_pool_file(const std::string& path, bool skip_bad, RecordTally* tally);

// Percentile q in [0, 100] by linear interpolation between closest ranks (numpy's default);
// 0 for an empty list.
double percentile(std::vector<double> values, double q);

struct LengthSummary {
  int64_t n = 0;
  double mean = 0, p5 = 0, p50 = 0, p95 = 0;
  static LengthSummary of(const std::vector<double>& values);
};

// Lengths of one group of samples. Tokens are those of the ByteTokenizer chat template
// (encode_chat, no truncation): response tokens = the training targets (assistant content + END
// of every assistant turn), prompt tokens = all other tokens (BOS, role tokens, system and user
// content and their END). Characters are Unicode code points of the message contents (system and
// user for the prompt, assistant for the response).
struct LengthStats {
  LengthSummary prompt_tokens, response_tokens, prompt_chars, response_chars;
};

// Statistics of a pool: counts per source, lengths, duplicates.
// Duplicates, counted against the first occurrence in file order:
//   exact   same messages (roles and contents byte for byte);
//   near    same conversation after normalisation but not byte-identical. Normalisation: ASCII
//           letters lower-cased; every run of ASCII characters that are not letters or digits
//           (white space, punctuation, symbols) becomes one space; leading and trailing spaces
//           dropped; non-ASCII bytes kept. So "Hello, World!" and "hello world" are near duplicates;
//   prompt  same normalised prompt (system and user turns) but a different normalised response.
//   similar records with an earlier record whose word-3-gram shingles of the normalised
//           conversation (role names included as words) overlap with estimated Jaccard >= 0.8:
//           MinHash with 64 multiply-shift hashes, LSH in 16 bands of 4; each band bucket keeps
//           its first record, and a candidate counts when >= 80% of the 64 minimums agree (standard
//           error of that estimate ~0.05). Includes exact and near duplicates; catches small edits
//           ("Give three tips" / "Give 3 tips") that the normalised hash misses.
// Keys are compared through 64-bit hashes (collision chance ~n^2/2^65, negligible for pools of
// millions).
struct PoolStats {
  int64_t samples = 0;
  std::vector<std::pair<std::string, int64_t>> per_dataset;  // order of first appearance
  int64_t multi_turn = 0;                                     // samples with >1 assistant turn
  int64_t with_system = 0;                                    // samples with a system message
  LengthStats overall;
  std::vector<std::pair<std::string, LengthStats>> by_dataset;
  int64_t exact_duplicates = 0, near_duplicates = 0, prompt_duplicates = 0, similar = 0;
  // A few (duplicate id, id of its first occurrence) pairs per kind, to look at.
  std::vector<std::pair<std::string, std::string>> exact_examples, near_examples, prompt_examples, similar_examples;
  RecordTally tally;  // records read and rejected while loading
};

PoolStats compute_pool_stats(const Pool& pool);
// The normalisation used for near duplicates (exposed for tests).
std::string normalise_for_duplicates(const std::string& text);
// MinHash signature (64 values) of a conversation and the Jaccard estimate of two signatures
// (exposed for tests).
std::vector<uint32_t> minhash_signature(const std::vector<Message>& messages);
double minhash_similarity(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b);
nlohmann::json pool_stats_to_json(const PoolStats& s);
// Fixed-column text tables.
std::string format_pool_stats(const PoolStats& s);

}  // namespace lb
