// A plugin that registers a null job or a null topology (chosen by the
// BRAID_TEST_NULL environment variable): braid must refuse it, naming the
// hook. (Real jobs and topologies are tested with the batch and speed
// layers' own headers, braid/mapreduce.h and braid/topology.h.)
#include <cstdlib>
#include <memory>
#include <string>

#include "braid/plugin.h"

BRAID_PLUGIN(registrar) {
  const char* which = std::getenv("BRAID_TEST_NULL");
  if (which != nullptr && std::string(which) == "job") registrar->AddJob(nullptr);
  if (which != nullptr && std::string(which) == "topology") registrar->AddTopologySpec(nullptr);
}
