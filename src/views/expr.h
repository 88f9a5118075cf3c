// View expressions: the key, value and event-time expressions of a view
// file's views, compiled once and evaluated per event.
//
// Grammar:
//   expr     := call | path | variable | string | number
//   call     := NAME '(' [ expr { ',' expr } ] ')'
//   path     := NAME { '.' NAME }        a field path of the record value
//                                       (avro/field_extractor.h: nested
//                                       records, union branches)
//   variable := '$' NAME                 $key $topic $partition $offset
//                                       $timestamp (of the record)
//   string   := '...' or "..."           escapes \\ \' \" \n \t
//   number   := ['-'] DIGITS ['.' DIGITS]
// NAME is [A-Za-z_][A-Za-z0-9_]*; spaces are allowed between tokens.
//
// Values (braid::Value): a path gives null when the record does not hold it
// or holds an Avro null; strings, bytes, fixed and enum symbols are strings;
// int and long are longs; timestamp and date logical types are longs in
// milliseconds; float and double are doubles; booleans are bools.
//
// Functions (a null argument gives null unless said otherwise):
//   normalize_url(s)   url.h: HTTP://Foo.com:80/a?x=1#y → http://foo.com/a;
//                      null if s is not a URL
//   host(s), domain(s) the normalized host without its port; null if s is
//                      not a URL
//   lower(s), upper(s) ASCII case mapping (other bytes unchanged)
//   concat(a, b, ...)  the texts joined (longs in decimal, doubles as JSON
//                      numbers, bools as true/false); null if any is null
//   coalesce(a, b, ...) the first argument that is not null
//   string(x)          the text of x
//   truncate(t, 'unit') t (milliseconds) rounded down to the start of its
//                      second, minute, hour, day, week (ISO, Monday), month
//                      or year (UTC); unit is a string literal
// A function given a value of the wrong kind (lower of a long) fails the
// event (a map error), naming the function.
//
// Thread safety: a compiled Expr is immutable; Eval may run on many threads.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "braid/value.h"
#include "views/view.h"

namespace braid::views {

class Expr {
 public:
  virtual ~Expr() = default;
  // Evaluates against one event. Errors: InvalidArgument naming the
  // function and the kind it got.
  virtual Status Eval(const Event& event, Value* out) const = 0;
  // The canonical text (part of a view's fingerprint).
  virtual std::string ToString() const = 0;
  // The field path if the expression is a plain path, else "".
  virtual std::string path() const { return ""; }
};

// Compiles expressions; the field paths of all of them are collected into
// one list (each path once) whose indexes the compiled paths read from
// Event::fields.
class ExprCompiler {
 public:
  // InvalidArgument "at character N: ..." (N 1-based) for a syntax error,
  // an unknown function or variable, a wrong number of arguments, a bad
  // truncate unit.
  Result<std::unique_ptr<Expr>> Compile(std::string_view text);
  const std::vector<std::string>& paths() const { return paths_; }

 private:
  size_t PathIndex(const std::string& path);
  std::vector<std::string> paths_;
};

// The text of a value as concat and keys use it: strings as they are,
// longs in decimal, doubles as JSON numbers, bools as true/false. Tuples:
// InvalidArgument; null: "" (callers check for null first).
Result<std::string> ValueText(const Value& v);

}  // namespace braid::views
