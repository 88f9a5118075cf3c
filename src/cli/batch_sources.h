// Where `braid batch` and `braid mr` get views and raw jobs: view files
// (--views FILE.yaml) and plugins (--plugin PATH), loaded into one
// views::Catalog (src/views).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "base/status.h"
#include "views/catalog.h"

namespace braid::cli {

struct ViewSourceFlags {
  std::vector<std::string> view_files;
  std::vector<std::string> plugins;
};

// Adds --views FILE (repeatable) and --plugin PATH (repeatable).
inline void AddViewSourceFlags(CLI::App* cmd, ViewSourceFlags* f) {
  cmd->add_option("--views", f->view_files, "View file (YAML; repeatable)");
  cmd->add_option("--plugin", f->plugins, "Plugin shared library (repeatable)");
}

inline Result<std::shared_ptr<const views::Catalog>> LoadViewSources(const ViewSourceFlags& f) {
  views::CatalogSources s;
  s.view_files = f.view_files;
  s.plugins = f.plugins;
  return views::LoadCatalog(s);
}

}  // namespace braid::cli
