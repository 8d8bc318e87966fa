// Lexer, recursive-descent parser and step-limited tree-walking interpreter of the tiny language;
// see tiny_lang.h for the grammar and semantics.
#include "evaluation/tiny_lang.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <map>
#include <sstream>

namespace lb::tiny {

// ---------------------------------------------------------------------------------------------
// Expression tree

enum class NodeKind { number, variable, call, negate, logical_not, binary, if_then_else };
enum class BinOp { add, sub, mul, div, mod, eq, ne, lt, le, gt, ge, logical_and, logical_or };

struct Node {
  NodeKind kind = NodeKind::number;
  int64_t number = 0;             // number
  int variable = -1;              // variable: index of the parameter
  std::string name;               // call: function name
  BinOp op = BinOp::add;          // binary
  std::vector<std::unique_ptr<Node>> kids;
};

const Function* Program::find(const std::string& name) const {
  for (const auto& f : functions)
    if (f.name == name) return &f;
  return nullptr;
}

namespace {

// ---------------------------------------------------------------------------------------------
// Lexer

enum class Tok { end, number, name, kw_def, kw_if, kw_then, kw_else, kw_and, kw_or, kw_not, symbol };

struct Token {
  Tok kind = Tok::end;
  std::string text;  // name, symbol or number text
  int64_t number = 0;
  int line = 1, column = 1;
};

struct SyntaxError {
  int line, column;
  std::string what;
};

std::vector<Token> lex(const std::string& src) {
  std::vector<Token> out;
  int line = 1, col = 1;
  size_t i = 0;
  auto advance = [&](size_t n) {
    for (size_t k = 0; k < n; ++k) {
      if (src[i] == '\n') {
        ++line;
        col = 1;
      } else {
        ++col;
      }
      ++i;
    }
  };
  while (i < src.size()) {
    unsigned char c = static_cast<unsigned char>(src[i]);
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      advance(1);
      continue;
    }
    if (c == '#') {
      while (i < src.size() && src[i] != '\n') advance(1);
      continue;
    }
    Token t;
    t.line = line;
    t.column = col;
    if (std::isdigit(c)) {
      size_t j = i;
      int64_t v = 0;
      while (j < src.size() && std::isdigit(static_cast<unsigned char>(src[j]))) {
        int d = src[j] - '0';
        if (v > (std::numeric_limits<int64_t>::max() - d) / 10)
          throw SyntaxError{line, col, "integer literal too large"};
        v = v * 10 + d;
        ++j;
      }
      if (j < src.size() && (std::isalpha(static_cast<unsigned char>(src[j])) || src[j] == '_'))
        throw SyntaxError{line, col, "a name cannot start with a digit"};
      t.kind = Tok::number;
      t.number = v;
      t.text = src.substr(i, j - i);
      advance(j - i);
      out.push_back(t);
      continue;
    }
    if (std::isalpha(c) || c == '_') {
      size_t j = i;
      while (j < src.size() && (std::isalnum(static_cast<unsigned char>(src[j])) || src[j] == '_')) ++j;
      t.text = src.substr(i, j - i);
      static const std::map<std::string, Tok> keywords = {
          {"def", Tok::kw_def}, {"if", Tok::kw_if},   {"then", Tok::kw_then}, {"else", Tok::kw_else},
          {"and", Tok::kw_and}, {"or", Tok::kw_or},   {"not", Tok::kw_not}};
      auto it = keywords.find(t.text);
      t.kind = it == keywords.end() ? Tok::name : it->second;
      advance(j - i);
      out.push_back(t);
      continue;
    }
    static const char* two_char[] = {"==", "!=", "<=", ">="};
    bool matched = false;
    for (const char* s : two_char) {
      if (src.compare(i, 2, s) == 0) {
        t.kind = Tok::symbol;
        t.text = s;
        advance(2);
        out.push_back(t);
        matched = true;
        break;
      }
    }
    if (matched) continue;
    if (std::string("()+-*/%<>=,;").find(static_cast<char>(c)) != std::string::npos) {
      t.kind = Tok::symbol;
      t.text = std::string(1, static_cast<char>(c));
      advance(1);
      out.push_back(t);
      continue;
    }
    std::string shown = c >= 32 && c < 127 ? std::string("'") + static_cast<char>(c) + "'"
                                           : "byte " + std::to_string(static_cast<int>(c));
    throw SyntaxError{line, col, "unexpected character " + shown};
  }
  Token end;
  end.kind = Tok::end;
  end.line = line;
  end.column = col;
  out.push_back(end);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Parser

class Parser {
 public:
  Parser(std::vector<Token> tokens, int max_nesting) : toks_(std::move(tokens)), max_nesting_(max_nesting) {}

