#include "views/expr.h"

#include <charconv>
#include <cmath>
#include <functional>

#include "braid/url.h"
#include "views/json_text.h"
#include "views/time_bucket.h"

namespace braid::views {

namespace {

constexpr int kMaxDepth = 32;
constexpr size_t kMaxArgs = 64;
constexpr size_t kMaxExprBytes = 4096;

bool IsNameStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsNameChar(char c) { return IsNameStart(c) || (c >= '0' && c <= '9'); }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

Status WrongKind(std::string_view fn, std::string_view takes, const Value& v) {
  return Status::InvalidArgument(std::string(fn) + " takes " + std::string(takes) + ", not a " +
                                 ValueKindName(v.kind()));
}

// ---------------------------------------------------------------------------
// Nodes

class PathExpr final : public Expr {
 public:
  PathExpr(std::string path, size_t index) : path_(std::move(path)), index_(index) {}
  Status Eval(const Event& e, Value* out) const override {
    if (e.fields == nullptr || index_ >= e.fields->size()) {
      *out = Value();
      return Status::OK();
    }
    const avro::ExtractedFields& f = *e.fields;
    switch (f.kind(index_)) {
      case avro::ValueKind::kAbsent:
      case avro::ValueKind::kNull:
        *out = Value();
        break;
      case avro::ValueKind::kBool:
        *out = Value::Bool(*f.GetBool(index_));
        break;
      case avro::ValueKind::kLong:
        *out = Value::Long(*f.GetLong(index_));
        break;
      case avro::ValueKind::kTimestamp:
        *out = Value::Long(*f.GetTimestampMillis(index_));
        break;
      case avro::ValueKind::kDouble:
        *out = Value::Double(*f.GetDouble(index_));
        break;
      case avro::ValueKind::kString:
        *out = Value::String(*f.GetString(index_));
        break;
    }
    return Status::OK();
  }
  std::string ToString() const override { return path_; }
  std::string path() const override { return path_; }

 private:
  std::string path_;
  size_t index_;
};

enum class Var { kKey, kTopic, kPartition, kOffset, kTimestamp };

class VarExpr final : public Expr {
 public:
  VarExpr(Var var, std::string name) : var_(var), name_(std::move(name)) {}
  Status Eval(const Event& e, Value* out) const override {
    switch (var_) {
      case Var::kKey:
        *out = e.key ? Value::String(*e.key) : Value();
        break;
      case Var::kTopic:
        *out = Value::String(e.topic);
        break;
      case Var::kPartition:
        *out = Value::Long(e.partition.value());
        break;
      case Var::kOffset:
        *out = Value::Long(e.offset.value());
        break;
      case Var::kTimestamp:
        *out = Value::Long(e.timestamp_ms);
        break;
    }
    return Status::OK();
  }
  std::string ToString() const override { return "$" + name_; }

 private:
  Var var_;
  std::string name_;
};

class LiteralExpr final : public Expr {
 public:
  explicit LiteralExpr(Value v) : v_(std::move(v)) {}
  Status Eval(const Event&, Value* out) const override {
    *out = v_;
    return Status::OK();
  }
  std::string ToString() const override {
    if (v_.kind() == Value::Kind::kString) return JsonQuote(v_.string_value());
    return ValueText(v_).value_or("?");
  }
  const Value& value() const { return v_; }

