// Hugging Face tokenizer.json: parsing (every unsupported choice is an error naming its JSON path),
// and the encode / decode pipeline of the `tokenizers` library, step by step:
//   added tokens on the raw text -> normalizer -> added tokens on the normalized text ->
//   pre-tokenizers -> BPE per word -> post-processor;  decode: ids -> tokens -> decoders -> text.
#include "core/hf_tokenizer.h"

#include "core/gguf_tokenizer.h"

#include "core/bpe_model.h"
#include "core/json_io.h"
#include "core/unicode_text.h"

#include <algorithm>
#include <cctype>
#include <tuple>
#include <filesystem>
#include <map>
#include <stdexcept>
#include <utility>

namespace lb {

namespace {

using nlohmann::json;
namespace uc = lb::unicode;
namespace fs = std::filesystem;

using Span = std::pair<uint32_t, uint32_t>;  // [begin, end) byte offsets

[[noreturn]] void fail(const std::string& source, const std::string& path, const std::string& what) {
  throw InputError(source + ": " + path + ": " + what);
}

// ---------------------------------------------------------------------------------------------
// JSON field helpers

const json* field(const json& obj, const char* name) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

bool get_bool(const json& obj, const char* name, bool fallback, const std::string& src, const std::string& path) {
  const json* f = field(obj, name);
  if (!f) return fallback;
  if (!f->is_boolean()) fail(src, path + "/" + name, "expected true or false, found " + f->dump());
  return f->get<bool>();
}

std::string get_string(const json& obj, const char* name, const std::string& src, const std::string& path,
                       const std::optional<std::string>& fallback = std::nullopt) {
  const json* f = field(obj, name);
  if (!f) {
    if (fallback) return *fallback;
    fail(src, path + "/" + name, "missing (a string is required)");
  }
  if (!f->is_string()) fail(src, path + "/" + name, "expected a string, found " + f->dump());
  return f->get<std::string>();
}

std::string type_of(const json& obj, const std::string& src, const std::string& path) {
  if (!obj.is_object()) fail(src, path, "expected an object, found " + obj.dump().substr(0, 80));
  return get_string(obj, "type", src, path);
}

// ---------------------------------------------------------------------------------------------
// Patterns: {"String": s} or {"Regex": r}

struct Pattern {
  std::string literal;
  std::shared_ptr<const uc::Regex> regex;

  // All non-overlapping matches, left to right (tokenizers escapes a String into a regex).
  void find(std::string_view s, std::vector<Span>& out) const {
    if (regex) {
      regex->find_all(s, out);
      return;
    }
    if (literal.empty()) return;  // an empty String matches nothing
    size_t pos = 0;
    while ((pos = s.find(literal, pos)) != std::string_view::npos) {
      out.emplace_back(static_cast<uint32_t>(pos), static_cast<uint32_t>(pos + literal.size()));
      pos += literal.size();
    }
  }
};

Pattern parse_pattern(const json& j, const std::string& src, const std::string& path) {
  Pattern p;
  if (const json* s = field(j, "String")) {
    if (!s->is_string()) fail(src, path + "/String", "expected a string");
    p.literal = s->get<std::string>();
    return p;
  }
  if (const json* r = field(j, "Regex")) {
    if (!r->is_string()) fail(src, path + "/Regex", "expected a string");
    try {
      p.regex = std::make_shared<const uc::Regex>(r->get<std::string>());
    } catch (const std::invalid_argument& e) {
      fail(src, path + "/Regex", std::string(e.what()) + " (pattern " + r->dump() + ")");
    }
    return p;
  }
  fail(src, path, "expected {\"String\": ...} or {\"Regex\": ...}, found " + j.dump().substr(0, 120));
}

std::string replace_all(std::string_view s, const Pattern& p, const std::string& content) {
  std::vector<Span> m;
  p.find(s, m);
  if (m.empty()) return std::string(s);
  std::string out;
  size_t last = 0;
  for (auto [b, e] : m) {
    out.append(s.data() + last, b - last);
    out += content;
    last = e;
  }
  out.append(s.data() + last, s.size() - last);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Steps of the pipeline

enum class NormKind { NFC, NFD, NFKC, NFKD, Prepend, Replace };
struct NormStep {
  NormKind kind = NormKind::NFC;
  std::string text;  // Prepend: what to prepend; Replace: the content
  Pattern pattern;   // Replace
};

enum class Behavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };
enum class PrependScheme { Always, First, Never };
enum class PreKind { Split, ByteLevel, Digits, Metaspace };
struct PreStep {
  PreKind kind = PreKind::Split;
  Pattern pattern;  // Split
  Behavior behavior = Behavior::Isolated;
  bool invert = false;
  bool add_prefix_space = false;   // ByteLevel
  bool use_regex = false;          // ByteLevel
  bool individual_digits = false;  // Digits
  bool on_byte_alphabet = false;   // Digits after ByteLevel: sees GPT-2's mapped characters
  std::string replacement;         // Metaspace, UTF-8
  PrependScheme prepend = PrependScheme::Always;
  bool split = true;  // Metaspace
};

enum class DecKind { ByteLevel, Metaspace, Replace, ByteFallback, Fuse, Strip };
struct DecStep {
  DecKind kind = DecKind::Fuse;
  Pattern pattern;          // Replace
  std::string content;      // Replace
  char32_t character = 0;   // Metaspace replacement; Strip content
  PrependScheme prepend = PrependScheme::Always;
  size_t start = 0, stop = 0;  // Strip
};

struct AddedToken {
  int32_t id = 0;
  std::string content;
  std::string normalized_content;  // what the normalizer makes of it (decode shows this, as tokenizers)
  bool special = false, lstrip = false, rstrip = false, single_word = false, normalized = false;
};

// Leftmost-longest matching of a set of byte strings (tokenizers uses an Aho-Corasick automaton
// with MatchKind::LeftmostLongest; among the matches starting leftmost, the longest wins).
class TokenTrie {
 public:
  bool empty() const { return nodes_.size() <= 1; }
  void add(const std::string& s, int32_t value) {
    if (s.empty()) return;
    if (nodes_.empty()) nodes_.emplace_back();
    int32_t n = 0;
    for (unsigned char c : s) {
      int32_t next = -1;
      for (auto [k, child] : nodes_[n].kids)
        if (k == c) next = child;
      if (next < 0) {
        next = static_cast<int32_t>(nodes_.size());
        nodes_[n].kids.emplace_back(c, next);
        nodes_.emplace_back();
      }
      n = next;
    }
    if (nodes_[n].value < 0) nodes_[n].value = value;  // the first of two equal contents wins
    first_[static_cast<unsigned char>(s[0])] = true;
  }
  // The leftmost-longest match at or after `from`: (begin, end, value), or value -1.
  std::tuple<size_t, size_t, int32_t> find(std::string_view s, size_t from) const {
    for (size_t i = from; i < s.size(); ++i) {
      if (!first_[static_cast<unsigned char>(s[i])]) continue;
      int32_t n = 0, best = -1;
      size_t best_end = 0;
      for (size_t j = i; j < s.size(); ++j) {
        int32_t next = -1;
        for (auto [k, child] : nodes_[n].kids)
          if (k == static_cast<unsigned char>(s[j])) next = child;
        if (next < 0) break;
        n = next;
        if (nodes_[n].value >= 0) {
          best = nodes_[n].value;
          best_end = j + 1;
        }
      }
      if (best >= 0) return {i, best_end, best};
    }
    return {s.size(), s.size(), -1};
  }

