// braid's view API for C++ plugins: a view whose map is C++ code (anything
// a view file's expressions cannot say), run by both the batch layer and the
// speed layer exactly like a view of the view file:
//
//   source topic → Map (one event → zero or more (key, event time, value))
//   → per (key, granularity, time bucket): the view's monoid over the values
//
// A plugin (a shared library, see braid/plugin.h) registers Views; braid
// reads each View's Spec() once at load, checks it (name, topic,
// granularities, monoid spec) and then calls Map for every event of the
// topic, on many threads at once. Map must therefore be thread-safe (const,
// no unsynchronized shared state) and deterministic: the same event must
// give the same emits in the batch and the speed layer.
//
// Standard C++ only: a view plugin needs no braid library to link.
//
// Example (the `pageviews` count of SuperWebAnalytics; examples/plugins/):
//
//   class PageViews : public braid::View {
//    public:
//     braid::ViewSpec Spec() const override {
//       braid::ViewSpec s;
//       s.name = "pageviews_plugin";
//       s.topic = "pageviews";
//       s.granularities = {"hour", "day", "week", "month"};
//       s.monoid = "count";
//       s.paths = {"url", "timestamp"};
//       return s;
//     }
//     void Map(const braid::ViewEvent& e, braid::ViewEmitter& out) const override {
//       auto url = e.GetString(0);
//       if (!url) return;  // no url: nothing to count
//       out.Emit(*url, e.GetTimestampMillis(1).value_or(e.timestamp_ms()));
//     }
//   };
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "braid/value.h"

namespace braid {

// What a view declares (read once, when the plugin is loaded).
struct ViewSpec {
  // The view's name: [A-Za-z0-9_.-]{1,200}, unique among all views (of the
  // view file and of every plugin).
  std::string name;
  // The source topic.
  std::string topic;
  // A non-empty subset of "hour", "day", "week", "month", "all".
  std::vector<std::string> granularities;
  // The monoid spec, e.g. "count", "hll(p=14)", "topk(k=10)",
  // "tuple(visits:count,bounces:sum_int64)" (docs/views.md).
  std::string monoid;
  // Field paths of the record value that Map reads (avro/field_extractor.h
  // syntax: `url`, `person.id`, `referrer.string`), in the order
  // ViewEvent's field getters index them.
  std::vector<std::string> paths;
  // The event-time field path Map reads, if any (informational: braid files
  // the topic's records in the master dataset by it when the view file does
  // not say otherwise). Default: empty (the record timestamp).
  std::string time_field;
  // True: events whose value is not registered Avro are skipped (and
  // counted) without calling Map. False: Map sees them, with every field
  // absent. Default: true.
  bool needs_avro = true;
  // The version of Map's logic. A view's cells are only ever merged with
  // cells computed by the same definition: change this string whenever Map
  // changes what it emits (braid also fingerprints the plugin file).
  std::string version = "1";
};

// What a path holds in one event.
enum class FieldKind : uint8_t {
  kAbsent,     // the record does not hold the path (another union branch, an
               // older writer schema without the field, or no Avro value)
  kNull,       // an Avro null
  kBool,       // boolean
  kLong,       // int, long
  kTimestamp,  // int/long with a timestamp or date logical type
  kDouble,     // float, double
  kString,     // string, bytes, fixed, enum symbol
};

// One event as Map sees it. Views into braid's buffers: valid during the
// Map call only.
class ViewEvent {
 public:
  virtual ~ViewEvent() = default;

  virtual std::string_view topic() const = 0;
  virtual int32_t partition() const = 0;
  virtual int64_t offset() const = 0;
  // The record's timestamp (ms since the epoch).
  virtual int64_t timestamp_ms() const = 0;
  // The record's key and value, raw (the value with its Confluent frame: a
  // zero byte and the 4-byte big-endian schema id); nullopt for null.
  virtual std::optional<std::string_view> key() const = 0;
  virtual std::optional<std::string_view> value() const = 0;
  // The value's Confluent schema id; -1 if it is not registered Avro.
  virtual int32_t schema_id() const = 0;

  // The fields of ViewSpec::paths, by index (i < paths.size()).
  virtual FieldKind kind(size_t i) const = 0;
  virtual std::optional<bool> GetBool(size_t i) const = 0;
  // kLong: the number; kTimestamp: the raw number in its unit.
  virtual std::optional<int64_t> GetLong(size_t i) const = 0;
  virtual std::optional<double> GetDouble(size_t i) const = 0;
  virtual std::optional<std::string_view> GetString(size_t i) const = 0;
  // kTimestamp converted to milliseconds (micros/nanos floored, dates at
  // midnight UTC), or a kLong taken as milliseconds; nullopt otherwise.
  virtual std::optional<int64_t> GetTimestampMillis(size_t i) const = 0;
};

// Where Map's output goes.
class ViewEmitter {
 public:
  virtual ~ViewEmitter() = default;
  // Emits `value` under `key` at event time `time_ms`: braid lifts it into
  // the view's monoid (count ignores the value; a tuple monoid takes a
  // Value::Tuple of one value per field). A value the monoid cannot take
  // fails the event (as Fail does).
  virtual void Emit(std::string_view key, int64_t time_ms, const Value& value) = 0;
  // Emits the event itself (a count of one; the identity of other monoids).
  void Emit(std::string_view key, int64_t time_ms) { Emit(key, time_ms, Value()); }
  // Fails this event: its emits are dropped, the event is counted as a map
  // error (and dead-lettered by the speed layer) with `message`.
  virtual void Fail(std::string_view message) = 0;
};

class View {
 public:
  virtual ~View() = default;
  // The definition (called once, when the plugin is loaded).
  virtual ViewSpec Spec() const = 0;
  // Maps one event. Must not throw (an exception fails the event).
  virtual void Map(const ViewEvent& event, ViewEmitter& out) const = 0;
};

}  // namespace braid