  Program program() {
    Program p;
    while (peek().kind != Tok::end) {
      if (is_symbol(";")) {
        ++pos_;
        continue;
      }
      p.functions.push_back(definition());
      for (size_t k = 0; k + 1 < p.functions.size(); ++k)
        if (p.functions[k].name == p.functions.back().name)
          fail(last_def_, "function '" + p.functions.back().name + "' is defined twice");
    }
    return p;
  }

  // A closed expression filling the whole input.
  std::unique_ptr<Node> closed_expression() {
    params_ = nullptr;
    auto e = expr();
    if (peek().kind != Tok::end) fail(peek(), "unexpected " + describe(peek()) + " after the expression");
    return e;
  }

  // Calls seen while parsing, checked against the program afterwards: (name, arity, token).
  struct CallSite {
    std::string name;
    size_t arity;
    Token where;
  };
  std::vector<CallSite> calls;

 private:
  std::vector<Token> toks_;
  size_t pos_ = 0;
  int depth_ = 0;
  int max_nesting_;
  const std::vector<std::string>* params_ = nullptr;
  Token last_def_;

  const Token& peek() const { return toks_[pos_]; }
  bool is_symbol(const char* s) const { return peek().kind == Tok::symbol && peek().text == s; }
  [[noreturn]] void fail(const Token& t, const std::string& what) const { throw SyntaxError{t.line, t.column, what}; }
  static std::string describe(const Token& t) {
    switch (t.kind) {
      case Tok::end: return "end of input";
      case Tok::number: return "number " + t.text;
      case Tok::name: return "name '" + t.text + "'";
      default: return "'" + t.text + "'";
    }
  }
  void expect_symbol(const char* s, const char* context) {
    if (!is_symbol(s)) fail(peek(), std::string("expected '") + s + "' " + context + ", got " + describe(peek()));
    ++pos_;
  }
  void expect(Tok kind, const char* what) {
    if (peek().kind != kind) fail(peek(), std::string("expected ") + what + ", got " + describe(peek()));
    ++pos_;
  }
  struct Nest {
    Parser& p;
    explicit Nest(Parser& parser) : p(parser) {
      if (++p.depth_ > p.max_nesting_) p.fail(p.peek(), "expression nested too deeply");
    }
    ~Nest() { --p.depth_; }
  };

  Function definition() {
    last_def_ = peek();
    expect(Tok::kw_def, "'def' to start a function definition");
    Function f;
    if (peek().kind != Tok::name) fail(peek(), "expected a function name after 'def', got " + describe(peek()));
    f.name = peek().text;
    ++pos_;
    expect_symbol("(", "after the function name");
    if (!is_symbol(")")) {
      while (true) {
        if (peek().kind != Tok::name) fail(peek(), "expected a parameter name, got " + describe(peek()));
        for (const auto& q : f.params)
          if (q == peek().text) fail(peek(), "parameter '" + q + "' appears twice");
        f.params.push_back(peek().text);
        ++pos_;
        if (is_symbol(",")) {
          ++pos_;
          continue;
        }
        break;
      }
    }
    expect_symbol(")", "to close the parameter list");
    expect_symbol("=", "before the function body");
    params_ = &f.params;
    f.body = expr();
    params_ = nullptr;
    return f;
  }

  std::unique_ptr<Node> expr() {
    Nest guard(*this);
    if (peek().kind == Tok::kw_if) {
      ++pos_;
      auto n = std::make_unique<Node>();
      n->kind = NodeKind::if_then_else;
      n->kids.push_back(expr());
      expect(Tok::kw_then, "'then'");
      n->kids.push_back(expr());
      expect(Tok::kw_else, "'else' (every 'if' needs one)");
      n->kids.push_back(expr());
      return n;
    }
    return logic_or();
  }

