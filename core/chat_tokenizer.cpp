// A tokenizer.json under a chat template as the pipeline's tokenizer; see chat_tokenizer.h.
#include "core/chat_tokenizer.h"

#include "core/json_io.h"
#include "core/sha256.h"

#include <filesystem>
#include <stdexcept>

namespace fs = std::filesystem;

namespace lb {

namespace {
void truncate_to(Encoded& e, int max_len) {
  if (max_len > 0 && static_cast<int>(e.ids.size()) > max_len) {
    e.ids.resize(max_len);
    e.loss_mask.resize(max_len);
  }
}
}  // namespace

HfChatTokenizer HfChatTokenizer::load(const std::string& path, const std::string& template_name) {
  std::error_code ec;
  std::string file = path;
  if (fs::is_directory(path, ec)) {
    file = (fs::path(path) / "tokenizer.json").string();
    if (!fs::exists(file, ec))
      throw InputError(path + ": no tokenizer.json in this folder; a run or an evaluation of a checkpoint needs its "
                              "tokenizer: put the model's tokenizer.json (and tokenizer_config.json) beside config.json");
  } else if (!fs::exists(path, ec)) {
    throw InputError(path + ": no such tokenizer file or folder");
  }
  HfTokenizer tok = HfTokenizer::load(file);
  ChatTemplate tmpl = [&] {
    try {
      return ChatTemplate::by_name(template_name, tok);
    } catch (const std::invalid_argument& e) {
      throw InputError(std::string("chat template: ") + e.what());
    }
  }();
  return HfChatTokenizer(std::move(tok), std::move(tmpl), file);
}

HfChatTokenizer::HfChatTokenizer(HfTokenizer tokenizer, ChatTemplate chat_template, std::string path)
    : tok_(std::move(tokenizer)), template_(std::move(chat_template)), file_(std::move(path)) {
  const auto eos = tok_.eos_id();
  if (eos) stop_ids_.insert(*eos);
  const char* turn_end = nullptr;
  switch (template_.kind()) {
    case ChatTemplateKind::Tulu: break;  // assistant turns end with eos
    case ChatTemplateKind::Llama3: turn_end = "<|eot_id|>"; break;
    case ChatTemplateKind::ChatML:
    case ChatTemplateKind::Qwen3: turn_end = "<|im_end|>"; break;
  }
  if (turn_end) {
    const auto id = tok_.token_to_id(turn_end);
    if (!id)
      throw InputError(file_ + ": the " + template_.name() + " chat template ends turns with " + turn_end +
                       ", which this tokenizer does not have; choose the template the model was trained with "
                       "(model.chat_template)");
    stop_ids_.insert(*id);
  }
  if (stop_ids_.empty())
    throw InputError(file_ + ": the tokenizer has no eos token (tokenizer_config.json eos_token), so generation under the " +
                     template_.name() + " template could not stop; add eos_token to tokenizer_config.json");
  pad_id_ = eos ? *eos : 0;  // padding is never attended to nor a target: any id in the vocabulary does
}

std::vector<int32_t> HfChatTokenizer::encode(std::string_view text) const { return tok_.encode(text, false); }

std::string HfChatTokenizer::decode(const std::vector<int32_t>& ids) const { return tok_.decode(ids, true); }

Encoded HfChatTokenizer::encode_chat(const std::vector<Message>& messages, int max_len) const {
  RenderedChat r = template_.render(tok_, messages, false);
  Encoded e{std::move(r.ids), std::move(r.loss_mask)};
  truncate_to(e, max_len);
  return e;
}

Encoded HfChatTokenizer::encode_response_only(const std::vector<Message>& messages, int max_len) const {
  std::vector<Message> responses;
  for (const auto& m : messages)
    if (m.role == "assistant") responses.push_back(m);
  return encode_chat(responses, max_len);
}

std::vector<int32_t> HfChatTokenizer::encode_generation_prompt(const std::vector<Message>& messages) const {
  return template_.render(tok_, messages, true).ids;
}

std::vector<int32_t> HfChatTokenizer::encode_text_prompt(std::string_view text) const { return tok_.encode(text, true); }

std::string HfChatTokenizer::description() const {
  return "tokenizer.json " + file_ + " (vocabulary " + std::to_string(vocab_size()) + "), chat template " +
         template_.name();
}

nlohmann::json HfChatTokenizer::to_json() const {
  nlohmann::json stops = nlohmann::json::array();
  for (int32_t id : stop_ids_) stops.push_back(id);
  nlohmann::json j = {{"file", file_},
                      {"sha256", sha256_file(file_)},
                      {"vocab_size", vocab_size()},
                      {"chat_template", template_.name()},
                      {"stop_ids", stops},
                      {"pad_id", pad_id_}};
  j["bos_id"] = tok_.bos_id() ? nlohmann::json(*tok_.bos_id()) : nlohmann::json(nullptr);
  j["eos_id"] = tok_.eos_id() ? nlohmann::json(*tok_.eos_id()) : nlohmann::json(nullptr);
  return j;
}

}  // namespace lb
