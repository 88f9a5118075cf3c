#include "cli/cli.h"
namespace braid::cli {
void AddAvroCommands(CLI::App*, int*) {}
}  // namespace braid::cli
