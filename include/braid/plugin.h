// braid plugins: C++ code compiled into a shared library and loaded with
// `--plugin PATH` (braid up, braid views check, braid mr run...). One plugin
// may register views (braid/view.h), raw MapReduce jobs (braid/mapreduce.h,
// the batch layer's API) and raw topologies (braid/topology.h, the speed
// layer's API):
//
//   #include "braid/plugin.h"
//   #include "braid/view.h"
//
//   BRAID_PLUGIN(registrar) {
//     registrar->AddView(std::make_shared<PageViews>());
//   }
//
// built with (the headers are installed under <prefix>/include/braid):
//
//   g++ -std=c++20 -O2 -fPIC -shared -I<prefix>/include my_views.cc -o libmy_views.so
//
// The entry points. BRAID_PLUGIN defines three C functions; braid resolves
// them with dlsym when it loads the library and checks, in this order:
//   braid_plugin_abi_version()  must return BRAID_PLUGIN_ABI_VERSION of the
//                               loading braid (the headers' version; it
//                               changes with any incompatible change to
//                               include/braid/)
//   braid_plugin_cxx_abi()      must equal braid's BRAID_PLUGIN_CXX_ABI (the
//                               C++ standard library and its ABI mode: the
//                               API passes std::string and std::shared_ptr)
//   braid_plugin_register(r)    registers everything (0 = success)
// A missing symbol, another version or a failed registration refuses the
// plugin with an error naming the file, and braid does not start.
//
// A loaded plugin stays loaded until the process exits (its code backs the
// objects it registered).
#pragma once

#include <cstdint>
#include <exception>
#include <memory>
#include <string_view>
#include <utility>

#include "braid/view.h"

// The plugin ABI version of these headers.
#define BRAID_PLUGIN_ABI_VERSION 1u

#define BRAID_PLUGIN_STRINGIFY2(x) #x
#define BRAID_PLUGIN_STRINGIFY(x) BRAID_PLUGIN_STRINGIFY2(x)
#if defined(_GLIBCXX_RELEASE)
#if defined(_GLIBCXX_DEBUG)
#define BRAID_PLUGIN_STDLIB_DEBUG " debug"
#else
#define BRAID_PLUGIN_STDLIB_DEBUG ""
#endif
#define BRAID_PLUGIN_CXX_ABI \
  "libstdc++ cxx11-abi=" BRAID_PLUGIN_STRINGIFY(_GLIBCXX_USE_CXX11_ABI) BRAID_PLUGIN_STDLIB_DEBUG
#elif defined(_LIBCPP_VERSION)
#define BRAID_PLUGIN_CXX_ABI "libc++ abi=" BRAID_PLUGIN_STRINGIFY(_LIBCPP_ABI_VERSION)
#else
#define BRAID_PLUGIN_CXX_ABI "unknown"
#endif

namespace braid {

namespace mr {
class Job;  // braid/mapreduce.h (the batch layer): a raw MapReduce job
}  // namespace mr
struct TopologySpec;  // braid/topology.h (the speed layer): a raw topology

// What a plugin's registration function receives. Not thread-safe (braid
// calls braid_plugin_register on one thread).
class PluginRegistrar {
 public:
  virtual ~PluginRegistrar() = default;
  // The file the plugin was loaded from.
  virtual std::string_view plugin_path() const = 0;
  // Registers a view. Its Spec() is read and checked when the registration
  // function returns; a bad spec refuses the plugin, naming the view.
  virtual void AddView(std::shared_ptr<const View> view) = 0;
  // Registers a raw MapReduce job (`braid mr run --job NAME`).
  virtual void AddJob(std::shared_ptr<const mr::Job> job) = 0;
  // Registers a raw topology (run by the speed layer), as built by
  // braid::TopologyBuilder: registrar->AddTopology(std::move(builder).Build()).
  // (A template only so that this header needs no braid/topology.h.)
  template <typename Spec = TopologySpec>
  void AddTopology(Spec spec) {
    AddTopologySpec(std::make_shared<const Spec>(std::move(spec)));
  }
  virtual void AddTopologySpec(std::shared_ptr<const TopologySpec> topology) = 0;
  // Refuses the plugin with `message` (for a registration that cannot
  // proceed, e.g. a missing configuration).
  virtual void Fail(std::string_view message) = 0;
};

}  // namespace braid

extern "C" {
// See the file comment. Defined by BRAID_PLUGIN.
uint32_t braid_plugin_abi_version(void);
const char* braid_plugin_cxx_abi(void);
int braid_plugin_register(braid::PluginRegistrar* registrar);
}

#define BRAID_PLUGIN_EXPORT extern "C" __attribute__((visibility("default")))

// Defines the entry points; the braced body that follows registers the
// plugin's views, jobs and topologies through `registrar`. An exception
// thrown by the body refuses the plugin with its message.
#define BRAID_PLUGIN(registrar)                                                                    \
  static void BraidPluginRegister(::braid::PluginRegistrar* registrar);                            \
  BRAID_PLUGIN_EXPORT uint32_t braid_plugin_abi_version(void) { return BRAID_PLUGIN_ABI_VERSION; } \
  BRAID_PLUGIN_EXPORT const char* braid_plugin_cxx_abi(void) { return BRAID_PLUGIN_CXX_ABI; }      \
  BRAID_PLUGIN_EXPORT int braid_plugin_register(::braid::PluginRegistrar* r) {                     \
    try {                                                                                          \
      BraidPluginRegister(r);                                                                      \
      return 0;                                                                                    \
    } catch (const std::exception& e) {                                                            \
      r->Fail(e.what());                                                                           \
    } catch (...) {                                                                                \
      r->Fail("registration threw an exception");                                                  \
    }                                                                                              \
    return 1;                                                                                      \
  }                                                                                                \
  static void BraidPluginRegister(::braid::PluginRegistrar* registrar)
