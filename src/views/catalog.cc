#include "views/catalog.h"

#include <set>

namespace braid::views {

std::map<std::string, std::string> TopicSettings::TopicConfigs() const {
  std::map<std::string, std::string> out = configs;
  out["braid.value.schema.validation"] = schema_validation ? "true" : "false";
  out["braid.archive"] = archive ? "true" : "false";
  if (!time_field.empty()) out["braid.archive.time.field"] = time_field;
  return out;
}

Status Catalog::AddView(std::shared_ptr<const ViewDefinition> view, std::string origin) {
  if (view == nullptr) return Status::InvalidArgument("null view (" + origin + ")");
  auto it = views_.find(view->name());
  if (it != views_.end()) {
    return Status::AlreadyExists("view \"" + view->name() +
                                 "\" is defined twice: " + it->second.origin + " and " + origin);
  }
  const std::string name = view->name();
  views_.emplace(name, Entry{std::move(view), std::move(origin)});
  return Status::OK();
}

Status Catalog::AddTopic(TopicSettings settings) {
  auto it = topics_.find(settings.name);
  if (it != topics_.end()) {
    return Status::AlreadyExists("topic \"" + settings.name + "\" is declared twice: " +
                                 it->second.origin + " and " + settings.origin);
  }
  const std::string name = settings.name;
  topics_.emplace(name, std::move(settings));
  return Status::OK();
}

Status Catalog::Finish() {
  // Undeclared topics: defaults from their views.
  std::map<std::string, std::vector<const Entry*>> by_topic;
  for (const auto& [name, e] : views_) by_topic[e.view->topic()].push_back(&e);
  for (const auto& [topic, entries] : by_topic) {
    if (topics_.count(topic)) continue;
    TopicSettings t;
    t.name = topic;
    t.schema_validation = false;
    std::set<std::string> time_fields;
    for (const Entry* e : entries) {
      if (e->view->needs_avro()) t.schema_validation = true;
      time_fields.insert(e->view->time_field());
    }
    if (time_fields.size() > 1) {
      std::string list;
      for (const Entry* e : entries) {
        list += (list.empty() ? "" : ", ") + e->view->name() + " (" +
                (e->view->time_field().empty() ? "record timestamp" : e->view->time_field()) +
                ", " + e->origin + ")";
      }
      return Status::InvalidArgument(
          "topic \"" + topic +
          "\": its views use different event-time fields; declare the topic under `topics:` "
          "with the time_field the archive files it by: " +
          list);
    }
    t.time_field = *time_fields.begin();
    topics_.emplace(topic, std::move(t));
  }
  return Status::OK();
}

std::shared_ptr<const ViewDefinition> Catalog::Find(std::string_view name) const {
  auto it = views_.find(name);
  return it == views_.end() ? nullptr : it->second.view;
}

std::vector<std::shared_ptr<const ViewDefinition>> Catalog::views() const {
  std::vector<std::shared_ptr<const ViewDefinition>> out;
  out.reserve(views_.size());
  for (const auto& [name, e] : views_) out.push_back(e.view);
  return out;
}

std::vector<std::shared_ptr<const ViewDefinition>> Catalog::ViewsOfTopic(
    std::string_view topic) const {
  std::vector<std::shared_ptr<const ViewDefinition>> out;
  for (const auto& [name, e] : views_) {
    if (e.view->topic() == topic) out.push_back(e.view);
  }
  return out;
}

std::string Catalog::origin(std::string_view view) const {
  auto it = views_.find(view);
  return it == views_.end() ? std::string() : it->second.origin;
}

const TopicSettings* Catalog::FindTopic(std::string_view topic) const {
  auto it = topics_.find(topic);
  return it == topics_.end() ? nullptr : &it->second;
}

}  // namespace braid::views
