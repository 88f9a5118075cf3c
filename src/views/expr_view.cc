#include "views/expr_view.h"

#include <algorithm>
#include <cstdio>
#include <set>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace braid::views {

namespace {

class ExprView final : public ViewDefinition {
 public:
  ExprView(std::string name, std::string topic, std::vector<Granularity> granularities,
           MonoidSpec spec, std::shared_ptr<const Monoid> monoid, std::vector<std::string> paths,
           std::unique_ptr<Expr> key, std::unique_ptr<Expr> time, std::unique_ptr<Expr> value,
           std::vector<std::unique_ptr<Expr>> field_values, bool needs_avro,
           std::unique_ptr<Expr> session_by, int64_t session_gap_ms)
      : name_(std::move(name)),
        topic_(std::move(topic)),
        granularities_(std::move(granularities)),
        spec_(std::move(spec)),
        monoid_(std::move(monoid)),
        paths_(std::move(paths)),
        key_(std::move(key)),
        time_(std::move(time)),
        value_(std::move(value)),
        field_values_(std::move(field_values)),
        needs_avro_(needs_avro),
        is_count_(spec_.kind == MonoidSpec::Kind::kCount),
        session_by_(std::move(session_by)) {
    description_ = "key " + key_->ToString() + ", time " + time_->ToString();
    if (session_by_) {
      session_.by = session_by_->ToString();
      session_.gap_ms = session_gap_ms;
      description_ += ", session by " + session_.by + " gap " + FormatDuration(session_gap_ms);
    }
    if (value_) description_ += ", value " + value_->ToString();
    for (size_t i = 0; i < field_values_.size(); ++i) {
      if (field_values_[i]) {
        description_ += ", value." + spec_.fields[i].name + " " + field_values_[i]->ToString();
      }
    }
    std::string canonical = "braid view v1\ntopic " + topic_ + "\n" + description_ + "\nmonoid " +
                            monoid_->spec() + "\ngranularities";
    for (Granularity g : granularities_) canonical.append(" ").append(GranularityName(g));
    canonical += needs_avro_ ? "\nneeds_avro" : "\nany value";
    const XXH128_hash_t h = XXH3_128bits(canonical.data(), canonical.size());
    char hex[33];
    std::snprintf(hex, sizeof(hex), "%016llx%016llx", static_cast<unsigned long long>(h.high64),
                  static_cast<unsigned long long>(h.low64));
    fingerprint_ = hex;
  }

  const std::string& name() const override { return name_; }
  const std::string& topic() const override { return topic_; }
  const std::vector<Granularity>& granularities() const override { return granularities_; }
  const Monoid& monoid() const override { return *monoid_; }
  const std::vector<std::string>& paths() const override { return paths_; }
  bool needs_avro() const override { return needs_avro_; }
  std::string time_field() const override { return time_->path(); }
  std::string description() const override { return description_; }
  std::string Fingerprint() const override { return fingerprint_; }
  const SessionSpec* session() const override { return session_by_ ? &session_ : nullptr; }

