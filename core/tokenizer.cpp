// Byte-level tokenizer and chat template; see tokenizer.h.
#include "core/tokenizer.h"

#include <stdexcept>

namespace lb {

int64_t Encoded::target_count() const {
  int64_t n = 0;
  for (auto m : loss_mask) n += m;
  return n;
}

int32_t role_token(const std::string& role) {
  if (role == "system") return tok::kSystem;
  if (role == "user") return tok::kUser;
  if (role == "assistant") return tok::kAssistant;
  throw std::invalid_argument("unknown chat role '" + role + "' (expected system, user or assistant)");
}

std::vector<int32_t> ByteTokenizer::encode(std::string_view text) const {
  std::vector<int32_t> out;
  out.reserve(text.size());
  for (unsigned char c : text) out.push_back(static_cast<int32_t>(c));
  return out;
}

std::string ByteTokenizer::decode(const std::vector<int32_t>& ids) const {
  std::string out;
  out.reserve(ids.size());
  for (int32_t id : ids)
    if (id >= 0 && id < 256) out.push_back(static_cast<char>(id));
  return out;
}

namespace {
void push(Encoded& e, int32_t id, bool target) {
  e.ids.push_back(id);
  e.loss_mask.push_back(target ? 1 : 0);
}
void truncate(Encoded& e, int max_len) {
  if (max_len > 0 && static_cast<int>(e.ids.size()) > max_len) {
    e.ids.resize(max_len);
    e.loss_mask.resize(max_len);
  }
}
}  // namespace

Encoded ByteTokenizer::encode_chat(const std::vector<Message>& messages, int max_len) const {
  Encoded e;
  push(e, tok::kBos, false);
  for (const auto& m : messages) {
    const bool target = m.role == "assistant";
    push(e, role_token(m.role), false);
    for (unsigned char c : m.content) push(e, c, target);
    push(e, tok::kEnd, target);
  }
  truncate(e, max_len);
  return e;
}

Encoded ByteTokenizer::encode_response_only(const std::vector<Message>& messages, int max_len) const {
  Encoded e;
  push(e, tok::kBos, false);
  for (const auto& m : messages) {
    if (m.role != "assistant") continue;
    push(e, tok::kAssistant, false);
    for (unsigned char c : m.content) push(e, c, true);
    push(e, tok::kEnd, true);
  }
  truncate(e, max_len);
  return e;
}

std::vector<int32_t> ByteTokenizer::encode_generation_prompt(const std::vector<Message>& messages) const {
  Encoded e = encode_chat(messages, 0);
  e.ids.push_back(tok::kAssistant);
  return e.ids;
}

std::vector<int32_t> ByteTokenizer::encode_text_prompt(std::string_view text) const {
  std::vector<int32_t> ids = {tok::kBos};
  for (unsigned char c : text) ids.push_back(static_cast<int32_t>(c));
  return ids;
}

Encoded ByteTokenizer::encode_plain(std::string_view text, int max_len) const {
  Encoded e;
  push(e, tok::kBos, false);
  for (unsigned char c : text) push(e, c, true);
  push(e, tok::kEos, true);
  truncate(e, max_len);
  return e;
}

}  // namespace lb