 private:
  Value v_;
};

enum class Fn { kNormalizeUrl, kHost, kLower, kUpper, kConcat, kCoalesce, kString, kTruncate };

struct FnInfo {
  std::string_view name;
  Fn fn;
  size_t min_args;
  size_t max_args;
};
constexpr FnInfo kFunctions[] = {
    {"normalize_url", Fn::kNormalizeUrl, 1, 1},
    {"host", Fn::kHost, 1, 1},
    {"domain", Fn::kHost, 1, 1},
    {"lower", Fn::kLower, 1, 1},
    {"upper", Fn::kUpper, 1, 1},
    {"concat", Fn::kConcat, 1, kMaxArgs},
    {"coalesce", Fn::kCoalesce, 1, kMaxArgs},
    {"string", Fn::kString, 1, 1},
    {"truncate", Fn::kTruncate, 2, 2},
};

enum class Unit { kSecond, kMinute, kHour, kDay, kWeek, kMonth, kYear };
struct UnitName {
  std::string_view name;
  Unit unit;
};
constexpr UnitName kUnits[] = {{"second", Unit::kSecond}, {"minute", Unit::kMinute},
                               {"hour", Unit::kHour},     {"day", Unit::kDay},
                               {"week", Unit::kWeek},     {"month", Unit::kMonth},
                               {"year", Unit::kYear}};

int64_t FloorTo(int64_t t, int64_t unit) {
  int64_t q = t / unit;
  if (t % unit != 0 && t < 0) --q;
  return q * unit;
}

int64_t Truncate(int64_t t, Unit u) {
  switch (u) {
    case Unit::kSecond:
      return FloorTo(t, 1000);
    case Unit::kMinute:
      return FloorTo(t, 60'000);
    case Unit::kHour:
      return BucketStart(Granularity::kHour, t);
    case Unit::kDay:
      return BucketStart(Granularity::kDay, t);
    case Unit::kWeek:
      return BucketStart(Granularity::kWeek, t);
    case Unit::kMonth:
      return BucketStart(Granularity::kMonth, t);
    case Unit::kYear: {
      const int64_t day = FloorTo(t, 86'400'000) / 86'400'000;
      int64_t y;
      unsigned m;
      unsigned d;
      CivilFromDays(day, &y, &m, &d);
      return DaysFromCivil(y, 1, 1) * 86'400'000;
    }
  }
  return t;
}

class CallExpr final : public Expr {
 public:
  CallExpr(const FnInfo& info, std::vector<std::unique_ptr<Expr>> args, Unit unit)
      : info_(info), args_(std::move(args)), unit_(unit) {}

  Status Eval(const Event& e, Value* out) const override {
    switch (info_.fn) {
      case Fn::kCoalesce:
        for (const auto& a : args_) {
          RETURN_IF_ERROR(a->Eval(e, out));
          if (!out->is_null()) return Status::OK();
        }
        return Status::OK();
      case Fn::kConcat: {
        std::string text;
        Value v;
        for (const auto& a : args_) {
          RETURN_IF_ERROR(a->Eval(e, &v));
          if (v.is_null()) {
            *out = Value();
            return Status::OK();
          }
          if (v.kind() == Value::Kind::kString) {
            text += v.string_value();
          } else {
            Result<std::string> t = ValueText(v);
            if (!t.ok()) return WrongKind("concat", "strings, numbers or bools", v);
            text += *t;
          }
        }
        *out = Value::String(std::move(text));
        return Status::OK();
      }
      default:
        break;
    }
    Value arg;
    RETURN_IF_ERROR(args_[0]->Eval(e, &arg));
    if (arg.is_null()) {
      *out = Value();
      return Status::OK();
    }
    switch (info_.fn) {
      case Fn::kNormalizeUrl:
      case Fn::kHost: {
        if (arg.kind() != Value::Kind::kString) return WrongKind(info_.name, "a string", arg);
        std::optional<std::string> r =
            info_.fn == Fn::kHost ? UrlHost(arg.string_value()) : NormalizeUrl(arg.string_value());
        *out = r ? Value::String(std::move(*r)) : Value();
        return Status::OK();
      }
      case Fn::kLower:
      case Fn::kUpper: {
        if (arg.kind() != Value::Kind::kString) return WrongKind(info_.name, "a string", arg);
        std::string s = std::move(arg.mutable_string());
        for (char& c : s) {
          if (info_.fn == Fn::kLower && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
          if (info_.fn == Fn::kUpper && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        }
        *out = Value::String(std::move(s));
        return Status::OK();
      }
      case Fn::kString: {
        Result<std::string> t = ValueText(arg);
        if (!t.ok()) return WrongKind("string", "a string, number or bool", arg);
        *out = Value::String(std::move(*t));
        return Status::OK();
      }
      case Fn::kTruncate:
        if (arg.kind() != Value::Kind::kLong) {
          return WrongKind("truncate", "a time in milliseconds (a long)", arg);
        }
        *out = Value::Long(Truncate(arg.long_value(), unit_));
        return Status::OK();
      default:
        return Status::Internal("unhandled function");
    }
  }

  std::string ToString() const override {
    std::string s(info_.name);
    s += '(';
    for (size_t i = 0; i < args_.size(); ++i) {
      if (i > 0) s += ", ";
      s += args_[i]->ToString();
    }
    return s + ')';
  }

 private:
  const FnInfo& info_;
  std::vector<std::unique_ptr<Expr>> args_;
  Unit unit_;
};

// ---------------------------------------------------------------------------
// Parser

class Parser {
 public:
  Parser(std::string_view text, const std::function<size_t(const std::string&)>& path_index)
      : text_(text), path_index_(path_index) {}

  Result<std::unique_ptr<Expr>> ParseAll() {
    if (text_.size() > kMaxExprBytes) return Error("expression longer than 4096 bytes");
    ASSIGN_OR_RETURN(std::unique_ptr<Expr> e, Parse(0));
    SkipSpace();
    if (pos_ != text_.size()) return Error("unexpected text after the expression");
    return e;
  }

 private:
  Status Error(std::string_view what) const {
    return Status::InvalidArgument("at character " + std::to_string(pos_ + 1) + ": " +
                                   std::string(what));
  }
  void SkipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t')) ++pos_;
  }
  bool Accept(char c) {
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  std::string_view Name() {
    const size_t start = pos_;
    if (pos_ < text_.size() && IsNameStart(text_[pos_])) {
      while (pos_ < text_.size() && IsNameChar(text_[pos_])) ++pos_;
    }
    return text_.substr(start, pos_ - start);
  }

  Result<std::unique_ptr<Expr>> Parse(int depth) {
    if (depth > kMaxDepth) return Error("expression nested too deep");
    SkipSpace();
    if (pos_ == text_.size()) return Error("expected an expression");
    const char c = text_[pos_];
    if (c == '\'' || c == '"') return ParseString();
    if (IsDigit(c) || c == '-') return ParseNumber();
    if (c == '$') {
      ++pos_;
      const size_t at = pos_;
      const std::string_view name = Name();
      static constexpr std::pair<std::string_view, Var> kVars[] = {{"key", Var::kKey},
                                                                   {"topic", Var::kTopic},
                                                                   {"partition", Var::kPartition},
                                                                   {"offset", Var::kOffset},
                                                                   {"timestamp", Var::kTimestamp}};
      for (const auto& [n, v] : kVars) {
        if (n == name) return std::unique_ptr<Expr>(new VarExpr(v, std::string(name)));
      }
      pos_ = at;
      return Error("unknown variable $" + std::string(name) +
                   " (variables: $key, $topic, $partition, $offset, $timestamp)");
    }
    if (!IsNameStart(c)) return Error(std::string("unexpected character '") + c + "'");
    const size_t name_at = pos_;
    std::string name(Name());
    SkipSpace();
    if (pos_ < text_.size() && text_[pos_] == '(') {
      ++pos_;
      const FnInfo* info = nullptr;
      for (const FnInfo& f : kFunctions) {
        if (f.name == name) info = &f;
      }
      if (info == nullptr) {
        pos_ = name_at;
        return Error("unknown function " + name +
                     " (functions: normalize_url, host, domain, lower, upper, concat, coalesce, "
                     "string, truncate)");
      }
      std::vector<std::unique_ptr<Expr>> args;
      std::vector<size_t> arg_at;
      if (!Accept(')')) {
        do {
          if (args.size() >= kMaxArgs) return Error("too many arguments");
          SkipSpace();
          arg_at.push_back(pos_);
          ASSIGN_OR_RETURN(std::unique_ptr<Expr> a, Parse(depth + 1));
          args.push_back(std::move(a));
        } while (Accept(','));
        if (!Accept(')')) return Error("expected ',' or ')'");
      }
      if (args.size() < info->min_args || args.size() > info->max_args) {
        const size_t end = pos_;
        pos_ = name_at;
        Status s = Error(name + " takes " +
                         (info->min_args == info->max_args
                              ? std::to_string(info->min_args)
                              : "at least " + std::to_string(info->min_args)) +
                         " argument" + (info->max_args == 1 ? "" : "s") + ", not " +
                         std::to_string(args.size()));
        pos_ = end;
        return s;
      }
      Unit unit = Unit::kDay;
      if (info->fn == Fn::kTruncate) {
        const auto* lit = dynamic_cast<const LiteralExpr*>(args[1].get());
        bool ok = false;
        if (lit != nullptr && lit->value().kind() == Value::Kind::kString) {
          for (const UnitName& u : kUnits) {
            if (u.name == lit->value().string_value()) {
              unit = u.unit;
              ok = true;
            }
          }
        }
        if (!ok) {
          pos_ = arg_at[1];
          return Error(
              "truncate's unit is a string literal: 'second', 'minute', 'hour', 'day', 'week', "
              "'month' or 'year'");
        }
      }
      return std::unique_ptr<Expr>(new CallExpr(*info, std::move(args), unit));
    }
    // A path: NAME { '.' NAME } (no spaces inside).
    std::string path = name;
    while (pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      const std::string_view step = Name();
      if (step.empty()) return Error("expected a field name after '.'");
      path += '.';
      path += step;
    }
    const size_t index = path_index_(path);
    return std::unique_ptr<Expr>(new PathExpr(std::move(path), index));
  }

  Result<std::unique_ptr<Expr>> ParseString() {
    const char quote = text_[pos_++];
    std::string s;
    while (true) {
      if (pos_ >= text_.size()) return Error("unterminated string");
      const char c = text_[pos_++];
      if (c == quote) break;
      if (c == '\\') {
        if (pos_ >= text_.size()) return Error("unterminated string");
        const char esc = text_[pos_++];
        switch (esc) {
          case '\\':
          case '\'':
          case '"':
            s += esc;
            break;
          case 'n':
            s += '\n';
            break;
          case 't':
            s += '\t';
            break;
          default:
            --pos_;
            return Error(std::string("unknown escape \\") + esc);
        }
        continue;
      }
      s += c;
    }
    return std::unique_ptr<Expr>(new LiteralExpr(Value::String(std::move(s))));
  }

  Result<std::unique_ptr<Expr>> ParseNumber() {
    const size_t start = pos_;
    if (text_[pos_] == '-') ++pos_;
    const size_t digits = pos_;
    while (pos_ < text_.size() && IsDigit(text_[pos_])) ++pos_;
    if (pos_ == digits) return Error("expected a number");
    bool is_double = false;
    if (pos_ < text_.size() && text_[pos_] == '.') {
      is_double = true;
      ++pos_;
      const size_t frac = pos_;
      while (pos_ < text_.size() && IsDigit(text_[pos_])) ++pos_;
      if (pos_ == frac) return Error("expected digits after '.'");
    }
    const std::string_view num = text_.substr(start, pos_ - start);
    if (is_double) {
      double d = 0;
      auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), d);
      if (ec != std::errc() || !std::isfinite(d)) {
        pos_ = start;
        return Error("number out of range");
      }
      return std::unique_ptr<Expr>(new LiteralExpr(Value::Double(d)));
    }
    int64_t v = 0;
    auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), v);
    if (ec != std::errc()) {
      pos_ = start;
      return Error("number out of range");
    }
    return std::unique_ptr<Expr>(new LiteralExpr(Value::Long(v)));
  }