  static std::unique_ptr<Node> binary(BinOp op, std::unique_ptr<Node> a, std::unique_ptr<Node> b) {
    auto n = std::make_unique<Node>();
    n->kind = NodeKind::binary;
    n->op = op;
    n->kids.push_back(std::move(a));
    n->kids.push_back(std::move(b));
    return n;
  }

  std::unique_ptr<Node> logic_or() {
    auto a = logic_and();
    while (peek().kind == Tok::kw_or) {
      ++pos_;
      a = binary(BinOp::logical_or, std::move(a), logic_and());
    }
    return a;
  }
  std::unique_ptr<Node> logic_and() {
    auto a = logic_not();
    while (peek().kind == Tok::kw_and) {
      ++pos_;
      a = binary(BinOp::logical_and, std::move(a), logic_not());
    }
    return a;
  }
  std::unique_ptr<Node> logic_not() {
    if (peek().kind == Tok::kw_not) {
      Nest guard(*this);
      ++pos_;
      auto n = std::make_unique<Node>();
      n->kind = NodeKind::logical_not;
      n->kids.push_back(logic_not());
      return n;
    }
    return comparison();
  }
  std::unique_ptr<Node> comparison() {
    auto a = sum();
    static const std::pair<const char*, BinOp> ops[] = {{"==", BinOp::eq}, {"!=", BinOp::ne}, {"<", BinOp::lt},
                                                        {"<=", BinOp::le}, {">", BinOp::gt},  {">=", BinOp::ge}};
    for (const auto& [s, op] : ops) {
      if (is_symbol(s)) {
        ++pos_;
        a = binary(op, std::move(a), sum());
        for (const auto& [s2, op2] : ops)
          if (is_symbol(s2)) fail(peek(), "comparisons do not chain; use 'and'");
        break;
      }
    }
    return a;
  }
  std::unique_ptr<Node> sum() {
    auto a = term();
    while (is_symbol("+") || is_symbol("-")) {
      BinOp op = peek().text == "+" ? BinOp::add : BinOp::sub;
      ++pos_;
      a = binary(op, std::move(a), term());
    }
    return a;
  }
  std::unique_ptr<Node> term() {
    auto a = unary();
    while (is_symbol("*") || is_symbol("/") || is_symbol("%")) {
      BinOp op = peek().text == "*" ? BinOp::mul : peek().text == "/" ? BinOp::div : BinOp::mod;
      ++pos_;
      a = binary(op, std::move(a), unary());
    }
    return a;
  }
  std::unique_ptr<Node> unary() {
    if (is_symbol("-")) {
      Nest guard(*this);
      ++pos_;
      auto n = std::make_unique<Node>();
      n->kind = NodeKind::negate;
      n->kids.push_back(unary());
      return n;
    }
    return atom();
  }
  std::unique_ptr<Node> atom() {
    const Token t = peek();
    if (t.kind == Tok::number) {
      ++pos_;
      auto n = std::make_unique<Node>();
      n->kind = NodeKind::number;
      n->number = t.number;
      return n;
    }
    if (t.kind == Tok::name) {
      ++pos_;
      if (is_symbol("(")) {
        ++pos_;
        auto n = std::make_unique<Node>();
        n->kind = NodeKind::call;
        n->name = t.text;
        if (!is_symbol(")")) {
          while (true) {
            n->kids.push_back(expr());
            if (is_symbol(",")) {
              ++pos_;
              continue;
            }
            break;
          }
        }
        expect_symbol(")", "to close the argument list");
        calls.push_back({t.text, n->kids.size(), t});
        return n;
      }
      auto n = std::make_unique<Node>();
      n->kind = NodeKind::variable;
      if (params_)
        for (size_t k = 0; k < params_->size(); ++k)
          if ((*params_)[k] == t.text) n->variable = static_cast<int>(k);
      if (n->variable < 0) fail(t, "unknown variable '" + t.text + "'");
      return n;
    }
    if (is_symbol("(")) {
      Nest guard(*this);
      ++pos_;
      auto e = expr();
      expect_symbol(")", "to close '('");
      return e;
    }
    fail(t, "expected a number, a name or '(', got " + describe(t));
  }
};

std::string format_error(const SyntaxError& e) {
  return "line " + std::to_string(e.line) + ", column " + std::to_string(e.column) + ": " + e.what;
}

int tree_depth(const Node& n) {
  int d = 0;
  for (const auto& k : n.kids) d = std::max(d, tree_depth(*k));
  return d + 1;
}

void check_depth(const Node& n, const Limits& limits, const char* what) {
  int d = tree_depth(n);
  if (d > limits.max_tree_depth)
    throw SyntaxError{1, 1, std::string(what) + " is nested " + std::to_string(d) + " levels deep; the limit is " +
                                std::to_string(limits.max_tree_depth)};
}

void check_calls(const Program& p, const std::vector<Parser::CallSite>& calls) {
  for (const auto& c : calls) {
    const Function* f = p.find(c.name);
    if (!f) throw SyntaxError{c.where.line, c.where.column, "call of undefined function '" + c.name + "'"};
    if (f->params.size() != c.arity)
      throw SyntaxError{c.where.line, c.where.column,
                        "function '" + c.name + "' takes " + std::to_string(f->params.size()) + " argument(s), got " +
                            std::to_string(c.arity)};
  }
}

// ---------------------------------------------------------------------------------------------
// Interpreter

struct RuntimeError {
  std::string what;
};

class Machine {
 public:
  Machine(const Program& p, const Limits& l) : program_(p), limits_(l) {}
  int64_t steps = 0;

