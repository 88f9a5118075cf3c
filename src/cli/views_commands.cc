// `braid views check`: validates view files and plugins exactly as `braid up`
// loads them (views::LoadCatalog) and prints the views and topic settings.
//
//   braid views check [FILE]... [--plugin PATH]... [--schema TOPIC=AVSC]... [--json]
//
// With --schema, every view of TOPIC has its field paths compiled against
// that writer schema (an .avsc file) strictly: a path the schema does not
// hold is an error naming the view, the path and the step. Exit 0 when
// everything is valid, 1 with the error on stderr otherwise.
#include <cstdio>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "avro/field_extractor.h"
#include "avro/schema.h"
#include "cli/cli.h"
#include "io/file_system.h"
#include "views/catalog.h"

namespace braid::cli {

namespace {

struct ViewsCheckOptions {
  std::vector<std::string> files;
  std::vector<std::string> plugins;
  std::vector<std::string> schemas;  // TOPIC=FILE
  bool json = false;
};

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::vector<std::string> GranularityNames(const views::ViewDefinition& v) {
  std::vector<std::string> out;
  for (views::Granularity g : v.granularities()) out.emplace_back(views::GranularityName(g));
  return out;
}

// Compiles each view's paths of the schemas' topics strictly.
Status CheckSchemas(const views::Catalog& catalog, const std::vector<std::string>& schemas) {
  for (const std::string& arg : schemas) {
    const size_t eq = arg.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == arg.size()) {
      return Status::InvalidArgument("--schema " + arg + ": expected TOPIC=SCHEMA_FILE");
    }
    const std::string topic = arg.substr(0, eq);
    const std::string file = arg.substr(eq + 1);
    Result<std::string> text = io::ReadFileToString(io::DefaultFileSystem(), file, 16 << 20);
    if (!text.ok()) return text.status().WithContext("--schema " + file);
    Result<avro::Schema> schema = avro::ParseSchema(*text);
    if (!schema.ok()) return schema.status().WithContext("--schema " + file);
    const auto views = catalog.ViewsOfTopic(topic);
    if (views.empty()) {
      return Status::InvalidArgument("--schema " + arg + ": no view reads topic \"" + topic + "\"");
    }
    for (const auto& v : views) {
      Result<std::shared_ptr<const avro::FieldExtractor>> ex =
          avro::FieldExtractor::Compile(*schema, v->paths());
      if (!ex.ok()) {
        return Status::InvalidArgument("view " + v->name() + " (" + catalog.origin(v->name()) +
                                       ") against " + file + ": " +
                                       std::string(ex.status().message()));
      }
    }
  }
  return Status::OK();
}

void PrintText(const views::Catalog& catalog) {
  std::printf("%zu view%s, %zu topic%s, %zu raw job%s, %zu raw topolog%s\n", catalog.size(),
              catalog.size() == 1 ? "" : "s", catalog.topics().size(),
              catalog.topics().size() == 1 ? "" : "s", catalog.jobs().size(),
              catalog.jobs().size() == 1 ? "" : "s", catalog.topologies().size(),
              catalog.topologies().size() == 1 ? "y" : "ies");
  for (const auto& v : catalog.views()) {
    std::printf("\nview %s  (%s)\n", v->name().c_str(), catalog.origin(v->name()).c_str());
    std::printf("  topic          %s\n", v->topic().c_str());
    std::printf("  aggregate      %s\n", v->monoid().spec().c_str());
    std::printf("  granularities  %s\n", Join(GranularityNames(*v)).c_str());
    if (!v->description().empty()) std::printf("  map            %s\n", v->description().c_str());
    std::printf("  fields         %s\n", v->paths().empty() ? "-" : Join(v->paths()).c_str());
    if (!v->needs_avro()) std::printf("  values         any (not only registered Avro)\n");
    std::printf("  fingerprint    %s\n", v->Fingerprint().c_str());
  }
  for (const auto& [name, t] : catalog.topics()) {
    std::printf("\ntopic %s  (%s)\n", name.c_str(), t.origin.c_str());
    std::printf("  partitions     %s\n",
                t.partitions == 0 ? "broker default" : std::to_string(t.partitions).c_str());
    for (const auto& [k, v] : t.TopicConfigs()) std::printf("  %s = %s\n", k.c_str(), v.c_str());
  }
}

void PrintJson(const views::Catalog& catalog) {
  nlohmann::json out;
  out["views"] = nlohmann::json::array();
  for (const auto& v : catalog.views()) {
    out["views"].push_back({{"name", v->name()},
                            {"origin", catalog.origin(v->name())},
                            {"topic", v->topic()},
                            {"aggregate", v->monoid().spec()},
                            {"granularities", GranularityNames(*v)},
                            {"map", v->description()},
                            {"fields", v->paths()},
                            {"time_field", v->time_field()},
                            {"needs_avro", v->needs_avro()},
                            {"fingerprint", v->Fingerprint()}});
  }
  out["topics"] = nlohmann::json::array();
  for (const auto& [name, t] : catalog.topics()) {
    out["topics"].push_back({{"name", name},
                             {"origin", t.origin},
                             {"partitions", t.partitions},
                             {"configs", t.TopicConfigs()}});
  }
  out["jobs"] = catalog.jobs().size();
  out["topologies"] = catalog.topologies().size();
  std::printf("%s\n", out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
}

Status Check(const ViewsCheckOptions& o) {
  if (o.files.empty() && o.plugins.empty()) {
    return Status::InvalidArgument("give a view file or --plugin PATH");
  }
  views::CatalogSources src;
  src.view_files = o.files;
  src.plugins = o.plugins;
  ASSIGN_OR_RETURN(std::shared_ptr<const views::Catalog> catalog, views::LoadCatalog(src));
  RETURN_IF_ERROR(CheckSchemas(*catalog, o.schemas));
  if (o.json) {
    PrintJson(*catalog);
  } else {
    PrintText(*catalog);
  }
  return Status::OK();
}

}  // namespace

void AddViewsCommands(CLI::App* root, int* exit_code) {
  CLI::App* views = root->add_subcommand("views", "View definitions: check view files and plugins");
  views->require_subcommand(1);
  auto o = std::make_shared<ViewsCheckOptions>();
  CLI::App* check = views->add_subcommand(
      "check", "Validate view files and plugins as `braid up` loads them, and list the views");
  check->add_option("files", o->files, "View files (YAML)");
  check->add_option("--plugin", o->plugins, "A plugin shared library (repeatable)");
  check->add_option("--schema", o->schemas,
                    "TOPIC=FILE.avsc: check the field paths of TOPIC's views against this writer "
                    "schema (repeatable)");
  check->add_flag("--json", o->json, "Print JSON");
  check->callback([o, exit_code] {
    Status s = Check(*o);
    if (!s.ok()) {
      std::fprintf(stderr, "braid views check: %s\n", std::string(s.message()).c_str());
      *exit_code = 1;
    }
  });
}

}  // namespace braid::cli
