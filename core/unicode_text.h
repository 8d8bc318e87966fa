// Unicode helpers for the Hugging Face tokenizer (core/hf_tokenizer.h): UTF-8 checks and lossy
// decoding as Rust does it, character classes, normalisation forms (utf8proc), GPT-2's byte <-> char
// map, and a PCRE2 regex (UTF + UCP, JIT; with UCP, \s is Unicode White_Space, U+0085 included, as
// in the Oniguruma that Hugging Face uses -- tests/core/test_hf_tokenizer.cpp checks it).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lb::unicode {

// Length of the longest valid UTF-8 prefix of `s` (== s.size() when all of it is valid).
size_t valid_utf8_prefix(std::string_view s);

// Rust's String::from_utf8_lossy: each maximal invalid subpart becomes one U+FFFD.
std::string utf8_lossy(std::string_view bytes);

// Decodes the code point at s[i] (s must be valid UTF-8); sets *len to its byte length.
char32_t decode_at(std::string_view s, size_t i, int* len);
void append_utf8(std::string& out, char32_t cp);
inline int utf8_length(unsigned char lead) {
  return lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4;
}

bool is_numeric(char32_t cp);     // Rust char::is_numeric: general category Nd, Nl or No
bool is_word_char(char32_t cp);   // regex \w: letters, marks, Nd, Pc
bool is_white_space(char32_t cp);  // the Unicode White_Space property (Rust char::is_whitespace)

enum class NormalForm { NFC, NFD, NFKC, NFKD };
std::string normalize(std::string_view s, NormalForm form);  // s must be valid UTF-8

// GPT-2's bytes_to_unicode: each byte maps to one printable code point.
char32_t byte_to_char(uint8_t b);
// The inverse, or -1 when the code point is not one of the 256.
int char_to_byte(char32_t cp);

// A compiled PCRE2 pattern (UTF, UCP; JIT when available).
class Regex {
 public:
  // Throws std::invalid_argument with PCRE2's message and offset on a bad pattern.
  explicit Regex(const std::string& pattern);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Every non-overlapping match in s (valid UTF-8), as [begin, end) byte offsets, left to right;
  // after an empty match the search resumes one character further, as Oniguruma's find_iter does.
  void find_all(std::string_view s, std::vector<std::pair<uint32_t, uint32_t>>& out) const;
  const std::string& pattern() const { return pattern_; }

 private:
  std::string pattern_;
  void* code_ = nullptr;        // pcre2_code*
  void* match_data_ = nullptr;  // pcre2_match_data* for the calling thread's use (see .cpp)
  bool jit_ = false;
};

}  // namespace lb::unicode
