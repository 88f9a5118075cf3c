// A view, defined once and run by both the batch layer (as a MapReduce job
// over the master dataset) and the speed layer (as a topology over the log):
//
//   source topic → map (one event → zero or more (key, event time, value))
//   → per (key, granularity, time bucket): the view's monoid over the values
//
// so that the two layers cannot drift apart (DESIGN.md "One definition, both
// layers"). A cell is (key, granularity, bucket start) → encoded monoid
// value (cell_key.h, monoid.h).
//
// Views come from a view file (YAML) or from a plugin (C++ against the public
// headers in include/braid/). Either way the engines see this interface.
//
// Thread safety: a ViewDefinition is immutable once built; Map() may run on
// many threads at once.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "avro/field_extractor.h"
#include "avro/schema.h"
#include "base/status.h"
#include "base/strong_type.h"
#include "views/monoid.h"
#include "views/session.h"
#include "views/time_bucket.h"

namespace braid::views {

// One event as a view's map sees it. `fields` holds the values of the view's
// paths() (by index), extracted from the record value by an
// avro::FieldExtractor compiled for the record's writer schema (null when
// the value is not registered Avro, see ViewDefinition::needs_avro).
struct Event {
  std::string_view topic;
  PartitionId partition{0};
  Offset offset{0};
  int64_t timestamp_ms = 0;               // the record's timestamp
  std::optional<std::string_view> key;    // the record's key, raw
  std::optional<std::string_view> value;  // the record's value, raw (framing included)
  int32_t schema_id = -1;                 // Confluent frame schema id, -1 if none
  const avro::ExtractedFields* fields = nullptr;
};

// What a map emits: the view key, the event time that chooses the buckets,
// and the value as an encoded element of the view's monoid (for a
// sessionised view: the person, see ViewDefinition::session()).
struct Emit {
  std::string key;
  int64_t time_ms = 0;
  std::string value;
};

class ViewDefinition {
 public:
  virtual ~ViewDefinition() = default;

  virtual const std::string& name() const = 0;
  // The source topic.
  virtual const std::string& topic() const = 0;
  // The granularities kept, a subset of hour, day, week, month, all.
  virtual const std::vector<Granularity>& granularities() const = 0;
  virtual const Monoid& monoid() const = 0;
  // Field paths of the record value the map reads (avro/field_extractor.h
  // syntax), in the order Event::fields holds them.
  virtual const std::vector<std::string>& paths() const = 0;
  // True if events whose value is not registered Avro are skipped (counted)
  // rather than mapped with fields == null. Default: true.
  virtual bool needs_avro() const { return true; }
  // The event-time field path the map reads (the archive files the topic's
  // records by it unless the topic settings say otherwise); empty: the
  // record timestamp, or not known. Default: empty.
  virtual std::string time_field() const { return ""; }
  // A one-line description of the map for listings (`braid views check`,
  // GET /v1/views), e.g. "key normalize_url(url), value person". Default:
  // empty.
  virtual std::string description() const { return ""; }
  // Sessionised views (session.h; a view file's `session:`): the person
  // expression and the gap; null for every other view. The monoid of a
  // sessionised view is VisitsMonoidSpec(), and its Map emits per event
  // Emit{view key, event time, value = the person's text}, not a monoid
  // element: engines that do not sessionise must refuse such a view.
  // Default: null.
  virtual const SessionSpec* session() const { return nullptr; }
  // Emits the cells of one event (appends to *out). Errors are per event:
  // the engines count them and go on (the speed layer also dead-letters).
  virtual Status Map(const Event& event, std::vector<Emit>* out) const = 0;
  // A fingerprint of everything that defines the view's cells (topic, map,
  // monoid spec, granularities): a batch view version records it, and a
  // changed definition never reuses cells computed by the old one.
  virtual std::string Fingerprint() const = 0;
};

// View names: [A-Za-z0-9_.-]{1,200} (they name directories and URL path
// segments), not "." or "..".
bool ValidViewName(std::string_view name);
// Kafka topic names: [A-Za-z0-9._-]{1,249}, not "." or "..".
bool ValidTopicName(std::string_view name);

}  // namespace braid::views
