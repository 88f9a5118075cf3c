// braid: a thin main. Everything lives in src/cli and the modules.
#include <malloc.h>

#include "cli/cli.h"

int main(int argc, char** argv) {
  // A broker's request buffers are large (a Produce frame and its batch are
  // up to ~1 MiB each) and short-lived. By default glibc returns such blocks
  // to the kernel when they are freed (mmap above 128 KiB, heap trimming),
  // so every request faulted in fresh zeroed pages: about a third of the
  // broker's CPU per produced record (docs/benchmarks.md, "The log"). Keep
  // freed blocks below 16 MiB, and up to 64 MiB of free heap, for reuse.
  mallopt(M_MMAP_THRESHOLD, 16 << 20);
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  return braid::cli::Main(argc, argv);
}
