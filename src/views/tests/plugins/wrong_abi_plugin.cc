// A plugin built for another plugin ABI version: braid must refuse it.
#include <cstdint>

#include "braid/plugin.h"

BRAID_PLUGIN_EXPORT uint32_t braid_plugin_abi_version(void) {
  return BRAID_PLUGIN_ABI_VERSION + 41;
}
BRAID_PLUGIN_EXPORT const char* braid_plugin_cxx_abi(void) { return BRAID_PLUGIN_CXX_ABI; }
BRAID_PLUGIN_EXPORT int braid_plugin_register(braid::PluginRegistrar*) { return 0; }
