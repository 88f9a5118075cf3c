#include "cli/cli.h"

#include <cstdio>
#include <string>

#include "base/logging.h"

namespace braid::cli {

int Main(int argc, char** argv) {
  CLI::App app{
      "braid: the Lambda Architecture in one binary.\n"
      "A Kafka-compatible event log with Avro events, a MapReduce batch layer over an\n"
      "immutable master dataset, a Storm-style speed layer and an HBase-like serving layer."};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("braid ") + BRAID_VERSION);
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error|off")
      ->capture_default_str();
  app.parse_complete_callback([&] { InitLogging(log_level); });

  int exit_code = 0;
  AddAvroCommands(&app, &exit_code);
  AddServerCommands(&app, &exit_code);
  AddGroupsCommands(&app, &exit_code);
  AddSchemasCommands(&app, &exit_code);
  AddArchiveCommands(&app, &exit_code);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return exit_code;
}

}  // namespace braid::cli
