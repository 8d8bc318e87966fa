// Chat templates for real tokenizers, rendered without a Jinja engine: open-instruct's `tulu` (what
// LEAD's authors trained with), `llama3`, `chatml` and `qwen3` (ChatML with Qwen3's empty think block),
// each equal to the Jinja original on tests/core/test_chat_template.cpp's references. A checkpoint's
// own template (tokenizer_config.json's chat_template) is recognised by a fingerprint.
//
// Loss mask: 1 on what the model must produce after the generation prompt, up to and including the
// end-of-turn token, for every assistant turn: its content and its eos / <|eot_id|> / <|im_end|>
// (and Qwen3's think block, which its template writes after the prompt). The role header
// ("<|assistant|>\n", "<|start_header_id|>assistant<|end_header_id|>\n\n", "<|im_start|>assistant\n"),
// the other turns and the newline after an end-of-turn token are 0 -- open-instruct's rule. Token
// boundaries are those of the prefixes, as open-instruct takes them: an assistant turn covers tokens
// [len(encode(text before its content)), len(encode(text through its end-of-turn token))).
#pragma once

#include "core/hf_tokenizer.h"
#include "core/tokenizer.h"  // lb::Message

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace lb {

enum class ChatTemplateKind { Tulu, Llama3, ChatML, Qwen3 };

// One piece of a rendered conversation; `target` marks the assistant's part that counts for the loss.
struct ChatSegment {
  std::string text;
  bool target = false;
};

struct RenderedChat {
  std::string text;
  std::vector<int32_t> ids;        // encode(text, add_special_tokens = false): the template writes bos itself
  std::vector<uint8_t> loss_mask;  // one per id
};

class ChatTemplate {
 public:
  // "tulu", "llama3", "chatml", "qwen3", or "auto" (the tokenizer's own template, recognised by its
  // fingerprint). Unknown names and unrecognised templates are UsageError-like std::invalid_argument
  // messages that list the known names.
  static ChatTemplate by_name(const std::string& name, const HfTokenizer& tokenizer);
  // The kind whose Jinja source this is (whitespace-insensitive fingerprint), if any.
  static std::optional<ChatTemplateKind> recognise(const std::string& jinja);
  static const std::vector<std::string>& names();  // the known names, "auto" last

  ChatTemplateKind kind() const { return kind_; }
  const std::string& name() const { return name_; }

  // The conversation as text pieces. Roles: system, user, assistant (anything else: invalid_argument
  // naming the message). tulu ends assistant turns with `eos_token`; llama3 starts with `bos_token`.
  std::vector<ChatSegment> segments(const std::vector<Message>& messages, bool add_generation_prompt,
                                    const std::string& bos_token, const std::string& eos_token) const;
  // Text, ids and loss mask with `tokenizer` (its bos / eos tokens fill the template's).
  RenderedChat render(const HfTokenizer& tokenizer, const std::vector<Message>& messages,
                      bool add_generation_prompt) const;

 private:
  ChatTemplate(ChatTemplateKind kind, std::string name) : kind_(kind), name_(std::move(name)) {}
  ChatTemplateKind kind_;
  std::string name_;
};

}  // namespace lb