  std::string_view text_;
  const std::function<size_t(const std::string&)>& path_index_;
  size_t pos_ = 0;
};

}  // namespace

Result<std::string> ValueText(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNull:
      return std::string();
    case Value::Kind::kBool:
      return std::string(v.bool_value() ? "true" : "false");
    case Value::Kind::kLong:
      return std::to_string(v.long_value());
    case Value::Kind::kDouble:
      return JsonNumber(v.double_value());
    case Value::Kind::kString:
      return v.string_value();
    case Value::Kind::kTuple:
      break;
  }
  return Status::InvalidArgument("a tuple has no text");
}

size_t ExprCompiler::PathIndex(const std::string& path) {
  for (size_t i = 0; i < paths_.size(); ++i) {
    if (paths_[i] == path) return i;
  }
  paths_.push_back(path);
  return paths_.size() - 1;
}

Result<std::unique_ptr<Expr>> ExprCompiler::Compile(std::string_view text) {
  const std::function<size_t(const std::string&)> index = [this](const std::string& p) {
    return PathIndex(p);
  };
  // Paths of a failed compile are not kept.
  const size_t before = paths_.size();
  Result<std::unique_ptr<Expr>> r = Parser(text, index).ParseAll();
  if (!r.ok()) paths_.resize(before);
  return r;
}

}  // namespace braid::views