 private:
  struct Node {
    int32_t value = -1;
    std::vector<std::pair<unsigned char, int32_t>> kids;
  };
  std::vector<Node> nodes_;
  bool first_[256] = {};
};

struct TemplateItem {
  bool is_sequence = false;  // $A
  std::vector<int32_t> ids;  // a special token's ids
};

bool starts_with_word(std::string_view s) {
  if (s.empty()) return false;
  int len = 0;
  return uc::is_word_char(uc::decode_at(s, 0, &len));
}
bool ends_with_word(std::string_view s) {
  if (s.empty()) return false;
  size_t i = s.size() - 1;
  while (i > 0 && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) --i;
  int len = 0;
  return uc::is_word_char(uc::decode_at(s, i, &len));
}

}  // namespace

// ---------------------------------------------------------------------------------------------

struct HfTokenizer::Impl {
  std::string source;
  BpeModel model;
  std::vector<NormStep> normalizers;
  std::vector<PreStep> pre_tokenizers;
  std::vector<DecStep> decoders;
  bool has_decoder = false;
  std::vector<TemplateItem> template_single;  // empty: no template (ids pass through)
  bool has_template = false;
  std::vector<AddedToken> added;  // in file order
  std::vector<int32_t> added_index_of_id;  // id -> index into `added`, or -1
  TokenTrie raw_trie, normalized_trie;     // values: indices into `added`
  int32_t vocab_size = 0;
  std::optional<int32_t> bos, eos;
  std::string chat_template;
  bool clean_up_spaces = false;
  std::shared_ptr<const uc::Regex> gpt2_regex;