  int64_t eval(const Node& n, const std::vector<int64_t>& env) {
    if (++steps > limits_.max_steps)
      throw RuntimeError{"step limit of " + std::to_string(limits_.max_steps) + " exceeded (endless recursion?)"};
    switch (n.kind) {
      case NodeKind::number: return n.number;
      case NodeKind::variable: return env[static_cast<size_t>(n.variable)];
      case NodeKind::negate: {
        int64_t v = eval(*n.kids[0], env);
        if (v == std::numeric_limits<int64_t>::min()) throw RuntimeError{"integer overflow"};
        return -v;
      }
      case NodeKind::logical_not: return eval(*n.kids[0], env) == 0 ? 1 : 0;
      case NodeKind::if_then_else:
        return eval(*n.kids[0], env) != 0 ? eval(*n.kids[1], env) : eval(*n.kids[2], env);
      case NodeKind::call: {
        std::vector<int64_t> args;
        args.reserve(n.kids.size());
        for (const auto& k : n.kids) args.push_back(eval(*k, env));
        return call(n.name, args);
      }
      case NodeKind::binary: return binary(n, env);
    }
    throw RuntimeError{"internal error: unknown node"};
  }

  int64_t call(const std::string& name, const std::vector<int64_t>& args) {
    const Function* f = program_.find(name);
    if (!f) throw RuntimeError{"call of undefined function '" + name + "'"};
    if (f->params.size() != args.size())
      throw RuntimeError{"function '" + name + "' takes " + std::to_string(f->params.size()) + " argument(s), got " +
                         std::to_string(args.size())};
    if (++depth_ > limits_.max_call_depth)
      throw RuntimeError{"call depth limit of " + std::to_string(limits_.max_call_depth) + " exceeded (endless recursion?)"};
    int64_t v = eval(*f->body, args);
    --depth_;
    return v;
  }

 private:
  const Program& program_;
  const Limits& limits_;
  int depth_ = 0;

