// The BPE model of a Hugging Face tokenizer: vocabulary, merges by rank, byte fallback and unknown
// tokens, exactly as tokenizers' models/bpe does it, with a per-thread cache of word -> ids.
// Byte-level models (GPT-2, Llama 3, Qwen) work on raw bytes: their vocabulary is translated from
// GPT-2's printable byte alphabet once, at load time, so no text is ever mapped to that alphabet.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lb {

// Open-addressing hash map from byte strings to non-negative int32 values; keys live in one arena.
class StringTable {
 public:
  void reserve(size_t n);
  bool insert(std::string_view key, int32_t value);  // false (value kept) when the key is present
  int32_t find(std::string_view key) const;          // -1 when absent
  size_t size() const { return count_; }

 private:
  struct Slot {
    uint64_t hash = 0;
    uint32_t offset = 0;
    uint32_t length = 0;
    int32_t value = -1;  // -1: empty slot
  };
  void grow();
  std::vector<Slot> slots_;
  std::string arena_;
  size_t count_ = 0;
};

// Map from a pair of token ids to its merge (rank, id of the merged token).
class PairTable {
 public:
  struct Merge {
    int32_t rank;
    int32_t new_id;
  };
  void reserve(size_t n);
  bool insert(int32_t left, int32_t right, Merge m);  // false when the pair is present
  const Merge* find(int32_t left, int32_t right) const;
  size_t size() const { return count_; }

 private:
  struct Slot {
    uint64_t key = ~uint64_t{0};  // ~0: empty
    Merge merge{0, 0};
  };
  void grow();
  std::vector<Slot> slots_;
  size_t count_ = 0;
};

struct BpeOptions {
  bool byte_level = false;     // words arrive as raw bytes; vocab keys are GPT-2 byte-alphabet strings
  bool ignore_merges = false;  // a word that is itself in the vocabulary is one token
  bool byte_fallback = false;  // unknown characters become <0xNN> tokens
  bool fuse_unk = false;       // consecutive unknown characters make one unknown token
  std::optional<int32_t> unk_id;
};

class BpeModel {
 public:
  BpeModel() = default;
  // tokens[id] is the vocabulary's string for id (empty where the id has none); merges are pairs of
  // token strings in rank order. Throws std::invalid_argument naming the offending merge or token.
  BpeModel(std::vector<std::string> tokens, const std::vector<std::pair<std::string, std::string>>& merges,
           BpeOptions options);

  // Appends the ids of one pre-tokenised word (raw bytes for byte-level models).
  void encode_word(std::string_view word, std::vector<int32_t>& out) const;
  // The uncached reference path (tests compare the two).
  void encode_word_uncached(std::string_view word, std::vector<int32_t>& out) const;

  int32_t size() const { return static_cast<int32_t>(tokens_.size()); }  // largest id + 1
  size_t entries() const { return vocab_.size(); }                      // distinct token strings
  const std::string& token(int32_t id) const { return tokens_[id]; }  // as in the vocabulary
  int32_t find(std::string_view token) const;                       // by vocabulary string; -1 if none
  const BpeOptions& options() const { return options_; }

 private:
  void initial_symbols(std::string_view word, std::vector<int32_t>& ids) const;
  void merge_small(std::vector<int32_t>& ids) const;
  void merge_large(std::vector<int32_t>& ids) const;

  std::vector<std::string> tokens_;  // id -> vocabulary string
  StringTable vocab_;                // vocabulary string -> id
  StringTable input_vocab_;          // raw-byte form -> id (byte-level models only)
  PairTable merges_;
  BpeOptions options_;
  int32_t byte_ids_[256];            // byte-level: id of each single byte; else -1
  int32_t fallback_ids_[256];        // id of <0xNN>, or -1
  uint64_t serial_ = 0;              // identifies this model's per-thread caches
};

}  // namespace lb
