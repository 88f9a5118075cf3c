#include "cli/cli.h"
namespace braid::cli {
void AddServerCommands(CLI::App*, int*) {}
}  // namespace braid::cli
