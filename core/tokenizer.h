// Byte-level tokenizer for the embedded world: ids 0..255 are raw bytes (lossless on any UTF-8,
// or any bytes at all), followed by a few special tokens. The chat template marks each turn with
// a role token and closes it with END; loss counts the assistant turns' tokens (content + END) only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace lb {

struct Message {
  std::string role;  // "system" | "user" | "assistant"
  std::string content;
};

namespace tok {
constexpr int32_t kPad = 256;
constexpr int32_t kBos = 257;
constexpr int32_t kEos = 258;
constexpr int32_t kSystem = 259;
constexpr int32_t kUser = 260;
constexpr int32_t kAssistant = 261;
constexpr int32_t kEnd = 262;  // closes a turn
constexpr int32_t kVocabSize = 263;
}  // namespace tok

// A token sequence with its loss mask (1 = this position's token is a training target).
struct Encoded {
  std::vector<int32_t> ids;
  std::vector<uint8_t> loss_mask;
  int64_t target_count() const;
};

class ByteTokenizer {
 public:
  int32_t vocab_size() const { return tok::kVocabSize; }
  std::vector<int32_t> encode(std::string_view text) const;
  // Bytes only; special tokens are dropped.
  std::string decode(const std::vector<int32_t>& ids) const;

  // BOS, then per message: role token, content bytes, END. Loss on every assistant turn's
  // content and END. Truncated to max_len tokens (keeping the start).
  Encoded encode_chat(const std::vector<Message>& messages, int max_len) const;
  // The responses without their instructions (for IFD's unconditional loss): BOS, then per
  // assistant turn: ASSISTANT, content, END; loss on content and END.
  Encoded encode_response_only(const std::vector<Message>& messages, int max_len) const;
  // A prompt ready for generation: the template of `messages` followed by ASSISTANT, so that the
  // model's next tokens are the assistant's answer (generation stops at END).
  std::vector<int32_t> encode_generation_prompt(const std::vector<Message>& messages) const;
  // A plain-text (no template) sequence with BOS, for base-corpus pre-training; loss on all tokens.
  Encoded encode_plain(std::string_view text, int max_len) const;
};

int32_t role_token(const std::string& role);  // throws std::invalid_argument on unknown roles

}  // namespace lb
