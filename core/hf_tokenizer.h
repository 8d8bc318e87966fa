// A Hugging Face `tokenizer.json` tokenizer (the `tokenizers` library's format): added and special
// tokens, normalizers, pre-tokenizers, the BPE model (byte-level or SentencePiece-style with byte
// fallback), post-processor and decoders, giving the ids Hugging Face gives (checked against its
// references for Llama 3.1, Qwen3 and Mistral in tests/core/test_hf_tokenizer.cpp).
//
// Supported (anything else is an InputError naming the file, the JSON path and the supported set):
//   model: BPE (vocab, merges as "a b" or ["a","b"], byte_fallback, unk_token, fuse_unk, ignore_merges)
//   normalizer: NFC, NFD, NFKC, NFKD, Prepend, Replace (String or Regex), Sequence
//   pre_tokenizer: Split (Regex or String; Isolated, Removed, MergedWithPrevious, MergedWithNext,
//                  Contiguous; invert), ByteLevel (add_prefix_space, use_regex), Digits, Metaspace, Sequence
//   post_processor: TemplateProcessing, ByteLevel, Sequence
//   decoder: ByteLevel, Metaspace, Replace, ByteFallback, Fuse, Strip, Sequence
// Regexes run on PCRE2 (UTF, UCP, JIT); Hugging Face runs them on Oniguruma.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lb {

class HfTokenizer {
 public:
  // `doc` is the content of a tokenizer.json; `source` names it in error messages.
  static HfTokenizer from_json(const nlohmann::json& doc, const std::string& source);
  // The same, with the content of a tokenizer_config.json (bos_token, eos_token, chat_template,
  // clean_up_tokenization_spaces); a null `config` means none.
  static HfTokenizer from_json(const nlohmann::json& doc, const std::string& source, const nlohmann::json& config);
  // A tokenizer.json file, or a folder holding one; tokenizer_config.json beside it is read when
  // present. A .gguf file: the tokenizer its tokenizer.ggml.* metadata describes
  // (core/gguf_tokenizer.h: load_gguf_tokenizer builds the tokenizer.json document and calls from_json).
  static HfTokenizer load(const std::string& path);

  // Text must be valid UTF-8 (else InputError). Added tokens written in the text are matched, as in
  // Hugging Face, whatever add_special_tokens says; add_special_tokens applies the post-processor
  // (e.g. Llama's and Mistral's bos).
  std::vector<int32_t> encode(std::string_view text, bool add_special_tokens) const;
  // Hugging Face's decode through the decoders, then transformers' clean-up of spaces before
  // punctuation when tokenizer_config.json sets clean_up_tokenization_spaces (Llama 3.1 does). An id
  // outside [0, vocab_size()) is an InputError.
  std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens = false) const;

  // Largest id + 1 over the model's vocabulary and the added tokens (Hugging Face's
  // get_vocab_size(with_added_tokens=True) for these files: 128256, 151669, 32000).
  int32_t vocab_size() const;
  std::optional<int32_t> token_to_id(std::string_view token) const;  // added tokens first, then the model's
  // As tokenizers: a normalized added token shows its normalized form; "" for an id in range
  // that names no token.
  std::string id_to_token(int32_t id) const;
  // From tokenizer_config.json when it names one, else from the post-processor's template.
  std::optional<int32_t> bos_id() const;
  std::optional<int32_t> eos_id() const;

  // tokenizer_config.json's chat_template, "" when none.
  const std::string& chat_template() const;
  bool is_special(int32_t id) const;  // an added token marked special
  const std::string& source() const;

  struct Impl;

 private:
  explicit HfTokenizer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

}  // namespace lb
