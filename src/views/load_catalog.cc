// LoadCatalog (catalog.h): view files, then plugins, into one Catalog.
#include "views/catalog.h"
#include "views/plugin_loader.h"
#include "views/view_file.h"

namespace braid::views {

Result<std::shared_ptr<const Catalog>> LoadCatalog(const CatalogSources& sources) {
  io::FileSystem* fs = sources.fs != nullptr ? sources.fs : io::DefaultFileSystem();
  auto catalog = std::make_shared<Catalog>();
  for (const std::string& path : sources.view_files) {
    ASSIGN_OR_RETURN(ViewFile file, LoadViewFile(fs, path));
    for (TopicSettings& t : file.topics) RETURN_IF_ERROR(catalog->AddTopic(std::move(t)));
    for (ViewFile::Entry& e : file.views) {
      RETURN_IF_ERROR(catalog->AddView(std::move(e.view), std::move(e.origin)));
    }
  }
  for (const std::string& path : sources.plugins) {
    ASSIGN_OR_RETURN(LoadedPlugin plugin, LoadPlugin(path));
    for (auto& v : plugin.views) RETURN_IF_ERROR(catalog->AddView(std::move(v), "plugin " + path));
    for (auto& j : plugin.jobs) catalog->AddJob(std::move(j));
    for (auto& t : plugin.topologies) catalog->AddTopology(std::move(t));
  }
  RETURN_IF_ERROR(catalog->Finish());
  return std::shared_ptr<const Catalog>(std::move(catalog));
}

}  // namespace braid::views
