// A tiny, deterministic, side-effect-free programming language and its in-process interpreter: the
// language of the synthetic HumanEval analogue (syn_humaneval). No I/O, 64-bit integers only, a step
// budget and a call-depth limit, so model-written code can be run without a sandbox.
//
// Grammar (newlines are plain white space; `#` starts a comment to the end of the line):
//   program := { def [';'] }
//   def     := 'def' NAME '(' [NAME {',' NAME}] ')' '=' expr
//   expr    := 'if' expr 'then' expr 'else' expr | or
//   or      := and {'or' and}            and := not {'and' not}       not := 'not' not | cmp
//   cmp     := sum [('=='|'!='|'<'|'<='|'>'|'>=') sum]
//   sum     := term {('+'|'-') term}     term := unary {('*'|'/'|'%') unary}
//   unary   := '-' unary | atom          atom := INT | NAME | NAME '(' [expr {',' expr}] ')' | '(' expr ')'
// Semantics: comparisons and logic give 1 or 0; `if`, `and`, `or`, `not` treat non-zero as true
// (and/or short-circuit); `/` and `%` truncate toward zero as in C; overflow and division by zero
// are runtime errors. Functions may call each other (and themselves) in any order of definition.
// Example: `def f(x) = if x < 1 then 0 else x + f(x - 1)`.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace lb::tiny {

struct Limits {
  int64_t max_steps = 100000;        // evaluation steps per run (one per expression node visited)
  int max_call_depth = 100;          // nested calls; deeper recursion is an error, not a crash
  int max_nesting = 64;              // syntactic nesting while parsing (parentheses, if, unary minus)
  int max_tree_depth = 100;          // depth of a parsed expression tree (long operator chains too);
                                     // with max_call_depth it bounds the interpreter's native stack
  size_t max_source_bytes = 8192;    // longer programs are rejected before parsing
};

struct Node;  // expression tree, defined in tiny_lang.cpp

struct Function {
  std::string name;
  std::vector<std::string> params;
  std::shared_ptr<const Node> body;
};

struct Program {
  std::vector<Function> functions;
  const Function* find(const std::string& name) const;
};

// Parse outcome: either a program, or an error "line L, column C: what is wrong".
struct ParseResult {
  bool ok = false;
  Program program;
  std::string error;
};

// Parses a program. Every call must name a function defined in the program with the right number
// of arguments, and every variable must be a parameter of its function; otherwise an error.
ParseResult parse_program(const std::string& source, const Limits& limits = {});

struct RunResult {
  bool ok = false;
  int64_t value = 0;
  std::string error;  // parse or runtime error when !ok
  int64_t steps = 0;
};

// Evaluates a closed expression (no free variables) that may call the program's functions.
RunResult evaluate(const Program& program, const std::string& expression, const Limits& limits = {});
// Calls one function with integer arguments.
RunResult call_function(const Program& program, const std::string& name, const std::vector<int64_t>& args,
                        const Limits& limits = {});

// Outcome of running hidden tests against a candidate program.
struct TestReport {
  bool passed = false;   // the program parsed, defines the entry point, and every test gave non-zero
  int tests = 0;
  int tests_passed = 0;
  std::string error;     // the first problem found, for diagnostics
};

// `tests` holds one closed expression per line (blank lines and `#` lines ignored), e.g.
// "f(3) == 10"; each must evaluate to non-zero without error. `entry_point` must be defined.
TestReport run_tests(const std::string& program_source, const std::string& tests, const std::string& entry_point,
                     const Limits& limits = {});

}  // namespace lb::tiny
