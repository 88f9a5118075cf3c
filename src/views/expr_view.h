// ExprView: a view defined by expressions (expr.h), the kind a view file
// declares:
//
//   key    an expression; the event's view key is its text (longs in
//          decimal...); a null key skips the event (no emit)
//   time   an expression giving milliseconds (default $timestamp, the
//          record's timestamp); null falls back to the record timestamp
//          (the archiver's rule); another kind fails the event
//   value  what the monoid aggregates: none for count; one expression for
//          the other monoids (a null value skips the event: it would add the
//          identity); for a tuple, one expression per field (count fields
//          take none, every other field needs one; a null field value adds
//          that field's identity)
//
// Build with ExprViewBuilder; each setter's error says what is wrong with
// that part, so a view file can point at its line.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "views/expr.h"
#include "views/monoid.h"
#include "views/time_bucket.h"
#include "views/view.h"

namespace braid::views {

class ExprViewBuilder {
 public:
  // Names are checked by Build.
  ExprViewBuilder(std::string name, std::string topic);
  ~ExprViewBuilder();

  Status SetKey(std::string_view expr);
  // Default: "$timestamp".
  Status SetTime(std::string_view expr);
  Status SetMonoid(const MonoidSpec& spec);
  // The value of a monoid other than count and tuple. Call after SetMonoid.
  Status SetValue(std::string_view expr);
  // The value of one field of a tuple monoid. Call after SetMonoid.
  Status SetFieldValue(std::string_view field, std::string_view expr);
  // Makes the view sessionised: visits of the people `by_expr` names, cut
  // at gaps above `gap_ms` (1 ms .. kMaxSessionGapMs). Default: none.
  Status SetSession(std::string_view by_expr, int64_t gap_ms);
  // Default: hour, day, week, month. InvalidArgument for none or a repeat.
  Status SetGranularities(std::vector<Granularity> granularities);
  // Default: true.
  void set_needs_avro(bool v) { needs_avro_ = v; }

  // InvalidArgument for a bad name or topic, a missing key or monoid, or a
  // missing value the monoid needs.
  Result<std::shared_ptr<const ViewDefinition>> Build();

 private:
  std::string name_;
  std::string topic_;
  ExprCompiler compiler_;
  std::unique_ptr<Expr> key_;
  std::unique_ptr<Expr> time_;
  MonoidSpec spec_;
  std::shared_ptr<const Monoid> monoid_;
  std::unique_ptr<Expr> value_;
  std::vector<std::unique_ptr<Expr>> field_values_;  // tuple: per field, null if none
  std::vector<Granularity> granularities_ = {Granularity::kHour, Granularity::kDay,
                                             Granularity::kWeek, Granularity::kMonth};
  bool needs_avro_ = true;
  std::unique_ptr<Expr> session_by_;
  int64_t session_gap_ms_ = 0;
};

}  // namespace braid::views
