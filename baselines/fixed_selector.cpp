// The replay control (see fixed_selector.h).
#include "baselines/fixed_selector.h"

#include "core/json_io.h"

#include <unordered_map>

namespace lb {

namespace {

std::string trimmed(const std::string& s) {
  const auto b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  const auto e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

}  // namespace

std::vector<SampleId> load_fixed_ids(const std::string& path, const Pool& pool) {
  const std::string what = "selection.fixed_ids_from " + path;
  if (!file_exists(path)) throw InputError(what + ": file not found; give a run record, a JSON list of uids or a file of uids, one per line");
  const std::string text = read_text_file(path);
  // Each entry: its uid and where it stands in the file (for errors).
  std::vector<std::pair<std::string, std::string>> entries;
  const auto pos = text.find_first_not_of(" \t\r\n");
  const char c0 = pos == std::string::npos ? '\0' : text[pos];
  if (c0 == '{' || c0 == '[') {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(text);
    } catch (const std::exception& e) {
      throw InputError(what + ": not valid JSON (" + e.what() + ")");
    }
    const nlohmann::json* list = &j;
    std::string where = "entry ";
    if (j.is_object()) {
      if (!j.contains("selected") || !j["selected"].is_object() || !j["selected"].contains("uids") ||
          !j["selected"]["uids"].is_array())
        throw InputError(what + ": a JSON object must be a run record with selected.uids (a list of sample uids)");
      list = &j["selected"]["uids"];
      where = "selected.uids[";
    }
    for (size_t i = 0; i < list->size(); ++i) {
      const std::string at = j.is_object() ? where + std::to_string(i) + "]" : where + std::to_string(i);
      if (!(*list)[i].is_string())
        throw InputError(what + ": " + at + " is " + (*list)[i].dump() + ", not a uid string (the pool's record \"id\")");
      entries.emplace_back((*list)[i].get<std::string>(), at);
    }
  } else {
    size_t line_no = 0, start = 0;
    while (start <= text.size()) {
      const auto end = text.find('\n', start);
      const std::string line = trimmed(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
      ++line_no;
      if (!line.empty()) entries.emplace_back(line, "line " + std::to_string(line_no));
      if (end == std::string::npos) break;
      start = end + 1;
    }
  }
  if (entries.empty()) throw InputError(what + ": the list of samples is empty; the replay control needs at least one uid");

  std::unordered_map<std::string, SampleId> index;
  index.reserve(pool.size());
  for (size_t i = 0; i < pool.size(); ++i) index.emplace(pool.samples[i].uid, static_cast<SampleId>(i));
  std::unordered_map<std::string, std::string> seen;  // uid -> where it first stood
  std::vector<SampleId> ids;
  ids.reserve(entries.size());
  for (const auto& [uid, at] : entries) {
    const auto it = index.find(uid);
    if (it == index.end())
      throw InputError(what + ": " + at + ": uid '" + uid + "' is not in the pool (" + std::to_string(pool.size()) +
                       " samples); the list must come from a run on the same world (world.* settings)");
    const auto [prev, fresh] = seen.emplace(uid, at);
    if (!fresh)
      throw InputError(what + ": " + at + ": uid '" + uid + "' is listed twice (first at " + prev->second +
                       "); each sample may be listed once");
    ids.push_back(it->second);
  }
  return ids;
}

std::vector<SampleId> FixedSelector::choose(SelectionContext& ctx) {
  telemetry_["source"] = source_;
  telemetry_["listed"] = static_cast<int64_t>(ids_.size());
  telemetry_["budget"] = ctx.budget;
  for (SampleId id : ids_)
    if (id < 0 || id >= static_cast<SampleId>(ctx.pool.size()))
      throw std::invalid_argument("fixed: id " + std::to_string(id) + " is outside the pool (load_fixed_ids maps uids)");
  return ids_;
}

}  // namespace lb
