// Loading C++ plugins (include/braid/plugin.h): dlopen a shared library,
// check its versioned C entry points, let it register its views, raw
// MapReduce jobs and raw topologies, and turn each registered braid::View
// into a ViewDefinition the engines run like any other view.
//
// Errors (InvalidArgument, the message names the file): the library cannot
// be opened (dlerror's reason), a missing entry point, another plugin ABI
// version or C++ library ABI than this braid's, a failed registration, a
// view whose spec is invalid (naming the view and the field).
//
// A loaded plugin is never unloaded (its code backs what it registered).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "braid/plugin.h"
#include "braid/view.h"
#include "views/view.h"

namespace braid::views {

struct LoadedPlugin {
  std::string path;
  std::vector<std::shared_ptr<const ViewDefinition>> views;
  std::vector<std::shared_ptr<const mr::Job>> jobs;
  std::vector<std::shared_ptr<const TopologySpec>> topologies;
};

Result<LoadedPlugin> LoadPlugin(const std::string& path);

// A plugin View as a ViewDefinition: its Spec() is read and checked now.
// `origin` salts the fingerprint (LoadPlugin passes a hash of the library
// file, so a rebuilt plugin never reuses the old cells). InvalidArgument
// naming the view and the bad field.
Result<std::shared_ptr<const ViewDefinition>> MakePluginView(std::shared_ptr<const View> view,
                                                             const std::string& origin);

}  // namespace braid::views
