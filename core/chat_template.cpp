// Chat templates rendered in C++ (tulu, llama3, chatml, qwen3), their fingerprints, and the loss mask.
#include "core/chat_template.h"

#include "core/unicode_text.h"

#include <stdexcept>

namespace lb {

namespace {

// The Jinja sources this file renders, for their fingerprints. Llama 3's is the one in Meta's
// Llama-3-Instruct tokenizer_config.json (also the Llama 3.1 files in ../shared/data/tokenizers).
const char* kTuluJinja =
    "{% for message in messages %}"
    "{% if message['role'] == 'system' %}{{ '<|system|>\n' + message['content'] + '\n' }}"
    "{% elif message['role'] == 'user' %}{{ '<|user|>\n' + message['content'] + '\n' }}"
    "{% elif message['role'] == 'assistant' %}"
    "{% if not loop.last %}{{ '<|assistant|>\n'  + message['content'] + eos_token + '\n' }}"
    "{% else %}{{ '<|assistant|>\n'  + message['content'] + eos_token }}{% endif %}"
    "{% endif %}"
    "{% if loop.last and add_generation_prompt %}{{ '<|assistant|>\n' }}{% endif %}"
    "{% endfor %}";
const char* kLlama3Jinja =
    "{% set loop_messages = messages %}{% for message in loop_messages %}{% set content = "
    "'<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n'+ message['content'] | trim + "
    "'<|eot_id|>' %}{% if loop.index0 == 0 %}{% set content = bos_token + content %}{% endif %}{{ content }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}";
const char* kChatMLJinja =
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + "
    "'\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";
// Qwen3's template (4 116 characters, with tools and reasoning) is known by its fingerprint only.
constexpr uint64_t kQwen3Fingerprint = 0xafcafcaf8440e436ull;

// FNV-1a 64 of the text without white space, and without the escapes \n and \t (files write a
// newline inside a Jinja string either as itself or as that escape).
uint64_t fingerprint(const std::string& jinja) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (size_t i = 0; i < jinja.size(); ++i) {
    const char c = jinja[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') continue;
    if (c == '\\' && i + 1 < jinja.size() && (jinja[i + 1] == 'n' || jinja[i + 1] == 't')) {
      ++i;
      continue;
    }
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}

bool is_python_space(char32_t cp) { return unicode::is_white_space(cp) || (cp >= 0x1C && cp <= 0x1F); }

// Python's str.strip() (Jinja's trim).
std::string strip(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e) {
    int len = 0;
    if (!is_python_space(unicode::decode_at(s, b, &len))) break;
    b += len;
  }
  while (e > b) {
    size_t k = e - 1;
    while (k > b && (static_cast<unsigned char>(s[k]) & 0xC0) == 0x80) --k;
    int len = 0;
    if (!is_python_space(unicode::decode_at(s, k, &len))) break;
    e = k;
  }
  return s.substr(b, e - b);
}

std::string lstrip_newlines(const std::string& s) {
  const size_t b = s.find_first_not_of('\n');
  return b == std::string::npos ? "" : s.substr(b);
}
std::string rstrip_newlines(const std::string& s) {
  const size_t e = s.find_last_not_of('\n');
  return e == std::string::npos ? "" : s.substr(0, e + 1);
}

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}
bool starts_with(const std::string& s, const std::string& head) { return s.compare(0, head.size(), head) == 0; }

void check_roles(const std::vector<Message>& messages) {
  for (size_t i = 0; i < messages.size(); ++i) {
    const std::string& r = messages[i].role;
    if (r != "system" && r != "user" && r != "assistant")
      throw std::invalid_argument("message " + std::to_string(i) + ": role '" + r +
                                  "' is not supported; roles: system, user, assistant");
  }
}

std::string token_text(const HfTokenizer& tok, std::optional<int32_t> id) { return id ? tok.id_to_token(*id) : ""; }

}  // namespace

const std::vector<std::string>& ChatTemplate::names() {
  static const std::vector<std::string> n = {"tulu", "llama3", "chatml", "qwen3", "auto"};
  return n;
}

std::optional<ChatTemplateKind> ChatTemplate::recognise(const std::string& jinja) {
  const uint64_t f = fingerprint(jinja);
  if (f == fingerprint(kTuluJinja)) return ChatTemplateKind::Tulu;
  if (f == fingerprint(kLlama3Jinja)) return ChatTemplateKind::Llama3;
  if (f == fingerprint(kChatMLJinja)) return ChatTemplateKind::ChatML;
  if (f == kQwen3Fingerprint) return ChatTemplateKind::Qwen3;
  return std::nullopt;
}

ChatTemplate ChatTemplate::by_name(const std::string& name, const HfTokenizer& tokenizer) {
  if (name == "tulu") return ChatTemplate(ChatTemplateKind::Tulu, name);
  if (name == "llama3") return ChatTemplate(ChatTemplateKind::Llama3, name);
  if (name == "chatml") return ChatTemplate(ChatTemplateKind::ChatML, name);
  if (name == "qwen3") return ChatTemplate(ChatTemplateKind::Qwen3, name);
  if (name == "auto") {
    const std::string& own = tokenizer.chat_template();
    if (own.empty())
      throw std::invalid_argument(tokenizer.source() +
                                  ": has no chat_template (tokenizer_config.json); name one: tulu, llama3, chatml, qwen3");
    const auto kind = recognise(own);
    if (!kind)
      throw std::invalid_argument(tokenizer.source() +
                                  ": its chat_template is none of the known ones (tulu, llama3, chatml, qwen3); name one");
    static const char* kNames[] = {"tulu", "llama3", "chatml", "qwen3"};
    return ChatTemplate(*kind, kNames[static_cast<int>(*kind)]);
  }
  throw std::invalid_argument("unknown chat template '" + name + "'; known: tulu, llama3, chatml, qwen3, auto");
}