  int64_t binary(const Node& n, const std::vector<int64_t>& env) {
    if (n.op == BinOp::logical_and) return eval(*n.kids[0], env) != 0 && eval(*n.kids[1], env) != 0 ? 1 : 0;
    if (n.op == BinOp::logical_or) return eval(*n.kids[0], env) != 0 || eval(*n.kids[1], env) != 0 ? 1 : 0;
    int64_t a = eval(*n.kids[0], env);
    int64_t b = eval(*n.kids[1], env);
    int64_t r = 0;
    switch (n.op) {
      case BinOp::add:
        if (__builtin_add_overflow(a, b, &r)) throw RuntimeError{"integer overflow"};
        return r;
      case BinOp::sub:
        if (__builtin_sub_overflow(a, b, &r)) throw RuntimeError{"integer overflow"};
        return r;
      case BinOp::mul:
        if (__builtin_mul_overflow(a, b, &r)) throw RuntimeError{"integer overflow"};
        return r;
      case BinOp::div:
      case BinOp::mod:
        if (b == 0) throw RuntimeError{"division by zero"};
        if (a == std::numeric_limits<int64_t>::min() && b == -1) throw RuntimeError{"integer overflow"};
        return n.op == BinOp::div ? a / b : a % b;
      case BinOp::eq: return a == b;
      case BinOp::ne: return a != b;
      case BinOp::lt: return a < b;
      case BinOp::le: return a <= b;
      case BinOp::gt: return a > b;
      case BinOp::ge: return a >= b;
      default: break;
    }
    throw RuntimeError{"internal error: unknown operator"};
  }
};

}  // namespace

ParseResult parse_program(const std::string& source, const Limits& limits) {
  ParseResult r;
  if (source.size() > limits.max_source_bytes) {
    r.error = "program of " + std::to_string(source.size()) + " bytes exceeds the limit of " +
              std::to_string(limits.max_source_bytes);
    return r;
  }
  try {
    Parser parser(lex(source), limits.max_nesting);
    r.program = parser.program();
    check_calls(r.program, parser.calls);
    for (const auto& f : r.program.functions) check_depth(*f.body, limits, ("the body of '" + f.name + "'").c_str());
    r.ok = true;
  } catch (const SyntaxError& e) {
    r.program = Program{};
    r.error = format_error(e);
  }
  return r;
}

RunResult evaluate(const Program& program, const std::string& expression, const Limits& limits) {
  RunResult r;
  std::unique_ptr<Node> e;
  if (expression.size() > limits.max_source_bytes) {
    r.error = "expression exceeds the source size limit";
    return r;
  }
  try {
    Parser parser(lex(expression), limits.max_nesting);
    e = parser.closed_expression();
    check_calls(program, parser.calls);
    check_depth(*e, limits, "the expression");
  } catch (const SyntaxError& err) {
    r.error = format_error(err);
    return r;
  }
  Machine m(program, limits);
  try {
    r.value = m.eval(*e, {});
    r.ok = true;
  } catch (const RuntimeError& err) {
    r.error = err.what;
  }
  r.steps = m.steps;
  return r;
}

RunResult call_function(const Program& program, const std::string& name, const std::vector<int64_t>& args,
                        const Limits& limits) {
  RunResult r;
  Machine m(program, limits);
  try {
    r.value = m.call(name, args);
    r.ok = true;
  } catch (const RuntimeError& err) {
    r.error = err.what;
  }
  r.steps = m.steps;
  return r;
}

TestReport run_tests(const std::string& program_source, const std::string& tests, const std::string& entry_point,
                     const Limits& limits) {
  TestReport rep;
  ParseResult parsed = parse_program(program_source, limits);
  if (!parsed.ok) {
    rep.error = "program does not parse: " + parsed.error;
    return rep;
  }
  if (!entry_point.empty() && !parsed.program.find(entry_point)) {
    rep.error = "program does not define '" + entry_point + "'";
    return rep;
  }
  std::istringstream in(tests);
  std::string line;
  int line_no = 0;
  bool all = true;
  while (std::getline(in, line)) {
    ++line_no;
    size_t first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#') continue;
    ++rep.tests;
    RunResult run = evaluate(parsed.program, line, limits);
    if (run.ok && run.value != 0) {
      ++rep.tests_passed;
    } else {
      all = false;
      if (rep.error.empty())
        rep.error = "test line " + std::to_string(line_no) + " (" + line + ") " +
                    (run.ok ? std::string("is false") : "failed: " + run.error);
    }
  }
  if (rep.tests == 0) {
    rep.error = "no tests to run";
    return rep;
  }
  rep.passed = all;
  return rep;
}

}  // namespace lb::tiny