  Status Map(const Event& event, std::vector<Emit>* out) const override {
    Value key;
    Status s = key_->Eval(event, &key);
    if (!s.ok()) return s.WithContext("key");
    if (key.is_null()) return Status::OK();
    Emit emit;
    if (key.kind() == Value::Kind::kString) {
      emit.key = std::move(key.mutable_string());
    } else {
      Result<std::string> text = ValueText(key);
      if (!text.ok()) return text.status().WithContext("key");
      emit.key = std::move(*text);
    }
    Value time;
    s = time_->Eval(event, &time);
    if (!s.ok()) return s.WithContext("time");
    if (time.is_null()) {
      emit.time_ms = event.timestamp_ms;
    } else if (time.kind() == Value::Kind::kLong) {
      emit.time_ms = time.long_value();
    } else {
      return Status::InvalidArgument(std::string("time: not a time in milliseconds (a ") +
                                     ValueKindName(time.kind()) + ")");
    }
    if (session_by_ != nullptr) {
      // A sessionised view emits the person (session.h).
      Value by;
      s = session_by_->Eval(event, &by);
      if (!s.ok()) return s.WithContext("session.by");
      if (by.is_null()) return Status::OK();  // nobody's visit
      if (by.kind() == Value::Kind::kString) {
        emit.value = std::move(by.mutable_string());
      } else {
        Result<std::string> text = ValueText(by);
        if (!text.ok()) return text.status().WithContext("session.by");
        emit.value = std::move(*text);
      }
    } else if (is_count_) {
      emit.value = CountMonoid::One();
    } else if (value_ != nullptr) {
      Value v;
      s = value_->Eval(event, &v);
      if (!s.ok()) return s.WithContext("value");
      if (v.is_null()) return Status::OK();
      s = monoid_->Lift(v, &emit.value);
      if (!s.ok()) return s.WithContext("value");
    } else {
      std::vector<Value> parts(field_values_.size());
      for (size_t i = 0; i < field_values_.size(); ++i) {
        if (field_values_[i] == nullptr) continue;
        s = field_values_[i]->Eval(event, &parts[i]);
        if (!s.ok()) return s.WithContext("value." + spec_.fields[i].name);
      }
      s = monoid_->Lift(Value::Tuple(std::move(parts)), &emit.value);
      if (!s.ok()) return s.WithContext("value");
    }
    out->push_back(std::move(emit));
    return Status::OK();
  }

 private:
  const std::string name_;
  const std::string topic_;
  const std::vector<Granularity> granularities_;
  const MonoidSpec spec_;
  const std::shared_ptr<const Monoid> monoid_;
  const std::vector<std::string> paths_;
  const std::unique_ptr<Expr> key_;
  const std::unique_ptr<Expr> time_;
  const std::unique_ptr<Expr> value_;
  const std::vector<std::unique_ptr<Expr>> field_values_;
  const bool needs_avro_;
  const bool is_count_;
  const std::unique_ptr<Expr> session_by_;
  SessionSpec session_;
  std::string description_;
  std::string fingerprint_;
};

bool TakesNoValue(const MonoidSpec& spec) { return spec.kind == MonoidSpec::Kind::kCount; }

}  // namespace

