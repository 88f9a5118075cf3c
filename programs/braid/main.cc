// braid: a thin main. Everything lives in src/cli and the modules.
#include "cli/cli.h"

int main(int argc, char** argv) { return braid::cli::Main(argc, argv); }
