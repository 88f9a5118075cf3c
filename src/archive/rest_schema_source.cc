#include <exception>
#include <nlohmann/json.hpp>

#include "archive/schema_source.h"
#include "http/client.h"

namespace braid::archive {

Result<avro::Schema> RestSchemaSource::GetSchema(SchemaId id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(id.value());
    if (it != cache_.end()) return it->second;
  }
  const std::string url = base_url_ + "/schemas/ids/" + std::to_string(id.value());
  ASSIGN_OR_RETURN(http::HttpClientResponse r, http::HttpRequest("GET", url));
  if (r.status == 404) return Status::NotFound("schema id " + std::to_string(id.value()));
  if (r.status != 200) {
    return Status::Unavailable(url + ": HTTP " + std::to_string(r.status) + ": " + r.body);
  }
  std::string text;
  try {
    nlohmann::json j = nlohmann::json::parse(r.body);
    if (j.contains("schemaType") && j["schemaType"] != "AVRO") {
      return Status::NotFound("schema id " + std::to_string(id.value()) + " is not Avro");
    }
    text = j.at("schema").get<std::string>();
  } catch (const std::exception& e) {
    return Status::Corruption(url + ": malformed answer: " + e.what());
  }
  auto schema = avro::ParseSchema(text);
  if (!schema.ok())
    return Status::NotFound("schema id " + std::to_string(id.value()) + ": " +
                            std::string(schema.status().message()));
  std::lock_guard<std::mutex> lock(mu_);
  cache_[id.value()] = *schema;
  return *schema;
}

}  // namespace braid::archive
