#include "registry/rest_client.h"

#include <exception>

#include <nlohmann/json.hpp>

#include "http/client.h"

namespace braid::registry {

Result<avro::Schema> FetchSchemaById(const std::string& base_url, SchemaId id) {
  const std::string url = base_url + "/schemas/ids/" + std::to_string(id.value());
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
  if (!schema.ok()) {
    return Status::NotFound("schema id " + std::to_string(id.value()) + ": " +
                            std::string(schema.status().message()));
  }
  return *schema;
}

}  // namespace braid::registry
