// Tests of the chat templates: rendered text and ids equal ../shared/data/tokenizers/refs/*.tulu.jsonl
// and *.chat.jsonl (Jinja renderings of the originals), the checkpoint's own template is recognised,
// and loss masks checked by hand on a multi-turn conversation.
#include "core/chat_template.h"
#include "core/json_io.h"

#include <catch2/catch.hpp>

#include <cstdio>

using namespace lb;
using nlohmann::json;

namespace {

std::string tokenizers_dir() { return std::string(LEADBENCH_SHARED_DATA) + "/tokenizers"; }

bool have_tokenizers() {
  if (file_exists(tokenizers_dir() + "/refs/llama3_1.tulu.jsonl")) return true;
  std::printf("SKIPPED: tokenizers/refs not found under LEADBENCH_SHARED_DATA (%s)\n", LEADBENCH_SHARED_DATA);
  return false;
}

std::vector<Message> messages_of(const json& r) {
  std::vector<Message> out;
  for (const json& m : r.at("messages")) out.push_back({m.at("role").get<std::string>(), m.at("content").get<std::string>()});
  return out;
}

// Renders every reference conversation of refs/<file> with `template_name`; returns the count.
int check_file(const HfTokenizer& tok, const std::string& file, const std::string& template_name) {
  const ChatTemplate ct = ChatTemplate::by_name(template_name, tok);
  int n = 0;
  for_each_jsonl(tokenizers_dir() + "/refs/" + file, [&](const json& r, int64_t line) {
    INFO(file << " line " << line << " with " << ct.name());
    const RenderedChat out = ct.render(tok, messages_of(r), r.at("add_generation_prompt").get<bool>());
    CHECK(json(out.text).dump() == json(r.at("text")).dump());
    CHECK(json(out.ids).dump() == r.at("ids").dump());
    CHECK(out.loss_mask.size() == out.ids.size());
    ++n;
  });
  return n;
}

// Positions whose mask is 1.
std::vector<size_t> targets(const RenderedChat& r) {
  std::vector<size_t> out;
  for (size_t i = 0; i < r.loss_mask.size(); ++i)
    if (r.loss_mask[i]) out.push_back(i);
  return out;
}

const std::vector<Message> kTwoTurns = {{"system", "You are terse."}, {"user", "Name a prime."}, {"assistant", "7"},
                                        {"user", "Another?"}, {"assistant", "11"}};

}  // namespace

TEST_CASE("chat template: tulu renderings equal the references for all three tokenizers", "[chat_template][shared]") {
  if (!have_tokenizers()) return;
  for (const std::string name : {"llama3_1", "qwen3", "mistral_v0_1"}) {
    const HfTokenizer tok = HfTokenizer::load(tokenizers_dir() + "/" + name);
    CHECK(check_file(tok, name + ".tulu.jsonl", "tulu") == 6);
  }
}

TEST_CASE("chat template: each checkpoint's own template is recognised and equals its references", "[chat_template][shared]") {
  if (!have_tokenizers()) return;
  const HfTokenizer llama = HfTokenizer::load(tokenizers_dir() + "/llama3_1");
  CHECK(ChatTemplate::by_name("auto", llama).kind() == ChatTemplateKind::Llama3);
  CHECK(check_file(llama, "llama3_1.chat.jsonl", "auto") == 6);
  CHECK(check_file(llama, "llama3_1.chat.jsonl", "llama3") == 6);
  const HfTokenizer qwen = HfTokenizer::load(tokenizers_dir() + "/qwen3");
  CHECK(ChatTemplate::by_name("auto", qwen).kind() == ChatTemplateKind::Qwen3);
  CHECK(check_file(qwen, "qwen3.chat.jsonl", "auto") == 6);
  const HfTokenizer mistral = HfTokenizer::load(tokenizers_dir() + "/mistral_v0_1");
  CHECK_THROWS_WITH(ChatTemplate::by_name("auto", mistral), Catch::Contains("has no chat_template"));
}

