// `braid registry` (a standalone schema registry process) and `braid schemas`
// (a command-line client of any Confluent-compatible registry's REST API).
#include <cctype>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "base/logging.h"
#include "cli/cli.h"
#include "http/client.h"
#include "registry/registry_role.h"
#include "runtime/runtime.h"

namespace braid::cli {

namespace {

using Json = nlohmann::ordered_json;

constexpr const char* kContentType = "application/vnd.schemaregistry.v1+json";

std::string Encode(const std::string& s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// Performs one REST call; prints errors to stderr. Returns the parsed body, or
// nullopt (with *exit_code = 1) on failure.
std::optional<Json> Call(const std::string& base, const std::string& method,
                         const std::string& path, const std::string& body, int* exit_code) {
  std::string url = base;
  while (!url.empty() && url.back() == '/') url.pop_back();
  auto res = http::HttpRequest(method, url + path, body, body.empty() ? "" : kContentType);
  if (!res.ok()) {
    std::fprintf(stderr, "error: %s\n", res.status().ToString().c_str());
    *exit_code = 1;
    return std::nullopt;
  }
  Json j = Json::parse(res->body, nullptr, false);
  if (res->status != 200) {
    if (j.is_object() && j.contains("message")) {
      std::fprintf(stderr, "error %d (error_code %s): %s\n", res->status,
                   j.value("error_code", Json()).dump().c_str(),
                   j["message"].is_string() ? j["message"].get<std::string>().c_str()
                                            : j["message"].dump().c_str());
    } else {
      std::fprintf(stderr, "error: HTTP %d: %s\n", res->status, res->body.c_str());
    }
    *exit_code = 1;
    return std::nullopt;
  }
  if (j.is_discarded()) {
    // e.g. /schema endpoints return the raw schema; those are JSON too.
    std::fprintf(stderr, "error: response is not JSON: %s\n", res->body.c_str());
    *exit_code = 1;
    return std::nullopt;
  }
  return j;
}

std::optional<std::string> ReadSchemaFile(const std::string& path, int* exit_code) {
  std::string text;
  if (path == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "error: cannot read %s\n", path.c_str());
      *exit_code = 1;
      return std::nullopt;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    text = ss.str();
  }
  return text;
}

void PrintSchema(const Json& version_or_schema) {
  if (version_or_schema.is_object() && version_or_schema.contains("schema") &&
      version_or_schema["schema"].is_string()) {
    Json copy = version_or_schema;
    Json parsed = Json::parse(copy["schema"].get<std::string>(), nullptr, false);
    if (!parsed.is_discarded()) copy["schema"] = parsed;
    std::printf("%s\n", copy.dump(2).c_str());
  } else {
    std::printf("%s\n", version_or_schema.dump(2).c_str());
  }
}

}  // namespace

void AddSchemasCommands(CLI::App* root, int* exit_code) {
  // braid registry
  auto* reg = root->add_subcommand(
      "registry",
      "Run a standalone Confluent-compatible schema registry (its state is the _schemas "
      "topic of a braid log in --data)");
  auto data = std::make_shared<std::string>();
  auto listen = std::make_shared<std::string>("127.0.0.1:8081");
  reg->add_option("--data", *data, "Data directory (the _schemas topic is in its log, DATA/log)")
      ->required();
  reg->add_option("--listen", *listen, "HOST:PORT to serve the REST API on (port 0: any)")
      ->capture_default_str();
  auto tls = std::make_shared<HttpTlsFlags>();
  AddHttpTlsOptions(reg, tls.get());
  auto ro = std::make_shared<runtime::RuntimeOptions>();
  auto open_paths = std::make_shared<std::vector<std::string>>();
  auto super_users = std::make_shared<std::vector<std::string>>();
  AddHttpAuthOptions(reg, ro.get(), open_paths.get());
  reg->add_option("--super-users", *super_users,
                  "Users with the admin scope under --http-auth, comma-separated (default: "
                  "none, then every user)")
      ->delimiter(',');
  reg->callback([=] {
    auto tls_options = ResolveHttpTls(*tls);
    if (!tls_options.ok()) {
      std::fprintf(stderr, "braid registry: %s\n", tls_options.status().ToString().c_str());
      *exit_code = 1;
      return;
    }
    ro->data_dir = *data;
    FinishHttpAuthOptions(ro.get(), *open_paths, *super_users);
    runtime::Runtime rt(*ro);
    registry::RegistryRoleOptions o;
    o.listen = *listen;
    o.tls = *tls_options;
    rt.AddRole(std::make_unique<registry::RegistryRole>(o));
    *exit_code = rt.RunUntilSignal("braid registry");
  });

  // braid schemas ...
  auto* schemas = root->add_subcommand("schemas", "Client of a schema registry's REST API");
  schemas->require_subcommand(1);
  auto url = std::make_shared<std::string>("http://127.0.0.1:8081");
  schemas->add_option("--registry", *url, "Registry base URL")->capture_default_str();

  auto* list = schemas->add_subcommand("list", "List subjects");
  auto deleted = std::make_shared<bool>(false);
  list->add_flag("--deleted", *deleted, "Include soft-deleted subjects");
  list->callback([=] {
    auto j = Call(*url, "GET", std::string("/subjects") + (*deleted ? "?deleted=true" : ""), "",
                  exit_code);
    if (j && j->is_array()) {
      for (const Json& s : *j) std::printf("%s\n", s.get<std::string>().c_str());
    }
  });

  auto* show = schemas->add_subcommand("show", "Show a subject's version, or a schema by id");
  auto subject = std::make_shared<std::string>();
  auto version = std::make_shared<std::string>("latest");
  auto id = std::make_shared<int>(0);
  show->add_option("subject", *subject, "Subject");
  show->add_option("--version", *version, "Version number or 'latest'")->capture_default_str();
  show->add_option("--id", *id, "Show the schema with this global id instead");
  auto list_versions = std::make_shared<bool>(false);
  show->add_flag("--versions", *list_versions, "List the subject's versions instead");
  show->callback([=] {
    if (*id > 0) {
      if (auto j = Call(*url, "GET", "/schemas/ids/" + std::to_string(*id), "", exit_code)) {
        PrintSchema(*j);
      }
      return;
    }
    if (subject->empty()) {
      std::fprintf(stderr, "error: give a subject or --id\n");
      *exit_code = 1;
      return;
    }
    if (*list_versions) {
      if (auto j =
              Call(*url, "GET", "/subjects/" + Encode(*subject) + "/versions", "", exit_code)) {
        std::printf("%s\n", j->dump().c_str());
      }
      return;
    }
    if (auto j = Call(*url, "GET", "/subjects/" + Encode(*subject) + "/versions/" + *version, "",
                      exit_code)) {
      PrintSchema(*j);
    }
  });

  auto* regcmd =
      schemas->add_subcommand("register", "Register a schema (.avsc file) under a subject");
  auto rsubject = std::make_shared<std::string>();
  auto rfile = std::make_shared<std::string>();
  regcmd->add_option("subject", *rsubject, "Subject, e.g. <topic>-value")->required();
  regcmd->add_option("file", *rfile, "Schema file ('-' = stdin)")->required();
  regcmd->callback([=] {
    auto text = ReadSchemaFile(*rfile, exit_code);
    if (!text) return;
    Json body{{"schema", *text}};
    if (auto j = Call(*url, "POST", "/subjects/" + Encode(*rsubject) + "/versions", body.dump(),
                      exit_code)) {
      std::printf("%d\n", j->value("id", -1));
    }
  });

  auto* check =
      schemas->add_subcommand("check",
                              "Test a schema file against a subject under its compatibility level "
                              "(exit 1 if incompatible)");
  auto csubject = std::make_shared<std::string>();
  auto cfile = std::make_shared<std::string>();
  auto cversion = std::make_shared<std::string>();
  check->add_option("subject", *csubject, "Subject")->required();
  check->add_option("file", *cfile, "Schema file ('-' = stdin)")->required();
  check->add_option("--version", *cversion,
                    "Check against this version only (default: as a registration would)");
  check->callback([=] {
    auto text = ReadSchemaFile(*cfile, exit_code);
    if (!text) return;
    Json body{{"schema", *text}};
    std::string path = "/compatibility/subjects/" + Encode(*csubject) + "/versions" +
                       (cversion->empty() ? "" : "/" + *cversion) + "?verbose=true";
    auto j = Call(*url, "POST", path, body.dump(), exit_code);
    if (!j) return;
    const bool ok = j->value("is_compatible", false);
    std::printf("%s\n", ok ? "compatible" : "incompatible");
    if (!ok && j->contains("messages")) {
      for (const Json& m : (*j)["messages"]) {
        std::printf("  %s\n", m.is_string() ? m.get<std::string>().c_str() : m.dump().c_str());
      }
    }
    if (!ok) *exit_code = 1;
  });

  auto* config = schemas->add_subcommand("config", "Show or set a compatibility level");
  auto gsubject = std::make_shared<std::string>();
  auto level = std::make_shared<std::string>();
  config->add_option("subject", *gsubject, "Subject (default: the global level)");
  config->add_option("--set", *level, "NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD, ...");
  config->callback([=] {
    std::string path = gsubject->empty() ? "/config" : "/config/" + Encode(*gsubject);
    if (!level->empty()) {
      if (auto j = Call(*url, "PUT", path, Json{{"compatibility", *level}}.dump(), exit_code)) {
        std::printf("%s\n", j->value("compatibility", "").c_str());
      }
      return;
    }
    if (!gsubject->empty()) path += "?defaultToGlobal=true";
    if (auto j = Call(*url, "GET", path, "", exit_code)) {
      std::printf("%s\n", j->value("compatibilityLevel", "").c_str());
    }
  });

  auto* del = schemas->add_subcommand("delete", "Delete a subject or one version");
  auto dsubject = std::make_shared<std::string>();
  auto dversion = std::make_shared<std::string>();
  auto permanent = std::make_shared<bool>(false);
  del->add_option("subject", *dsubject, "Subject")->required();
  del->add_option("--version", *dversion, "Only this version");
  del->add_flag("--permanent", *permanent, "Hard delete (after a soft delete)");
  del->callback([=] {
    std::string path = "/subjects/" + Encode(*dsubject) +
                       (dversion->empty() ? "" : "/versions/" + *dversion) +
                       (*permanent ? "?permanent=true" : "");
    if (auto j = Call(*url, "DELETE", path, "", exit_code)) std::printf("%s\n", j->dump().c_str());
  });
}

}  // namespace braid::cli
