// A checkpoint's tokenizer (tokenizer.json) under a chat template, as the pipeline's ChatTokenizer:
// the pool is encoded with the template's loss mask (every assistant turn and its end-of-turn
// token), generation stops at the template's end-of-turn token or eos, and decoding drops special
// tokens.
#pragma once

#include "core/chat_template.h"
#include "core/hf_tokenizer.h"
#include "core/tokenizer.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace lb {

class HfChatTokenizer : public ChatTokenizer {
 public:
  // `path`: a tokenizer.json or a folder holding one (tokenizer_config.json beside it is read);
  // template_name: tulu, llama3, chatml, qwen3 or auto. A folder without tokenizer.json is an
  // InputError saying what to add; an unknown template lists the known ones.
  static HfChatTokenizer load(const std::string& path, const std::string& template_name);
  HfChatTokenizer(HfTokenizer tokenizer, ChatTemplate chat_template, std::string path);

  int32_t vocab_size() const override { return tok_.vocab_size(); }
  std::vector<int32_t> encode(std::string_view text) const override;
  std::string decode(const std::vector<int32_t>& ids) const override;
  Encoded encode_chat(const std::vector<Message>& messages, int max_len) const override;
  Encoded encode_response_only(const std::vector<Message>& messages, int max_len) const override;
  std::vector<int32_t> encode_generation_prompt(const std::vector<Message>& messages) const override;
  // The text through the tokenizer's post-processor (add_special_tokens: Llama's bos, none for Qwen).
  std::vector<int32_t> encode_text_prompt(std::string_view text) const override;
  bool is_stop(int32_t id) const override { return stop_ids_.count(id) > 0; }
  int32_t pad_id() const override { return pad_id_; }
  std::string description() const override;

  const HfTokenizer& tokenizer() const { return tok_; }
  const ChatTemplate& chat_template() const { return template_; }
  // The tokenizer.json file read.
  const std::string& file() const { return file_; }
  // For run records: file, sha256 of the file, vocabulary size, template, bos/eos/stop/pad ids.
  nlohmann::json to_json() const;

 private:
  HfTokenizer tok_;
  ChatTemplate template_;
  std::string file_;
  std::set<int32_t> stop_ids_;
  int32_t pad_id_ = 0;
};

}  // namespace lb