std::vector<ChatSegment> ChatTemplate::segments(const std::vector<Message>& messages, bool add_generation_prompt,
                                                const std::string& bos_token, const std::string& eos_token) const {
  check_roles(messages);
  std::vector<ChatSegment> out;
  auto text = [&](std::string s) { out.push_back({std::move(s), false}); };
  auto target = [&](std::string s) { out.push_back({std::move(s), true}); };
  const size_t n = messages.size();
  switch (kind_) {
    case ChatTemplateKind::Tulu:
      if (eos_token.empty()) throw std::invalid_argument("the tulu template needs the tokenizer's eos token, and it has none");
      for (size_t i = 0; i < n; ++i) {
        const Message& m = messages[i];
        if (m.role == "system") text("<|system|>\n" + m.content + "\n");
        else if (m.role == "user") text("<|user|>\n" + m.content + "\n");
        else {
          text("<|assistant|>\n");
          target(m.content + eos_token);
          if (i + 1 < n) text("\n");
        }
      }
      if (add_generation_prompt && n > 0) text("<|assistant|>\n");
      break;
    case ChatTemplateKind::Llama3:
      for (size_t i = 0; i < n; ++i) {
        const Message& m = messages[i];
        const std::string header = (i == 0 ? bos_token : "") + "<|start_header_id|>" + m.role + "<|end_header_id|>\n\n";
        if (m.role == "assistant") {
          text(header);
          target(strip(m.content) + "<|eot_id|>");
        } else {
          text(header + strip(m.content) + "<|eot_id|>");
        }
      }
      if (add_generation_prompt) text("<|start_header_id|>assistant<|end_header_id|>\n\n");
      break;
    case ChatTemplateKind::ChatML:
      for (const Message& m : messages) {
        if (m.role == "assistant") {
          text("<|im_start|>assistant\n");
          target(m.content + "<|im_end|>");
          text("\n");
        } else {
          text("<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n");
        }
      }
      if (add_generation_prompt) text("<|im_start|>assistant\n");
      break;
    case ChatTemplateKind::Qwen3: {
      // Qwen3's template without tools: turns after the last user query carry a think block.
      size_t last_query = n == 0 ? 0 : n - 1;
      for (size_t k = n; k-- > 0;) {
        const Message& m = messages[k];
        if (m.role == "user" && !(starts_with(m.content, "<tool_response>") && ends_with(m.content, "</tool_response>"))) {
          last_query = k;
          break;
        }
      }
      for (size_t i = 0; i < n; ++i) {
        const Message& m = messages[i];
        if (m.role == "system" && i == 0) {
          text("<|im_start|>system\n" + m.content + "<|im_end|>\n");
        } else if (m.role != "assistant") {
          text("<|im_start|>" + m.role + "\n" + m.content + "<|im_end|>\n");
        } else {
          std::string content = m.content, reasoning;
          const size_t close = content.find("</think>");
          if (close != std::string::npos) {
            const size_t last_close = content.rfind("</think>");
            const std::string before = rstrip_newlines(content.substr(0, close));
            const size_t open = before.rfind("<think>");
            reasoning = lstrip_newlines(open == std::string::npos ? before : before.substr(open + 7));
            content = lstrip_newlines(content.substr(last_close + 8));
          }
          text("<|im_start|>assistant\n");
          if (i > last_query && (i + 1 == n || !reasoning.empty())) {
            const std::string r = lstrip_newlines(rstrip_newlines(reasoning));
            target("<think>\n" + r + "\n</think>\n\n" + lstrip_newlines(content) + "<|im_end|>");
          } else {
            target(content + "<|im_end|>");
          }
          text("\n");
        }
      }
      if (add_generation_prompt) text("<|im_start|>assistant\n");
      break;
    }
  }
  return out;
}

RenderedChat ChatTemplate::render(const HfTokenizer& tokenizer, const std::vector<Message>& messages,
                                  bool add_generation_prompt) const {
  const std::vector<ChatSegment> segs =
      segments(messages, add_generation_prompt, token_text(tokenizer, tokenizer.bos_id()), token_text(tokenizer, tokenizer.eos_id()));
  RenderedChat r;
  std::vector<std::pair<size_t, size_t>> targets;  // character spans
  for (const ChatSegment& s : segs) {
    if (s.target) targets.emplace_back(r.text.size(), r.text.size() + s.text.size());
    r.text += s.text;
  }
  r.ids = tokenizer.encode(r.text, false);
  r.loss_mask.assign(r.ids.size(), 0);
  for (auto [b, e] : targets) {
    const size_t tb = tokenizer.encode(std::string_view(r.text).substr(0, b), false).size();
    const size_t te = e == r.text.size() ? r.ids.size() : tokenizer.encode(std::string_view(r.text).substr(0, e), false).size();
    for (size_t k = tb; k < std::min(te, r.ids.size()); ++k) r.loss_mask[k] = 1;
  }
  return r;
}

}  // namespace lb
