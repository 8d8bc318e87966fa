// Messages-format pool I/O and the token cache; see pool.h.
#include "core/pool.h"

#include "core/json_io.h"

#include <sstream>

namespace lb {

void Pool::add(Sample s, SampleTruth t) {
  if (uid_index_.count(s.uid)) throw InputError("duplicate sample id '" + s.uid + "' in pool");
  auto it = task_index_.find(s.dataset);
  if (it == task_index_.end()) {
    it = task_index_.emplace(s.dataset, static_cast<int>(tasks.size())).first;
    tasks.push_back(s.dataset);
  }
  s.task = it->second;
  uid_index_.emplace(s.uid, static_cast<SampleId>(samples.size()));
  samples.push_back(std::move(s));
  truth.push_back(std::move(t));
}

std::vector<SampleId> Pool::ids_of_task(int task) const {
  std::vector<SampleId> out;
  for (size_t i = 0; i < samples.size(); ++i)
    if (samples[i].task == task) out.push_back(static_cast<SampleId>(i));
  return out;
}

Sample Pool::sample_from_json(const nlohmann::json& j, const std::string& where, SampleTruth* truth) {
  Sample s;
  if (!j.is_object()) throw InputError(where + ": expected a JSON object with \"id\", \"dataset\" and \"messages\"");
  const auto& id = require_field(j, "id", where);
  // Integer ids keep their exact decimal text: an id above 2^63 - 1 (JSON has no integer limit,
  // the parser keeps it unsigned) must not wrap to a negative number and collide with a real one.
  if (id.is_string())
    s.uid = id.get<std::string>();
  else if (id.is_number_unsigned())
    s.uid = std::to_string(id.get<uint64_t>());
  else if (id.is_number_integer())
    s.uid = std::to_string(id.get<int64_t>());
  else if (id.is_number_float())
    throw InputError(where + ": field \"id\" is " + id.dump() +
                     ", not an integer in -2^63 .. 2^64 - 1; write the id as a string (in quotes)");
  else
    throw InputError(where + ": field \"id\" must be a string or an integer");
  s.dataset = j.contains("dataset") ? require_string(j, "dataset", where) : std::string("unknown");
  const auto& msgs = require_field(j, "messages", where);
  if (!msgs.is_array() || msgs.empty())
    throw InputError(where + ": field \"messages\" must be a non-empty list of {\"role\", \"content\"}");
  bool has_assistant = false;
  for (size_t i = 0; i < msgs.size(); ++i) {
    std::string w = where + ": messages[" + std::to_string(i) + "]";
    Message m{require_string(msgs[i], "role", w), require_string(msgs[i], "content", w)};
    if (m.role != "system" && m.role != "user" && m.role != "assistant")
      throw InputError(w + ": unknown role '" + m.role + "' (expected system, user or assistant)");
    has_assistant |= m.role == "assistant";
    s.messages.push_back(std::move(m));
  }
  if (!has_assistant) throw InputError(where + ": no assistant turn, so there is nothing to train on");
  if (truth) {
    truth->defect = "unknown";
    if (j.contains("meta") && j["meta"].is_object() && j["meta"].contains("defect") && j["meta"]["defect"].is_string())
      truth->defect = j["meta"]["defect"].get<std::string>();
  }
  return s;
}

nlohmann::json Pool::sample_to_json(const Sample& s, const SampleTruth* truth) {
  nlohmann::json msgs = nlohmann::json::array();
  for (const auto& m : s.messages) msgs.push_back({{"role", m.role}, {"content", m.content}});
  nlohmann::json j = {{"dataset", s.dataset}, {"id", s.uid}, {"messages", msgs}};
  if (truth && truth->defect != "unknown") j["meta"] = {{"defect", truth->defect}};
  return j;
}

Pool Pool::load_jsonl(const std::string& path, bool skip_bad, int64_t* skipped) {
  Pool pool;
  int64_t local_skipped = 0;
  std::vector<int64_t> line_of;  // the line of each sample, for duplicate-id messages
  for_each_jsonl(
      path,
      [&](const nlohmann::json& j, int64_t line) {
        std::string where = path + ":" + std::to_string(line);
        SampleTruth t;
        Sample s = sample_from_json(j, where, &t);
        auto seen = pool.uid_index_.find(s.uid);
        if (seen != pool.uid_index_.end())
          throw InputError(where + ": duplicate id '" + s.uid + "', already used on line " +
                           std::to_string(line_of[static_cast<size_t>(seen->second)]) +
                           "; ids must be unique within a pool (change one id or remove the duplicate)");
        line_of.push_back(line);
        pool.add(std::move(s), std::move(t));
      },
      skip_bad, &local_skipped);
  if (skipped) *skipped = local_skipped;
  if (pool.samples.empty()) throw InputError(path + ": no valid records; is this a messages-format JSONL file?");
  return pool;
}

void Pool::save_jsonl(const std::string& path) const {
  std::ostringstream out;
  for (size_t i = 0; i < samples.size(); ++i) out << sample_to_json(samples[i], &truth[i]).dump() << "\n";
  write_file_atomic(path, out.str());
}

TokenCache TokenCache::build(const Pool& pool, const ChatTokenizer& tok, int max_len) {
  TokenCache c;
  c.max_len = max_len;
  c.pad_id = tok.pad_id();
  c.full.reserve(pool.size());
  c.response_only.reserve(pool.size());
  auto cut = [&](Encoded& e) {
    if (max_len <= 0 || static_cast<int>(e.ids.size()) <= max_len) return false;
    e.ids.resize(max_len);
    e.loss_mask.resize(max_len);
    return true;
  };
  for (const auto& s : pool.samples) {
    // Encoded whole, then cut here, so that the cut is counted (the same ids as encoding with max_len).
    Encoded full = tok.encode_chat(s.messages, 0);
    if (cut(full)) {
      ++c.truncated;
      if (full.target_count() == 0) ++c.truncated_without_target;
    }
    Encoded resp = tok.encode_response_only(s.messages, 0);
    cut(resp);
    c.full.push_back(std::move(full));
    c.response_only.push_back(std::move(resp));
  }
  return c;
}

}  // namespace lb