bool ValidViewName(std::string_view name) {
  if (name.empty() || name.size() > 200 || name == "." || name == "..") return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool ValidTopicName(std::string_view name) {
  if (name.empty() || name.size() > 249 || name == "." || name == "..") return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

ExprViewBuilder::ExprViewBuilder(std::string name, std::string topic)
    : name_(std::move(name)), topic_(std::move(topic)) {}

ExprViewBuilder::~ExprViewBuilder() = default;

Status ExprViewBuilder::SetKey(std::string_view expr) {
  ASSIGN_OR_RETURN(key_, compiler_.Compile(expr));
  return Status::OK();
}

Status ExprViewBuilder::SetTime(std::string_view expr) {
  ASSIGN_OR_RETURN(time_, compiler_.Compile(expr));
  return Status::OK();
}

Status ExprViewBuilder::SetMonoid(const MonoidSpec& spec) {
  ASSIGN_OR_RETURN(monoid_, MakeMonoid(spec));
  spec_ = spec;
  field_values_.clear();
  if (spec.kind == MonoidSpec::Kind::kTuple) field_values_.resize(spec.fields.size());
  return Status::OK();
}

Status ExprViewBuilder::SetValue(std::string_view expr) {
  if (monoid_ == nullptr) return Status::InvalidArgument("the monoid comes first");
  const MonoidSpec& spec = spec_;
  if (TakesNoValue(spec)) {
    return Status::InvalidArgument("count counts events: it takes no value");
  }
  if (spec.kind == MonoidSpec::Kind::kTuple) {
    return Status::InvalidArgument(
        "a tuple takes one value per field: a map from field name to expression");
  }
  ASSIGN_OR_RETURN(value_, compiler_.Compile(expr));
  return Status::OK();
}

Status ExprViewBuilder::SetFieldValue(std::string_view field, std::string_view expr) {
  if (monoid_ == nullptr) return Status::InvalidArgument("the monoid comes first");
  const MonoidSpec& spec = spec_;
  if (spec.kind != MonoidSpec::Kind::kTuple) {
    return Status::InvalidArgument("a map of values needs a tuple monoid");
  }
  for (size_t i = 0; i < spec.fields.size(); ++i) {
    if (spec.fields[i].name != field) continue;
    if (TakesNoValue(spec.fields[i].spec)) {
      return Status::InvalidArgument("field \"" + std::string(field) +
                                     "\" is a count: it takes no value");
    }
    if (field_values_[i] != nullptr) {
      return Status::InvalidArgument("field \"" + std::string(field) + "\" given twice");
    }
    ASSIGN_OR_RETURN(field_values_[i], compiler_.Compile(expr));
    return Status::OK();
  }
  std::string names;
  for (const auto& [n, s] : spec.fields) names += (names.empty() ? "" : ", ") + n;
  return Status::InvalidArgument("the tuple has no field \"" + std::string(field) +
                                 "\" (fields: " + names + ")");
}

Status ExprViewBuilder::SetSession(std::string_view by_expr, int64_t gap_ms) {
  if (gap_ms <= 0 || gap_ms > kMaxSessionGapMs) {
    return Status::InvalidArgument("session gap out of range (1 ms .. 30 days)");
  }
  ASSIGN_OR_RETURN(session_by_, compiler_.Compile(by_expr));
  session_gap_ms_ = gap_ms;
  return Status::OK();
}

Status ExprViewBuilder::SetGranularities(std::vector<Granularity> granularities) {
  if (granularities.empty()) return Status::InvalidArgument("no granularities");
  std::set<Granularity> seen;
  for (Granularity g : granularities) {
    if (!seen.insert(g).second) {
      return Status::InvalidArgument(std::string(GranularityName(g)) + " given twice");
    }
  }
  granularities_ = std::move(granularities);
  return Status::OK();
}

Result<std::shared_ptr<const ViewDefinition>> ExprViewBuilder::Build() {
  if (!ValidViewName(name_)) {
    return Status::InvalidArgument("view name \"" + name_ + "\" is not [A-Za-z0-9_.-]{1,200}");
  }
  if (!ValidTopicName(topic_)) {
    return Status::InvalidArgument("topic \"" + topic_ + "\" is not a valid topic name");
  }
  if (key_ == nullptr) return Status::InvalidArgument("no key");
  if (monoid_ == nullptr) return Status::InvalidArgument("no aggregate (monoid)");
  const MonoidSpec& spec = spec_;
  if (!TakesNoValue(spec) && spec.kind != MonoidSpec::Kind::kTuple && value_ == nullptr) {
    return Status::InvalidArgument(monoid_->spec() + " needs a value");
  }
  if (spec.kind == MonoidSpec::Kind::kTuple && session_by_ == nullptr) {
    for (size_t i = 0; i < spec.fields.size(); ++i) {
      if (field_values_[i] == nullptr && !TakesNoValue(spec.fields[i].spec)) {
        return Status::InvalidArgument("tuple field \"" + spec.fields[i].name +
                                       "\" needs a value (" + spec.fields[i].spec.ToString() + ")");
      }
    }
  }
  if (session_by_ != nullptr && spec.ToString() != VisitsMonoidSpec().ToString()) {
    return Status::InvalidArgument("a sessionised view aggregates visits (" +
                                   VisitsMonoidSpec().ToString() + "), not " + monoid_->spec());
  }
  if (session_by_ != nullptr &&
      (value_ != nullptr || std::any_of(field_values_.begin(), field_values_.end(),
                                        [](const auto& f) { return f != nullptr; }))) {
    return Status::InvalidArgument("a sessionised view takes no value (it counts visits)");
  }
  if (time_ == nullptr) RETURN_IF_ERROR(SetTime("$timestamp"));
  return std::shared_ptr<const ViewDefinition>(std::make_shared<ExprView>(
      name_, topic_, granularities_, spec_, monoid_, compiler_.paths(), std::move(key_),
      std::move(time_), std::move(value_), std::move(field_values_), needs_avro_,
      std::move(session_by_), session_gap_ms_));
}

}  // namespace braid::views
