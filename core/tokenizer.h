// Byte-level tokenizer for the embedded world: ids 0..255 are raw bytes (lossless on any UTF-8,
// or any bytes at all), followed by a few special tokens. The chat template marks each turn with
// a role token and closes it with END; loss counts the assistant turns' tokens (content + END) only.
// ChatTokenizer is the interface the pipeline takes, so that a checkpoint's own tokenizer can stand
// in for the byte tokenizer (core/chat_tokenizer.h).
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

// What the pipeline needs from a tokenizer (the token cache, the trainer's and the inference
// engine's sequences, generation and the evaluator's prompts): ByteTokenizer for the synthetic world,
// HfChatTokenizer (core/chat_tokenizer.h: a tokenizer.json under a chat template) for checkpoints.
class ChatTokenizer {
 public:
  virtual ~ChatTokenizer() = default;
  virtual int32_t vocab_size() const = 0;
  // Plain text to ids, no special tokens added.
  virtual std::vector<int32_t> encode(std::string_view text) const = 0;
  // Ids to text; special tokens are dropped.
  virtual std::string decode(const std::vector<int32_t>& ids) const = 0;
  // The conversation under the chat template, loss on every assistant turn (its content and its
  // end-of-turn token). max_len > 0 keeps the first max_len tokens.
  virtual Encoded encode_chat(const std::vector<Message>& messages, int max_len) const = 0;
  // The assistant turns alone under the same template (IFD's unconditional loss).
  virtual Encoded encode_response_only(const std::vector<Message>& messages, int max_len) const = 0;
  // The template of `messages` followed by the opening of an assistant turn.
  virtual std::vector<int32_t> encode_generation_prompt(const std::vector<Message>& messages) const = 0;
  // A raw-text prompt (no template): bos, when the tokenizer has one, then the text.
  virtual std::vector<int32_t> encode_text_prompt(std::string_view text) const = 0;
  // Ends a generation (end of turn, eos).
  virtual bool is_stop(int32_t id) const = 0;
  // Fills the unused positions of a right-padded batch (never attended to, never a target).
  virtual int32_t pad_id() const = 0;
  // What the run record says about the tokenizer.
  virtual std::string description() const = 0;
};

class ByteTokenizer : public ChatTokenizer {
 public:
  int32_t vocab_size() const override { return tok::kVocabSize; }
  std::vector<int32_t> encode(std::string_view text) const override;
  // Bytes only; special tokens are dropped.
  std::string decode(const std::vector<int32_t>& ids) const override;

  // BOS, then per message: role token, content bytes, END. Loss on every assistant turn's
  // content and END. Truncated to max_len tokens (keeping the start).
  Encoded encode_chat(const std::vector<Message>& messages, int max_len) const override;
  // The responses without their instructions (for IFD's unconditional loss): BOS, then per
  // assistant turn: ASSISTANT, content, END; loss on content and END.
  Encoded encode_response_only(const std::vector<Message>& messages, int max_len) const override;
  // A prompt ready for generation: the template of `messages` followed by ASSISTANT, so that the
  // model's next tokens are the assistant's answer (generation stops at END).
  std::vector<int32_t> encode_generation_prompt(const std::vector<Message>& messages) const override;
  // BOS, then the bytes.
  std::vector<int32_t> encode_text_prompt(std::string_view text) const override;
  bool is_stop(int32_t id) const override { return id == tok::kEnd || id == tok::kEos; }
  int32_t pad_id() const override { return tok::kPad; }
  std::string description() const override { return "byte"; }
  // A plain-text (no template) sequence with BOS, for base-corpus pre-training; loss on all tokens.
  Encoded encode_plain(std::string_view text, int max_len) const;
};

int32_t role_token(const std::string& role);  // throws std::invalid_argument on unknown roles

}  // namespace lb