TEST_CASE("chat template: loss masks of a two-turn conversation, by hand", "[chat_template][shared]") {
  if (!have_tokenizers()) return;
  const HfTokenizer llama = HfTokenizer::load(tokenizers_dir() + "/llama3_1");
  // <|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n You are terse.<|eot_id|> ... assistant
  // header, "7" (22), <|eot_id|> (128009), user turn, assistant header, "11" (806), <|eot_id|>.
  const RenderedChat l = ChatTemplate::by_name("llama3", llama).render(llama, kTwoTurns, false);
  REQUIRE(l.ids.size() == 38);
  CHECK(l.ids[22] == 271);  // the header's "\n\n": not a target
  CHECK(l.ids[23] == 22);
  CHECK(l.ids[24] == 128009);
  CHECK(l.ids[36] == 806);
  CHECK(l.ids[37] == 128009);
  CHECK(targets(l) == std::vector<size_t>{23, 24, 36, 37});

  // tulu on Mistral: "...<|assistant|>\n" "7" "</s>" "▁" "\n" "<|user|>..." "<|assistant|>\n" "1" "1" "</s>".
  const HfTokenizer mistral = HfTokenizer::load(tokenizers_dir() + "/mistral_v0_1");
  const RenderedChat m = ChatTemplate::by_name("tulu", mistral).render(mistral, kTwoTurns, false);
  REQUIRE(m.ids.size() == 54);
  CHECK(m.ids[30] == 28787);  // "7"
  CHECK(m.ids[31] == 2);      // </s>
  CHECK(m.ids[32] == 28705);  // "▁": the newline after eos starts a new piece, not a target
  CHECK(m.ids[53] == 2);
  CHECK(targets(m) == std::vector<size_t>{30, 31, 51, 52, 53});

  // Qwen3: the think block that its template writes after the generation prompt counts.
  const HfTokenizer qwen = HfTokenizer::load(tokenizers_dir() + "/qwen3");
  const RenderedChat q = ChatTemplate::by_name("qwen3", qwen).render(qwen, kTwoTurns, false);
  REQUIRE(q.ids.size() == 42);
  CHECK(q.ids[21] == 22);      // "7"
  CHECK(q.ids[22] == 151645);  // <|im_end|>
  CHECK(q.ids[23] == 198);     // "\n" after it: not a target
  CHECK(q.ids[34] == 151667);  // <think>
  CHECK(targets(q) == std::vector<size_t>{21, 22, 34, 35, 36, 37, 38, 39, 40});

  // A prompt for generation has no targets at all.
  const RenderedChat p = ChatTemplate::by_name("tulu", llama).render(llama, {{"user", "Hi"}}, true);
  CHECK(targets(p).empty());
}

TEST_CASE("chat template: plain chatml, unknown names and roles", "[chat_template]") {
  const HfTokenizer tok = HfTokenizer::from_json(
      json::parse(R"({"model": {"type": "BPE", "vocab": {"a": 0}, "merges": []}})"), "tiny.json");
  const ChatTemplate chatml = ChatTemplate::by_name("chatml", tok);
  const auto segs = chatml.segments({{"user", "hi"}, {"assistant", "yo"}}, true, "", "");
  std::string text;
  for (const ChatSegment& s : segs) text += s.target ? "[" + s.text + "]" : s.text;
  CHECK(text == "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n[yo<|im_end|>]\n<|im_start|>assistant\n");

  const auto tulu = ChatTemplate::by_name("tulu", tok).segments({{"user", "q"}, {"assistant", "a"}, {"user", "r"}}, true, "", "</s>");
  text.clear();
  for (const ChatSegment& s : tulu) text += s.target ? "[" + s.text + "]" : s.text;
  CHECK(text == "<|user|>\nq\n<|assistant|>\n[a</s>]\n<|user|>\nr\n<|assistant|>\n");

  CHECK_THROWS_WITH(ChatTemplate::by_name("vicuna", tok), Catch::Contains("known: tulu, llama3, chatml, qwen3, auto"));
  CHECK_THROWS_WITH(chatml.segments({{"tool", "x"}}, false, "", ""), Catch::Contains("message 0: role 'tool'"));
  CHECK_THROWS_WITH(ChatTemplate::by_name("tulu", tok).render(tok, {{"user", "a"}}, false), Catch::Contains("eos"));
  CHECK(ChatTemplate::recognise("{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + "
                                "'<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}")
        == ChatTemplateKind::ChatML);
  CHECK(!ChatTemplate::recognise("{{ messages }}"));
}
