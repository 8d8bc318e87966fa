// The tokenizer of a GGUF file (tokenizer.ggml.*) as a tokenizer.json document for HfTokenizer.
//
// What each part follows:
//   vocabulary, merges, added tokens: transformers' GGUF tokenizer builder (integrations/gguf):
//     byte-level spelling of tokens written outside the GPT-2 byte alphabet; tokens of type 3
//     (CONTROL) become special added tokens, type 4 (USER_DEFINED) plain added tokens.
//   pre-tokenizer: llama.cpp's llama-vocab.cpp for tokenizer.ggml.pre. For "smollm" (SmolLM,
//     SmolLM2; llama.cpp treats it as StarCoder's) that is each digit on its own, then GPT-2's regex
//     (as tokenizer.json: Digits(individual_digits) + ByteLevel).
//     transformers 5.x leaves "smollm" at GPT-2's regex alone, which differs on a run of spaces
//     before a digit ("  5": llama.cpp and the original tokenizer give "ĠĠ" "5", transformers'
//     GGUF tokenizer "Ġ" "Ġ" "5"); tests/core/test_gguf.cpp checks both.
#include "core/gguf_tokenizer.h"

#include "core/json_io.h"
#include "core/unicode_text.h"

#include <map>

namespace lb {

namespace {

using json = nlohmann::json;

const char* kLlama3Split =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+"
    "|\\s+(?!\\S)|\\s+";

json byte_level(bool use_regex) {
  return {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", use_regex}};
}

// tokenizer.ggml.pre -> the pre-tokenizer llama.cpp applies for it.
struct PreType {
  const char* names[6];
  int kind;  // 0: GPT-2 regex; 1: digits one by one, then GPT-2 regex; 2: Llama 3 regex
};
const PreType kPreTypes[] = {
    {{"gpt2", "mpt", "olmo", "jais", nullptr}, 0},
    {{"smollm", "starcoder", "refact", "codeshell", nullptr}, 1},
    {{"llama-bpe", "llama3", "llama-v3", "smaug-bpe", "falcon3", nullptr}, 2},
};

json pre_tokenizer_for(const gguf::File& f, const std::string& pre) {
  for (const auto& t : kPreTypes)
    for (const char* const* n = t.names; *n; ++n)
      if (pre == *n) {
        if (t.kind == 0) return byte_level(true);
        if (t.kind == 1)
          return {{"type", "Sequence"},
                  {"pretokenizers", json::array({{{"type", "Digits"}, {"individual_digits", true}}, byte_level(true)})}};
        return {{"type", "Sequence"},
                {"pretokenizers", json::array({{{"type", "Split"},
                                                {"pattern", {{"Regex", kLlama3Split}}},
                                                {"behavior", "Isolated"},
                                                {"invert", false}},
                                               byte_level(false)})}};
      }
  throw InputError(f.path() + ": metadata key 'tokenizer.ggml.pre' is '" + pre +
                   "'; supported pre-tokenizers: " + gguf_pre_tokenizers());
}

}  // namespace

std::string gguf_pre_tokenizers() {
  std::string s;
  for (const auto& t : kPreTypes)
    for (const char* const* n = t.names; *n; ++n) s += (s.empty() ? "" : ", ") + std::string(*n);
  return s;
}

json gguf_tokenizer_json(const gguf::File& f, json* config) {
  const std::string model = f.get_string("tokenizer.ggml.model", std::string(""));
  if (model.empty())
    throw InputError(f.path() + ": metadata key 'tokenizer.ggml.model' is missing; the file carries no tokenizer "
                     "(give a tokenizer.json with --tokenizer)");
  if (model != "gpt2")
    throw InputError(f.path() + ": metadata key 'tokenizer.ggml.model' is '" + model +
                     "'; supported: gpt2 (byte-level BPE, as Llama 3.x, SmolLM2, Qwen2); for a SentencePiece model "
                     "give its tokenizer.json");
  const std::vector<std::string> tokens = f.get_string_array("tokenizer.ggml.tokens");
  const std::vector<std::string> merges = f.get_string_array("tokenizer.ggml.merges");
  std::vector<int64_t> types;
  if (f.find("tokenizer.ggml.token_type")) {
    types = f.get_int_array("tokenizer.ggml.token_type");
    if (types.size() != tokens.size())
      throw InputError(f.path() + ": metadata key 'tokenizer.ggml.token_type' has " + std::to_string(types.size()) +
                       " entries for " + std::to_string(tokens.size()) + " tokens");
  }
  const std::string pre = f.get_string("tokenizer.ggml.pre", std::string("gpt2"));

  json vocab = json::object();
  std::vector<std::string> spelled(tokens.size());
  std::vector<bool> byte_spelled(tokens.size(), false);
  for (size_t id = 0; id < tokens.size(); ++id) {
    const std::string& t = tokens[id];
    if (unicode::valid_utf8_prefix(t) != t.size())
      throw InputError(f.path() + ": metadata key 'tokenizer.ggml.tokens' entry " + std::to_string(id) +
                       " is not valid UTF-8");
    bool ok = true;
    for (size_t i = 0; i < t.size() && ok;) {
      int len = 1;
      ok = unicode::char_to_byte(unicode::decode_at(t, i, &len)) >= 0;
      i += static_cast<size_t>(len);
    }
    byte_spelled[id] = ok;
    if (ok) {
      spelled[id] = t;
    } else {  // written as text: respell its UTF-8 bytes in the byte alphabet, as transformers does
      for (unsigned char ch : t) unicode::append_utf8(spelled[id], unicode::byte_to_char(ch));
    }
    vocab[spelled[id]] = static_cast<int64_t>(id);
  }
  json added = json::array();
  auto add = [&](size_t id, bool special) {
    const std::string& t = spelled[id];
    added.push_back({{"id", vocab[t]}, {"content", t}, {"single_word", false}, {"lstrip", false},
                     {"rstrip", false}, {"normalized", false}, {"special", special}});
  };
  for (size_t id = 0; id < types.size(); ++id)
    if (types[id] == 3 && byte_spelled[id]) add(id, true);  // CONTROL
  for (size_t id = 0; id < types.size(); ++id)
    if (types[id] == 4 && byte_spelled[id]) add(id, false);  // USER_DEFINED

  auto token_of = [&](const char* key) -> std::optional<std::string> {
    const std::string k = std::string("tokenizer.ggml.") + key;
    if (!f.find(k)) return std::nullopt;
    const int64_t id = f.get_int(k);
    if (id >= static_cast<int64_t>(tokens.size()))
      throw InputError(f.path() + ": metadata key '" + k + "' is " + std::to_string(id) + ", outside the " +
                       std::to_string(tokens.size()) + " tokens");
    return spelled[id];
  };
  const auto bos = token_of("bos_token_id"), eos = token_of("eos_token_id");
  json post = nullptr;
  const bool add_bos = f.get_bool("tokenizer.ggml.add_bos_token", false) && bos;
  const bool add_eos = f.get_bool("tokenizer.ggml.add_eos_token", false) && eos;
  if (add_bos || add_eos) {
    json single = json::array(), pair = json::array(), specials = json::object();
    auto special = [&](const std::string& t) {
      specials[t] = {{"id", t}, {"ids", json::array({vocab[t]})}, {"tokens", json::array({t})}};
      return json{{"SpecialToken", {{"id", t}, {"type_id", 0}}}};
    };
    if (add_bos) single.push_back(special(*bos));
    single.push_back({{"Sequence", {{"id", "A"}, {"type_id", 0}}}});
    if (add_eos) single.push_back(special(*eos));
    pair = single;
    pair.push_back({{"Sequence", {{"id", "B"}, {"type_id", 1}}}});
    post = {{"type", "TemplateProcessing"}, {"single", single}, {"pair", pair}, {"special_tokens", specials}};
  }
  json doc = {{"version", "1.0"},
              {"truncation", nullptr},
              {"padding", nullptr},
              {"added_tokens", added},
              {"normalizer", nullptr},
              {"pre_tokenizer", pre_tokenizer_for(f, pre)},
              {"post_processor", post},
              {"decoder", {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}}},
              {"model",
               {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"continuing_subword_prefix", ""},
                {"end_of_word_suffix", ""}, {"fuse_unk", false}, {"byte_fallback", false}, {"ignore_merges", false},
                {"vocab", std::move(vocab)}, {"merges", merges}}}};
  if (config) {
    *config = json::object();
    if (bos) (*config)["bos_token"] = *bos;
    if (eos) (*config)["eos_token"] = *eos;
    if (f.find("tokenizer.chat_template")) (*config)["chat_template"] = f.get_string("tokenizer.chat_template");
    (*config)["clean_up_tokenization_spaces"] = false;
  }
  return doc;
}

HfTokenizer load_gguf_tokenizer(const std::string& path) {
  gguf::File f(path);
  json config;
  const json doc = gguf_tokenizer_json(f, &config);
  return HfTokenizer::from_json(doc, path + " (tokenizer.ggml.* metadata)", config);
}

}  // namespace lb
