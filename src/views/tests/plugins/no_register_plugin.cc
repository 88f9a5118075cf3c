// A plugin without braid_plugin_register: braid must refuse it.
#include <cstdint>

#include "braid/plugin.h"

BRAID_PLUGIN_EXPORT uint32_t braid_plugin_abi_version(void) { return BRAID_PLUGIN_ABI_VERSION; }
BRAID_PLUGIN_EXPORT const char* braid_plugin_cxx_abi(void) { return BRAID_PLUGIN_CXX_ABI; }
