// View files: views declared in YAML (docs/views.md has the full format):
//
//   version: 1                        # optional; 1 is the only version
//   topics:                           # optional: how braid up creates topics
//     pageviews:
//       partitions: 4                 # 0 or absent: the broker default
//       schema_validation: true       # values must be registered Avro
//       archive: true                 # into the master dataset
//       time_field: timestamp         # the archive files records by it
//       configs: {retention.ms: "604800000"}
//   views:
//     - name: pageviews
//       topic: pageviews
//       key: normalize_url(url)       # an expression (expr.h)
//       time: timestamp               # optional; default $timestamp
//       granularities: [hour, day, week, month]   # optional (this default)
//       aggregate: count              # a monoid spec, or a map:
//     - name: uniques                 #   {type: hll, p: 14}
//       topic: pageviews              #   {type: topk, k: 10, capacity: 100}
//       key: normalize_url(url)       #   {type: quantiles, k: 200}
//       time: timestamp               #   {type: tuple, fields: {a: count, ...}}
//       aggregate: hll(p=14)
//       value: person                 # an expression; a map for a tuple
//       needs_avro: true              # optional
//
// Every error names the file, the line and column (1-based) and the field:
//   views.yaml:14:18: views[1] (uniques).aggregate: monoid "hll(p=3)": ...
// Unknown fields are errors (a misspelt field must not be ignored).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "io/file_system.h"
#include "views/catalog.h"
#include "views/view.h"

namespace braid::views {

struct ViewFile {
  std::string path;
  std::vector<TopicSettings> topics;  // declared under `topics:`, in file order
  struct Entry {
    std::shared_ptr<const ViewDefinition> view;
    std::string origin;  // "path:line:column"
  };
  std::vector<Entry> views;  // in file order
};

// Parses view file text; `path` names it in errors and origins.
// InvalidArgument for any error (see the file comment).
Result<ViewFile> ParseViewFile(std::string_view text, std::string_view path);
// Reads and parses a view file (NotFound / IOError naming the path if it
// cannot be read; files above 16 MiB are refused).
Result<ViewFile> LoadViewFile(io::FileSystem* fs, const std::string& path);

}  // namespace braid::views
