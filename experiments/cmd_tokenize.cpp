// `leadbench tokenize`: argument parsing and JSONL in / out; the work is in core/hf_tokenizer and
// core/chat_template.
#include "experiments/cmd_tokenize.h"

#include "core/chat_template.h"
#include "core/hf_tokenizer.h"
#include "core/json_io.h"
#include "experiments/cli.h"

#include <iostream>
#include <stdexcept>

namespace lb {

namespace {

const char* const kTokenizeUsage =
    "usage: leadbench tokenize --tokenizer PATH --input IN.jsonl --output OUT.jsonl [--chat TEMPLATE]\n"
    "Tokenizes with a Hugging Face tokenizer, as its own library does (same ids, same decoded text).\n"
    "  --tokenizer PATH   a tokenizer.json, a folder holding one (tokenizer_config.json beside it is\n"
    "                     read for bos / eos / chat template), or a .gguf file (its tokenizer.ggml.*\n"
    "                     metadata: byte-level BPE, tokenizer.ggml.model gpt2)\n"
    "  --input IN.jsonl   one JSON object a line:\n"
    "                       without --chat: {\"text\": ...}\n"
    "                       with --chat:    {\"messages\": [{\"role\", \"content\"}, ...], \"add_generation_prompt\": bool}\n"
    "                                       (add_generation_prompt may be left out: false)\n"
    "  --output OUT.jsonl one line per input line, in order, written atomically:\n"
    "                       without --chat: {\"ids\", \"ids_with_special\", \"decoded\"} (ids: no special tokens\n"
    "                                       added; ids_with_special: with the post-processor's bos etc.;\n"
    "                                       decoded: ids decoded back)\n"
    "                       with --chat:    {\"text\", \"ids\", \"loss_mask\"} (loss_mask 1 on the tokens that\n"
    "                                       count for the loss: each assistant turn's content and end of turn)\n"
    "  --chat TEMPLATE    tulu | llama3 | chatml | qwen3 | auto (the tokenizer's own template, when it is\n"
    "                     one of these)\n";

std::string need(const ParsedArgs& a, const std::string& flag) {
  const std::string v = a.value(flag);
  if (v.empty()) throw UsageError(flag + " is required\n" + kTokenizeUsage);
  return v;
}

std::vector<Message> read_messages(const nlohmann::json& r, const std::string& where) {
  const nlohmann::json& list = require_field(r, "messages", where);
  if (!list.is_array()) throw InputError(where + ": \"messages\" must be a list of {\"role\", \"content\"}");
  std::vector<Message> out;
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string at = where + ": messages[" + std::to_string(i) + "]";
    if (!list[i].is_object()) throw InputError(at + ": expected {\"role\", \"content\"}");
    out.push_back({require_string(list[i], "role", at), require_string(list[i], "content", at)});
  }
  return out;
}

}  // namespace

int cmd_tokenize(const std::vector<std::string>& args) {
  const ParsedArgs a = parse_args(args, {"--tokenizer", "--input", "--output", "--chat"}, {});
  if (a.common.help) {
    std::cout << kTokenizeUsage;
    return 0;
  }
  if (!a.positional.empty()) throw UsageError("unexpected argument '" + a.positional[0] + "'\n" + kTokenizeUsage);
  if (!a.overrides.empty()) throw UsageError("unexpected argument '" + a.overrides[0] + "'\n" + kTokenizeUsage);
  const std::string input = need(a, "--input"), output = need(a, "--output");
  if (input == output) throw UsageError("--output must differ from --input");
  if (!file_exists(input)) throw InputError(input + ": no such file; check --input");
  const HfTokenizer tok = HfTokenizer::load(need(a, "--tokenizer"));
  const bool chat = a.has("--chat");
  std::optional<ChatTemplate> tmpl;
  if (chat) {
    try {
      tmpl = ChatTemplate::by_name(need(a, "--chat"), tok);
    } catch (const std::invalid_argument& e) {
      throw UsageError(std::string("--chat: ") + e.what());
    }
  }
  std::string out;
  int64_t lines = 0, tokens = 0;
  for_each_jsonl(input, [&](const nlohmann::json& r, int64_t line) {
    const std::string where = input + ":" + std::to_string(line);
    if (!r.is_object()) throw InputError(where + ": expected a JSON object");
    nlohmann::ordered_json o;  // fields in the documented order
    try {
      if (!chat) {
        const std::string text = require_string(r, "text", where);
        const std::vector<int32_t> ids = tok.encode(text, false);
        o = {{"ids", ids}, {"ids_with_special", tok.encode(text, true)}, {"decoded", tok.decode(ids)}};
        tokens += static_cast<int64_t>(ids.size());
      } else {
        bool generation = false;
        if (auto it = r.find("add_generation_prompt"); it != r.end() && !it->is_null()) {
          if (!it->is_boolean()) throw InputError(where + ": \"add_generation_prompt\" must be true or false");
          generation = it->get<bool>();
        }
        const RenderedChat c = tmpl->render(tok, read_messages(r, where), generation);
        o = {{"text", c.text}, {"ids", c.ids}, {"loss_mask", c.loss_mask}};
        tokens += static_cast<int64_t>(c.ids.size());
      }
    } catch (const std::invalid_argument& e) {  // a role the template does not know
      throw InputError(where + ": " + e.what());
    } catch (const InputError& e) {
      const std::string msg = e.what();
      throw InputError(msg.rfind(where, 0) == 0 ? msg : where + ": " + msg);
    }
    out += o.dump() + "\n";
    ++lines;
  });
  write_file_atomic(output, out);
  std::cout << "tokenized " << lines << " " << (chat ? "conversations" : "texts") << " (" << tokens << " tokens) with "
            << tok.source() << (chat ? " and the " + tmpl->name() + " template" : "") << " -> " << output << "\n";
  return 0;
}

}  // namespace lb