  std::string normalize(std::string_view s) const;
  void encode_segment(std::string_view text, bool origin, std::vector<int32_t>& out) const;
  void pre_tokenize_and_model(std::string_view text, bool origin, std::vector<int32_t>& out) const;
  // Splits s by the trie's added tokens as tokenizers' AddedVocabulary::find_matches: calls
  // on_text(begin, end) for the text between and on_token(id) for each token.
  template <class OnText, class OnToken>
  void split_added(std::string_view s, const TokenTrie& trie, OnText on_text, OnToken on_token) const;
  const std::string& token_string(int32_t id) const {
    const int32_t a = id < static_cast<int32_t>(added_index_of_id.size()) ? added_index_of_id[id] : -1;
    if (a >= 0) return added[a].normalized ? added[a].normalized_content : added[a].content;
    static const std::string none;
    return id < model.size() ? model.token(id) : none;
  }
};

namespace {

// ---------------------------------------------------------------------------------------------
// Parsing

void parse_normalizer(const json& j, const std::string& src, const std::string& path, std::vector<NormStep>& out) {
  const std::string type = type_of(j, src, path);
  if (type == "Sequence") {
    const json* list = field(j, "normalizers");
    if (!list || !list->is_array()) fail(src, path + "/normalizers", "expected a list of normalizers");
    for (size_t i = 0; i < list->size(); ++i)
      parse_normalizer((*list)[i], src, path + "/normalizers/" + std::to_string(i), out);
    return;
  }
  NormStep s;
  s.kind = NormKind::NFC;
  if (type == "NFC") s.kind = NormKind::NFC;
  else if (type == "NFD") s.kind = NormKind::NFD;
  else if (type == "NFKC") s.kind = NormKind::NFKC;
  else if (type == "NFKD") s.kind = NormKind::NFKD;
  else if (type == "Prepend") {
    s.kind = NormKind::Prepend;
    s.text = get_string(j, "prepend", src, path);
  } else if (type == "Replace") {
    s.kind = NormKind::Replace;
    const json* p = field(j, "pattern");
    if (!p) fail(src, path + "/pattern", "missing");
    s.pattern = parse_pattern(*p, src, path + "/pattern");
    s.text = get_string(j, "content", src, path);
  } else {
    fail(src, path + "/type", "unsupported normalizer '" + type +
                                  "'; supported: NFC, NFD, NFKC, NFKD, Prepend, Replace, Sequence");
  }
  out.push_back(std::move(s));
}

PrependScheme parse_prepend_scheme(const json& j, const std::string& src, const std::string& path) {
  if (const json* p = field(j, "prepend_scheme")) {
    const std::string v = p->is_string() ? p->get<std::string>() : "";
    if (v == "always") return PrependScheme::Always;
    if (v == "first") return PrependScheme::First;
    if (v == "never") return PrependScheme::Never;
    fail(src, path + "/prepend_scheme", "expected \"always\", \"first\" or \"never\", found " + p->dump());
  }
  return get_bool(j, "add_prefix_space", true, src, path) ? PrependScheme::Always : PrependScheme::Never;
}

std::string single_char(const json& j, const char* name, const std::string& src, const std::string& path,
                        const std::string& fallback) {
  const std::string s = get_string(j, name, src, path, fallback);
  int len = 0;
  if (s.empty() || (uc::decode_at(s, 0, &len), static_cast<size_t>(len)) != s.size())
    fail(src, path + "/" + name, "expected exactly one character, found \"" + s + "\"");
  return s;
}

void parse_pre_tokenizer(const json& j, const std::string& src, const std::string& path, std::vector<PreStep>& out) {
  const std::string type = type_of(j, src, path);
  if (type == "Sequence") {
    const json* list = field(j, "pretokenizers");
    if (!list || !list->is_array()) fail(src, path + "/pretokenizers", "expected a list of pre-tokenizers");
    for (size_t i = 0; i < list->size(); ++i)
      parse_pre_tokenizer((*list)[i], src, path + "/pretokenizers/" + std::to_string(i), out);
    return;
  }
  const bool after_byte_level =
      std::any_of(out.begin(), out.end(), [](const PreStep& s) { return s.kind == PreKind::ByteLevel; });
  if (after_byte_level && type != "Digits")
    fail(src, path + "/type", "pre-tokenizer '" + type +
                                  "' after ByteLevel is not supported; after ByteLevel only Digits may follow");
  PreStep s;
  s.kind = PreKind::Split;
  if (type == "Split") {
    s.kind = PreKind::Split;
    const json* p = field(j, "pattern");
    if (!p) fail(src, path + "/pattern", "missing");
    s.pattern = parse_pattern(*p, src, path + "/pattern");
    const std::string b = get_string(j, "behavior", src, path);
    if (b == "Removed") s.behavior = Behavior::Removed;
    else if (b == "Isolated") s.behavior = Behavior::Isolated;
    else if (b == "MergedWithPrevious") s.behavior = Behavior::MergedWithPrevious;
    else if (b == "MergedWithNext") s.behavior = Behavior::MergedWithNext;
    else if (b == "Contiguous") s.behavior = Behavior::Contiguous;
    else fail(src, path + "/behavior", "unsupported behavior '" + b +
                                           "'; supported: Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous");
    s.invert = get_bool(j, "invert", false, src, path);
  } else if (type == "ByteLevel") {
    s.kind = PreKind::ByteLevel;
    s.add_prefix_space = get_bool(j, "add_prefix_space", true, src, path);
    s.use_regex = get_bool(j, "use_regex", true, src, path);
  } else if (type == "Digits") {
    s.kind = PreKind::Digits;
    s.individual_digits = get_bool(j, "individual_digits", false, src, path);
    s.on_byte_alphabet = after_byte_level;
  } else if (type == "Metaspace") {
    s.kind = PreKind::Metaspace;
    s.replacement = single_char(j, "replacement", src, path, "\u2581");
    s.prepend = parse_prepend_scheme(j, src, path);
    s.split = get_bool(j, "split", true, src, path);
  } else {
    fail(src, path + "/type", "unsupported pre-tokenizer '" + type +
                                  "'; supported: Split, ByteLevel, Digits, Metaspace, Sequence");
  }
  out.push_back(std::move(s));
}

void parse_decoder(const json& j, const std::string& src, const std::string& path, std::vector<DecStep>& out) {
  const std::string type = type_of(j, src, path);
  if (type == "Sequence") {
    const json* list = field(j, "decoders");
    if (!list || !list->is_array()) fail(src, path + "/decoders", "expected a list of decoders");
    for (size_t i = 0; i < list->size(); ++i) parse_decoder((*list)[i], src, path + "/decoders/" + std::to_string(i), out);
    return;
  }
  DecStep s;
  s.kind = DecKind::Fuse;
  int len = 0;
  if (type == "ByteLevel") {
    s.kind = DecKind::ByteLevel;
  } else if (type == "Metaspace") {
    s.kind = DecKind::Metaspace;
    const std::string r = single_char(j, "replacement", src, path, "\u2581");
    s.character = uc::decode_at(r, 0, &len);
    s.prepend = parse_prepend_scheme(j, src, path);
  } else if (type == "Replace") {
    s.kind = DecKind::Replace;
    const json* p = field(j, "pattern");
    if (!p) fail(src, path + "/pattern", "missing");
    s.pattern = parse_pattern(*p, src, path + "/pattern");
    s.content = get_string(j, "content", src, path);
  } else if (type == "ByteFallback") {
    s.kind = DecKind::ByteFallback;
  } else if (type == "Fuse") {
    s.kind = DecKind::Fuse;
  } else if (type == "Strip") {
    s.kind = DecKind::Strip;
    const std::string c = single_char(j, "content", src, path, " ");
    s.character = uc::decode_at(c, 0, &len);
    auto count = [&](const char* name) -> size_t {
      const json* f = field(j, name);
      if (!f) return 0;
      if (!f->is_number_unsigned() && !(f->is_number_integer() && f->get<int64_t>() >= 0))
        fail(src, path + "/" + name, "expected a non-negative integer, found " + f->dump());
      return f->get<size_t>();
    };
    s.start = count("start");
    s.stop = count("stop");
  } else {
    fail(src, path + "/type", "unsupported decoder '" + type +
                                  "'; supported: ByteLevel, Metaspace, Replace, ByteFallback, Fuse, Strip, Sequence");
  }
  out.push_back(std::move(s));
}

int32_t parse_id(const json& j, const std::string& src, const std::string& path) {
  if (!j.is_number_integer() && !j.is_number_unsigned()) fail(src, path, "expected a token id, found " + j.dump());
  const int64_t v = j.get<int64_t>();
  if (v < 0 || v > 100'000'000) fail(src, path, "token id " + std::to_string(v) + " is out of range [0, 1e8]");
  return static_cast<int32_t>(v);
}

void parse_post_processor(const json& j, const std::string& src, const std::string& path, HfTokenizer::Impl& t) {
  const std::string type = type_of(j, src, path);
  if (type == "Sequence") {
    const json* list = field(j, "processors");
    if (!list || !list->is_array()) fail(src, path + "/processors", "expected a list of processors");
    for (size_t i = 0; i < list->size(); ++i)
      parse_post_processor((*list)[i], src, path + "/processors/" + std::to_string(i), t);
    return;
  }
  if (type == "ByteLevel") return;  // changes offsets only, never ids
  if (type != "TemplateProcessing")
    fail(src, path + "/type", "unsupported post-processor '" + type + "'; supported: TemplateProcessing, ByteLevel, Sequence");
  if (t.has_template) fail(src, path, "a second TemplateProcessing is not supported");
  const json* specials = field(j, "special_tokens");
  const json* single = field(j, "single");
  if (!single || !single->is_array()) fail(src, path + "/single", "expected a list of template pieces");
  t.has_template = true;
  for (size_t i = 0; i < single->size(); ++i) {
    const json& item = (*single)[i];
    const std::string ipath = path + "/single/" + std::to_string(i);
    TemplateItem ti;
    if (const json* seq = field(item, "Sequence")) {
      const std::string id = get_string(*seq, "id", src, ipath + "/Sequence");
      if (id != "A") fail(src, ipath + "/Sequence/id", "a single-sequence template may only use $A, found $" + id);
      ti.is_sequence = true;
    } else if (const json* sp = field(item, "SpecialToken")) {
      const std::string name = get_string(*sp, "id", src, ipath + "/SpecialToken");
      const json* entry = specials ? field(*specials, name.c_str()) : nullptr;
      if (!entry) fail(src, path + "/special_tokens", "no entry for template token '" + name + "'");
      const json* ids = field(*entry, "ids");
      if (!ids || !ids->is_array()) fail(src, path + "/special_tokens/" + name + "/ids", "expected a list of ids");
      for (size_t k = 0; k < ids->size(); ++k)
        ti.ids.push_back(parse_id((*ids)[k], src, path + "/special_tokens/" + name + "/ids/" + std::to_string(k)));
    } else {
      fail(src, ipath, "expected {\"Sequence\": ...} or {\"SpecialToken\": ...}");
    }
    t.template_single.push_back(std::move(ti));
  }
}

std::optional<std::string> config_token(const json& config, const char* name) {
  const json* f = field(config, name);
  if (!f) return std::nullopt;
  if (f->is_string()) return f->get<std::string>();
  if (f->is_object() && f->contains("content") && (*f)["content"].is_string()) return (*f)["content"].get<std::string>();
  return std::nullopt;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Loading

HfTokenizer HfTokenizer::from_json(const nlohmann::json& doc, const std::string& source) {
  return from_json(doc, source, nlohmann::json());
}

HfTokenizer HfTokenizer::from_json(const nlohmann::json& doc, const std::string& src, const nlohmann::json& config) {
  auto t = std::make_shared<Impl>();
  t->source = src;
  if (!doc.is_object()) fail(src, "/", "expected a tokenizer.json object");

  // model
  const json* model = field(doc, "model");
  if (!model || !model->is_object()) fail(src, "/model", "missing (a BPE model is required)");
  const std::string mtype = field(*model, "type") ? type_of(*model, src, "/model") : "BPE";
  if (mtype != "BPE") fail(src, "/model/type", "unsupported model '" + mtype + "'; supported: BPE");
  const json* vocab = field(*model, "vocab");
  if (!vocab || !vocab->is_object()) fail(src, "/model/vocab", "missing (an object of token -> id is required)");
  if (const json* d = field(*model, "dropout"); d && !(d->is_number() && d->get<double>() == 0.0))
    fail(src, "/model/dropout", "BPE dropout is not supported (must be null or 0)");
  for (const char* name : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    if (!get_string(*model, name, src, "/model", std::string()).empty())
      fail(src, std::string("/model/") + name, "a non-empty value is not supported (null or \"\" only)");
  }
  // Ids are dense in real files (vocabulary 0..n-1, added tokens after it or inside it), so every
  // id is below the count of vocabulary entries and added tokens: a larger one would make the
  // id-indexed tables allocate for ids that no token has (found by tests/fuzz/fuzz_hf_tokenizer).
  const json* added_list = field(doc, "added_tokens");
  const size_t id_limit = vocab->size() + (added_list && added_list->is_array() ? added_list->size() : 0);
  auto dense_id = [&](const json& j, const std::string& path) {
    const int32_t id = parse_id(j, src, path);
    if (static_cast<size_t>(id) >= id_limit)
      fail(src, path, "token id " + std::to_string(id) + " is not below " + std::to_string(id_limit) +
                          ", the number of vocabulary entries and added tokens: ids must be dense (0..n-1)");
    return id;
  };
  std::vector<std::string> tokens;
  for (auto it = vocab->begin(); it != vocab->end(); ++it) {
    const int32_t id = dense_id(it.value(), "/model/vocab/" + it.key());
    if (static_cast<size_t>(id) >= tokens.size()) tokens.resize(id + 1);
    if (it.key().empty()) fail(src, "/model/vocab", "an empty token string (id " + std::to_string(id) + ")");
    tokens[id] = it.key();
  }
  std::vector<std::pair<std::string, std::string>> merges;
  if (const json* m = field(*model, "merges")) {
    if (!m->is_array()) fail(src, "/model/merges", "expected a list");
    merges.reserve(m->size());
    for (size_t i = 0; i < m->size(); ++i) {
      const json& e = (*m)[i];
      const std::string path = "/model/merges/" + std::to_string(i);
      if (e.is_string()) {
        const std::string s = e.get<std::string>();
        const size_t sp = s.find(' ');
        if (sp == std::string::npos || sp == 0 || sp + 1 == s.size() || s.find(' ', sp + 1) != std::string::npos)
          fail(src, path, "expected \"left right\" (two tokens, one space), found \"" + s + "\"");
        merges.emplace_back(s.substr(0, sp), s.substr(sp + 1));
      } else if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string()) {
        merges.emplace_back(e[0].get<std::string>(), e[1].get<std::string>());
      } else {
        fail(src, path, "expected \"left right\" or [\"left\", \"right\"], found " + e.dump().substr(0, 80));
      }
    }
  }

  // pipeline steps
  if (const json* n = field(doc, "normalizer")) parse_normalizer(*n, src, "/normalizer", t->normalizers);
  if (const json* p = field(doc, "pre_tokenizer")) parse_pre_tokenizer(*p, src, "/pre_tokenizer", t->pre_tokenizers);
  if (const json* d = field(doc, "decoder")) {
    parse_decoder(*d, src, "/decoder", t->decoders);
    t->has_decoder = true;
  }
  if (const json* p = field(doc, "post_processor")) parse_post_processor(*p, src, "/post_processor", *t);
  const bool byte_level = std::any_of(t->pre_tokenizers.begin(), t->pre_tokenizers.end(),
                                      [](const PreStep& s) { return s.kind == PreKind::ByteLevel; });
  if (std::any_of(t->pre_tokenizers.begin(), t->pre_tokenizers.end(),
                  [](const PreStep& s) { return s.kind == PreKind::ByteLevel && s.use_regex; })) {
    t->gpt2_regex = std::make_shared<const uc::Regex>(
        R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)");
  }

  BpeOptions opt;
  opt.byte_level = byte_level;
  opt.ignore_merges = get_bool(*model, "ignore_merges", false, src, "/model");
  opt.byte_fallback = get_bool(*model, "byte_fallback", false, src, "/model");
  opt.fuse_unk = get_bool(*model, "fuse_unk", false, src, "/model");
  if (const json* u = field(*model, "unk_token")) {
    if (!u->is_string()) fail(src, "/model/unk_token", "expected a string");
    const std::string name = u->get<std::string>();
    const auto it = vocab->find(name);
    if (it == vocab->end()) fail(src, "/model/unk_token", "'" + name + "' is not in /model/vocab");
    opt.unk_id = it->get<int32_t>();
  }
  try {
    t->model = BpeModel(std::move(tokens), merges, opt);
  } catch (const std::invalid_argument& e) {
    fail(src, "/model/merges", e.what());
  }

  // added tokens. As tokenizers' AddedVocabulary::add_tokens, the file's ids are not taken as
  // given: a content already in the vocabulary keeps that id, a new one gets the next free id
  // after the model's vocabulary (the real files agree with this; tokenizers only warns otherwise).
  std::vector<AddedToken> listed;
  if (const json* added = field(doc, "added_tokens")) {
    if (!added->is_array()) fail(src, "/added_tokens", "expected a list");
    for (size_t i = 0; i < added->size(); ++i) {
      const json& a = (*added)[i];
      const std::string path = "/added_tokens/" + std::to_string(i);
      AddedToken tok;
      const json* id = field(a, "id");
      if (!id) fail(src, path + "/id", "missing");
      tok.id = dense_id(*id, path + "/id");
      tok.content = get_string(a, "content", src, path);
      if (tok.content.empty()) fail(src, path + "/content", "an added token may not be empty");
      tok.special = get_bool(a, "special", false, src, path);
      tok.lstrip = get_bool(a, "lstrip", false, src, path);
      tok.rstrip = get_bool(a, "rstrip", false, src, path);
      tok.single_word = get_bool(a, "single_word", false, src, path);
      tok.normalized = get_bool(a, "normalized", !tok.special, src, path);
      listed.push_back(std::move(tok));
    }
  }
  std::map<std::string, int32_t> added_ids;  // content -> id
  std::map<int32_t, AddedToken> added_by_id;
  int32_t next_id = static_cast<int32_t>(t->model.entries());
  for (AddedToken& tok : listed) {
    int32_t id;
    if (auto it = added_ids.find(tok.content); it != added_ids.end()) id = it->second;
    else if (const int32_t m = t->model.find(tok.content); m >= 0) id = m;
    else id = next_id++;
    tok.id = id;
    added_ids[tok.content] = id;
    added_by_id[id] = tok;
  }
  int32_t max_id = t->model.size() - 1;
  for (auto& [id, tok] : added_by_id) {
    max_id = std::max(max_id, id);
    t->added.push_back(tok);
  }
  t->vocab_size = max_id + 1;
  t->added_index_of_id.assign(t->vocab_size, -1);
  for (size_t i = 0; i < t->added.size(); ++i) {
    AddedToken& a = t->added[i];
    t->added_index_of_id[a.id] = static_cast<int32_t>(i);
    a.normalized_content = t->normalize(a.content);
    if (a.normalized) t->normalized_trie.add(a.normalized_content, static_cast<int32_t>(i));
    else t->raw_trie.add(a.content, static_cast<int32_t>(i));
  }
  for (const TemplateItem& ti : t->template_single)
    for (int32_t id : ti.ids)
      if (id >= t->vocab_size) fail(src, "/post_processor", "template token id " + std::to_string(id) + " is outside the vocabulary");

  // tokenizer_config.json
  auto id_of = [&](const std::string& name) -> std::optional<int32_t> {
    for (const AddedToken& a : t->added)
      if (a.content == name) return a.id;
    const int32_t id = t->model.find(name);
    if (id >= 0) return id;
    return std::nullopt;
  };
  if (!config.is_null()) {
    if (!config.is_object()) fail(src, "tokenizer_config", "expected an object");
    for (const char* name : {"bos_token", "eos_token"}) {
      if (auto tok = config_token(config, name)) {
        const auto id = id_of(*tok);
        if (!id) fail(src, std::string("tokenizer_config/") + name, "'" + *tok + "' is not a token of this tokenizer");
        (std::string(name) == "bos_token" ? t->bos : t->eos) = id;
      }
    }
    if (const json* ct = field(config, "chat_template")) {
      if (ct->is_string()) {
        t->chat_template = ct->get<std::string>();
      } else if (ct->is_array()) {  // [{"name": "default", "template": ...}, ...]
        for (const json& e : *ct)
          if (e.is_object() && e.value("name", "") == "default" && e.contains("template") && e["template"].is_string())
            t->chat_template = e["template"].get<std::string>();
      }
    }
    if (const json* c = field(config, "clean_up_tokenization_spaces"); c && c->is_boolean())
      t->clean_up_spaces = c->get<bool>();
  }
  if (!t->bos && !t->template_single.empty() && !t->template_single.front().is_sequence &&
      !t->template_single.front().ids.empty())
    t->bos = t->template_single.front().ids.front();
  if (!t->eos && t->template_single.size() > 1 && !t->template_single.back().is_sequence &&
      !t->template_single.back().ids.empty())
    t->eos = t->template_single.back().ids.back();
  return HfTokenizer(std::move(t));
}

HfTokenizer HfTokenizer::load(const std::string& path) {
  std::error_code ec;
  if ((path.size() >= 5 && path.compare(path.size() - 5, 5, ".gguf") == 0) ||
      (fs::is_regular_file(path, ec) && gguf::looks_like_gguf(path)))
    return load_gguf_tokenizer(path);  // builds the tokenizer.json document and calls from_json
  std::string file = path;
  if (fs::is_directory(path, ec)) {
    file = (fs::path(path) / "tokenizer.json").string();
    if (!fs::exists(file, ec))
      throw InputError(path + ": folder has no tokenizer.json; give a tokenizer.json, a folder holding one, or a .gguf");
  }
  const nlohmann::json doc = read_json_file(file);
  const fs::path config_path = fs::path(file).parent_path() / "tokenizer_config.json";
  nlohmann::json config;
  if (fs::exists(config_path, ec)) config = read_json_file(config_path.string());
  return from_json(doc, file, config);
}

// ---------------------------------------------------------------------------------------------
// Encoding

std::string HfTokenizer::Impl::normalize(std::string_view s) const {
  std::string out(s);
  for (const NormStep& n : normalizers) {
    switch (n.kind) {
      case NormKind::NFC: out = uc::normalize(out, uc::NormalForm::NFC); break;
      case NormKind::NFD: out = uc::normalize(out, uc::NormalForm::NFD); break;
      case NormKind::NFKC: out = uc::normalize(out, uc::NormalForm::NFKC); break;
      case NormKind::NFKD: out = uc::normalize(out, uc::NormalForm::NFKD); break;
      case NormKind::Prepend:
        if (!out.empty()) out = n.text + out;
        break;
      case NormKind::Replace: out = replace_all(out, n.pattern, n.text); break;
    }
  }
  return out;
}

template <class OnText, class OnToken>
void HfTokenizer::Impl::split_added(std::string_view s, const TokenTrie& trie, OnText on_text, OnToken on_token) const {
  if (trie.empty()) {
    on_text(0, s.size());
    return;
  }
  size_t start_offset = 0, from = 0;
  for (;;) {
    auto [b, e, index] = trie.find(s, from);
    if (index < 0) break;
    from = e;
    const AddedToken& tok = added[index];
    if (tok.single_word) {
      const bool start_space = b == 0 || !ends_with_word(s.substr(0, b));
      const bool stop_space = e == s.size() || !starts_with_word(s.substr(e));
      if (!start_space || !stop_space) continue;
    }
    if (tok.lstrip) {  // take the white space before it (but not past the previous token)
      size_t nb = b;
      while (nb > 0) {
        size_t k = nb - 1;
        while (k > 0 && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80) --k;
        int len = 0;
        if (!uc::is_white_space(uc::decode_at(s, k, &len))) break;
        nb = k;
      }
      b = std::max(nb, start_offset);
    }
    if (tok.rstrip) {
      while (e < s.size()) {
        int len = 0;
        if (!uc::is_white_space(uc::decode_at(s, e, &len))) break;
        e += len;
      }
      from = e;
    }
    if (start_offset < b) on_text(start_offset, b);
    on_token(tok.id);
    start_offset = e;
  }
  if (start_offset < s.size()) on_text(start_offset, s.size());
}

namespace {

struct Piece {
  uint32_t begin, end;
  bool origin;  // starts at offset 0 of the original text (Metaspace's prepend_scheme "first")
};

struct Flagged {
  uint32_t begin, end;
  bool is_match;
};

// tokenizers' NormalizedString::split: `m` covers the piece (matches and the gaps between them);
// appends the resulting non-empty sub-pieces, offset by `base`.
void split_by(const std::vector<Flagged>& m, Behavior behavior, uint32_t base, bool origin, std::vector<Piece>& out) {
  std::vector<Flagged> kept;
  const std::vector<Flagged>* pieces = &kept;
  switch (behavior) {
    case Behavior::Isolated:
    case Behavior::Removed:
      pieces = &m;
      break;
    case Behavior::Contiguous: {
      bool previous = false;
      for (const Flagged& f : m) {
        if (f.is_match == previous && !kept.empty()) kept.back().end = f.end;
        else kept.push_back({f.begin, f.end, false});
        previous = f.is_match;
      }
      for (Flagged& f : kept) f.is_match = false;
      break;
    }
    case Behavior::MergedWithPrevious: {
      bool previous = false;
      for (const Flagged& f : m) {
        if (f.is_match && !previous && !kept.empty()) kept.back().end = f.end;
        else kept.push_back({f.begin, f.end, false});
        previous = f.is_match;
      }
      break;
    }
    case Behavior::MergedWithNext: {
      bool previous = false;
      for (auto it = m.rbegin(); it != m.rend(); ++it) {
        if (it->is_match && !previous && !kept.empty()) kept.back().begin = it->begin;
        else kept.push_back({it->begin, it->end, false});
        previous = it->is_match;
      }
      std::reverse(kept.begin(), kept.end());
      break;
    }
  }
  for (const Flagged& f : *pieces) {
    if (behavior == Behavior::Removed && f.is_match) continue;
    if (f.end > f.begin) out.push_back({base + f.begin, base + f.end, origin && f.begin == 0});
  }
}

// Matches of a regex or string in s, with the gaps, as tokenizers' Pattern::find_matches.
void cover(std::string_view s, const std::vector<Span>& matches, bool invert, std::vector<Flagged>& out) {
  out.clear();
  uint32_t prev = 0;
  for (auto [b, e] : matches) {
    if (prev != b) out.push_back({prev, b, invert});
    out.push_back({b, e, !invert});
    prev = e;
  }
  if (prev != s.size()) out.push_back({prev, static_cast<uint32_t>(s.size()), invert});
}

}  // namespace

void HfTokenizer::Impl::pre_tokenize_and_model(std::string_view text, bool origin, std::vector<int32_t>& out) const {
  if (text.empty()) return;
  if (pre_tokenizers.empty()) {
    model.encode_word(text, out);
    return;
  }
  std::string buf(text);
  std::vector<Piece> pieces{{0, static_cast<uint32_t>(text.size()), origin}}, next;
  std::vector<Span> matches;
  std::vector<Flagged> flagged;
  for (const PreStep& step : pre_tokenizers) {
    next.clear();
    for (const Piece& p : pieces) {
      switch (step.kind) {
        case PreKind::Split: {
          const std::string_view s(buf.data() + p.begin, p.end - p.begin);
          matches.clear();
          step.pattern.find(s, matches);
          if (step.behavior == Behavior::Isolated) {  // the common case, without the copy
            uint32_t prev = 0;
            for (auto [b, e] : matches) {
              if (prev != b) next.push_back({p.begin + prev, p.begin + b, p.origin && prev == 0});
              if (e > b) next.push_back({p.begin + b, p.begin + e, p.origin && b == 0});
              prev = e;
            }
            if (prev != s.size()) next.push_back({p.begin + prev, p.end, p.origin && prev == 0});
          } else {
            cover(s, matches, step.invert, flagged);
            split_by(flagged, step.behavior, p.begin, p.origin, next);
          }
          break;
        }
        case PreKind::ByteLevel: {
          Piece q = p;
          if (step.add_prefix_space && buf[p.begin] != ' ') {
            const std::string moved = " " + buf.substr(p.begin, p.end - p.begin);
            q = {static_cast<uint32_t>(buf.size()), static_cast<uint32_t>(buf.size() + moved.size()), p.origin};
            buf += moved;
          }
          if (!step.use_regex) {
            next.push_back(q);
            break;
          }
          const std::string_view s(buf.data() + q.begin, q.end - q.begin);
          matches.clear();
          gpt2_regex->find_all(s, matches);
          cover(s, matches, false, flagged);
          split_by(flagged, Behavior::Isolated, q.begin, q.origin, next);
          break;
        }
        case PreKind::Digits: {
          const std::string_view s(buf.data() + p.begin, p.end - p.begin);
          matches.clear();
          for (size_t i = 0; i < s.size();) {
            int len = 1;
            bool numeric;
            if (step.on_byte_alphabet) numeric = uc::is_numeric(uc::byte_to_char(static_cast<uint8_t>(s[i])));
            else numeric = uc::is_numeric(uc::decode_at(s, i, &len));
            if (numeric) matches.emplace_back(static_cast<uint32_t>(i), static_cast<uint32_t>(i + len));
            i += len;
          }
          cover(s, matches, false, flagged);
          split_by(flagged, step.individual_digits ? Behavior::Isolated : Behavior::Contiguous, p.begin, p.origin, next);
          break;
        }
        case PreKind::Metaspace: {
          std::string s;
          for (uint32_t i = p.begin; i < p.end; ++i) {
            if (buf[i] == ' ') s += step.replacement; else s += buf[i];
          }
          const bool prepend = step.prepend == PrependScheme::Always || (step.prepend == PrependScheme::First && p.origin);
          if (prepend && !s.empty() && s.compare(0, step.replacement.size(), step.replacement) != 0)
            s = step.replacement + s;
          const uint32_t base = static_cast<uint32_t>(buf.size());
          buf += s;
          if (!step.split) {
            next.push_back({base, static_cast<uint32_t>(buf.size()), p.origin});
            break;
          }
          matches.clear();
          Pattern lit;
          lit.literal = step.replacement;
          lit.find(s, matches);
          cover(s, matches, false, flagged);
          split_by(flagged, Behavior::MergedWithNext, base, p.origin, next);
          break;
        }
      }
    }
    pieces.swap(next);
  }
  for (const Piece& p : pieces) model.encode_word(std::string_view(buf.data() + p.begin, p.end - p.begin), out);
}

void HfTokenizer::Impl::encode_segment(std::string_view text, bool origin, std::vector<int32_t>& out) const {
  if (normalizers.empty() && normalized_trie.empty()) {
    pre_tokenize_and_model(text, origin, out);
    return;
  }
  const std::string normalized = normalize(text);
  const std::string_view n(normalized);
  split_added(
      n, normalized_trie,
      [&](size_t b, size_t e) { pre_tokenize_and_model(n.substr(b, e - b), origin && b == 0, out); },
      [&](int32_t id) { out.push_back(id); });
}

std::vector<int32_t> HfTokenizer::encode(std::string_view text, bool add_special_tokens) const {
  const Impl& t = *impl_;
  const size_t valid = uc::valid_utf8_prefix(text);
  if (valid != text.size())
    throw InputError(t.source + ": cannot encode: the text is not valid UTF-8 at byte " + std::to_string(valid));
  std::vector<int32_t> ids;
  ids.reserve(text.size() / 3 + 4);
  t.split_added(
      text, t.raw_trie, [&](size_t b, size_t e) { t.encode_segment(text.substr(b, e - b), b == 0, ids); },
      [&](int32_t id) { ids.push_back(id); });
  if (!add_special_tokens || !t.has_template) return ids;
  std::vector<int32_t> out;
  out.reserve(ids.size() + 4);
  for (const TemplateItem& ti : t.template_single) {
    if (ti.is_sequence) out.insert(out.end(), ids.begin(), ids.end());
    else out.insert(out.end(), ti.ids.begin(), ti.ids.end());
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Decoding

namespace {

std::string replace_chars(const std::string& s, char32_t from, const char* to_first, const char* to_rest, bool first) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    int len = 0;
    const char32_t c = uc::decode_at(s, i, &len);
    if (c == from) out += first ? to_first : to_rest;
    else out.append(s, i, len);
    i += len;
  }
  return out;
}

void decode_step(const DecStep& d, std::vector<std::string>& tokens) {
  switch (d.kind) {
    case DecKind::ByteLevel: {
      std::string bytes;
      for (const std::string& t : tokens) {
        const size_t start = bytes.size();
        bool mapped = true;
        for (size_t i = 0; i < t.size();) {
          int len = 0;
          const int b = uc::char_to_byte(uc::decode_at(t, i, &len));
          if (b < 0) {
            mapped = false;
            break;
          }
          bytes.push_back(static_cast<char>(b));
          i += len;
        }
        if (!mapped) {  // a token outside the byte alphabet passes as its own UTF-8
          bytes.resize(start);
          bytes += t;
        }
      }
      tokens.assign(1, uc::utf8_lossy(bytes));
      break;
    }
    case DecKind::Metaspace:
      for (size_t i = 0; i < tokens.size(); ++i)
        tokens[i] = replace_chars(tokens[i], d.character, "", " ", i == 0 && d.prepend != PrependScheme::Never);
      break;
    case DecKind::Replace:
      for (std::string& t : tokens) t = replace_all(t, d.pattern, d.content);
      break;
    case DecKind::ByteFallback: {
      std::vector<std::string> out;
      std::string bytes;
      auto flush = [&] {
        if (bytes.empty()) return;
        if (uc::valid_utf8_prefix(bytes) == bytes.size()) out.push_back(bytes);
        else
          for (size_t i = 0; i < bytes.size(); ++i) out.emplace_back("\xEF\xBF\xBD");
        bytes.clear();
      };
      auto hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
      for (std::string& t : tokens) {
        if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>' && hex(t[3]) && hex(t[4])) {
          bytes.push_back(static_cast<char>(std::stoi(t.substr(3, 2), nullptr, 16)));
        } else {
          flush();
          out.push_back(std::move(t));
        }
      }
      flush();
      tokens.swap(out);
      break;
    }
    case DecKind::Fuse: {
      std::string all;
      for (const std::string& t : tokens) all += t;
      tokens.assign(1, all);
      break;
    }
    case DecKind::Strip:
      for (std::string& t : tokens) {
        std::vector<std::pair<size_t, int>> chars;  // (offset, length)
        for (size_t i = 0; i < t.size();) {
          int len = 0;
          uc::decode_at(t, i, &len);
          chars.emplace_back(i, len);
          i += len;
        }
        size_t start_cut = 0;
        for (size_t i = 0; i < std::min(d.start, chars.size()); ++i) {
          int len = 0;
          if (uc::decode_at(t, chars[i].first, &len) != d.character) break;
          start_cut = i + 1;
        }
        size_t stop_cut = chars.size();
        for (size_t i = 0; i < d.stop && i < chars.size(); ++i) {
          const size_t index = chars.size() - i - 1;
          int len = 0;
          if (uc::decode_at(t, chars[index].first, &len) != d.character) break;
          stop_cut = index;
        }
        if (stop_cut <= start_cut) {
          t.clear();
        } else {
          const size_t b = start_cut < chars.size() ? chars[start_cut].first : t.size();
          const size_t e = stop_cut < chars.size() ? chars[stop_cut].first : t.size();
          t = t.substr(b, e - b);
        }
      }
      break;
  }
}

// transformers' clean_up_tokenization: no space before punctuation and in English contractions.
std::string clean_up_spaces(std::string s) {
  static const std::pair<const char*, const char*> rules[] = {
      {" .", "."}, {" ?", "?"}, {" !", "!"}, {" ,", ","}, {" ' ", "'"},
      {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
  for (auto [from, to] : rules) {
    Pattern p;
    p.literal = from;
    s = replace_all(s, p, to);
  }
  return s;
}

}  // namespace

std::string HfTokenizer::decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const {
  const Impl& t = *impl_;
  std::vector<std::string> tokens;
  tokens.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    const int32_t id = ids[i];
    if (id < 0 || id >= t.vocab_size)
      throw InputError(t.source + ": cannot decode id " + std::to_string(id) + " (position " + std::to_string(i) +
                       "): outside the vocabulary [0, " + std::to_string(t.vocab_size) + ")");
    if (skip_special_tokens && is_special(id)) continue;
    const std::string& s = t.token_string(id);
    if (!s.empty()) tokens.push_back(s);
  }
  std::string text;
  if (t.has_decoder) {
    for (const DecStep& d : t.decoders) decode_step(d, tokens);
    for (const std::string& s : tokens) text += s;
  } else {
    for (size_t i = 0; i < tokens.size(); ++i) text += (i ? " " : "") + tokens[i];
  }
  return t.clean_up_spaces ? clean_up_spaces(std::move(text)) : text;
}

// ---------------------------------------------------------------------------------------------
// Vocabulary

int32_t HfTokenizer::vocab_size() const { return impl_->vocab_size; }

std::optional<int32_t> HfTokenizer::token_to_id(std::string_view token) const {
  for (const AddedToken& a : impl_->added)
    if (a.content == token) return a.id;
  const int32_t id = impl_->model.find(token);
  if (id >= 0) return id;
  return std::nullopt;
}

std::string HfTokenizer::id_to_token(int32_t id) const {
  if (id < 0 || id >= impl_->vocab_size)
    throw InputError(impl_->source + ": token id " + std::to_string(id) + " is outside the vocabulary [0, " +
                     std::to_string(impl_->vocab_size) + ")");
  return impl_->token_string(id);
}

std::optional<int32_t> HfTokenizer::bos_id() const { return impl_->bos; }
std::optional<int32_t> HfTokenizer::eos_id() const { return impl_->eos; }
const std::string& HfTokenizer::chat_template() const { return impl_->chat_template; }
const std::string& HfTokenizer::source() const { return impl_->source; }

bool HfTokenizer::is_special(int32_t id) const {
  if (id < 0 || id >= impl_->vocab_size) return false;
  const int32_t a = impl_->added_index_of_id[id];
  return a >= 0 && impl_->added[a].special;
}

}  // namespace lb
