#include "registry/registry.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "registry/store.h"

namespace braid::registry {
namespace {

using Json = nlohmann::json;

// A Store that forwards to a MemoryStore owned by the test, so that a
// registry can be reopened over the same records.
class ForwardingStore final : public Store {
 public:
  explicit ForwardingStore(MemoryStore* target) : target_(target) {}
  Status Append(const std::vector<StoreRecord>& records) override {
    return target_->Append(records);
  }
  Status Replay(const std::function<Status(const StoreRecord&)>& fn) override {
    return target_->Replay(fn);
  }

 private:
  MemoryStore* target_;
};

constexpr const char* kUserV1 =
    R"({"type":"record","name":"User","namespace":"com.example","fields":[{"name":"name","type":"string"}]})";
// V1 with spaces (as python's str(schema) writes it): the same schema.
constexpr const char* kUserV1Spaced =
    R"({"type": "record", "name": "User", "namespace": "com.example", "fields": [{"name": "name", "type": "string"}]})";
// Adds a field with a default: backward and forward compatible.
constexpr const char* kUserV2 =
    R"({"type":"record","name":"User","namespace":"com.example","fields":[{"name":"name","type":"string"},{"name":"age","type":"int","default":0}]})";
// Adds a field without a default: forward compatible only.
constexpr const char* kUserNoDefault =
    R"({"type":"record","name":"User","namespace":"com.example","fields":[{"name":"name","type":"string"},{"name":"email","type":"string"}]})";
// Changes a field's type: incompatible both ways.
constexpr const char* kUserBadType =
    R"({"type":"record","name":"User","namespace":"com.example","fields":[{"name":"name","type":"int"}]})";
constexpr const char* kOrder =
    R"({"type":"record","name":"Order","fields":[{"name":"id","type":"long"}]})";

std::string Body(std::string_view schema) { return Json{{"schema", schema}}.dump(); }

class RegistryTest : public ::testing::Test {
 protected:
  void SetUp() override { Reopen(); }

  void Reopen(RegistryOptions options = {}) {
    registry_.reset();
    auto r = Registry::Open(options, std::make_unique<ForwardingStore>(&store_));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    registry_ = std::move(*r);
  }

  HttpResult Call(std::string_view method, std::string_view target, std::string_view body = "") {
    return registry_->HandleTarget(method, target, body,
                                   body.empty() ? "" : "application/vnd.schemaregistry.v1+json");
  }
  Json CallJson(std::string_view method, std::string_view target, std::string_view body = "",
                int want_status = 200) {
    HttpResult r = Call(method, target, body);
    EXPECT_EQ(r.status, want_status) << method << " " << target << " -> " << r.body;
    EXPECT_EQ(r.content_type, "application/vnd.schemaregistry.v1+json");
    return Json::parse(r.body);
  }
  // Expects an error response; returns its error_code.
  int ErrorCode(std::string_view method, std::string_view target, std::string_view body,
                int want_status) {
    HttpResult r = Call(method, target, body);
    EXPECT_EQ(r.status, want_status) << method << " " << target << " -> " << r.body;
    Json j = Json::parse(r.body, nullptr, false);
    EXPECT_TRUE(j.is_object() && j.contains("error_code") && j.contains("message")) << r.body;
    return j.is_object() && j.contains("error_code") ? j["error_code"].get<int>() : -1;
  }
  int RegisterId(std::string_view subject, std::string_view schema) {
    Json j = CallJson("POST", "/subjects/" + std::string(subject) + "/versions", Body(schema));
    return j.value("id", -1);
  }

  MemoryStore store_;
  std::unique_ptr<Registry> registry_;
};

TEST_F(RegistryTest, RootAndTypes) {
  EXPECT_EQ(CallJson("GET", "/"), Json::object());
  EXPECT_EQ(CallJson("GET", "/schemas/types"), Json::array({"AVRO"}));
}

TEST_F(RegistryTest, RegisterAssignsIdsFromOneAndDeduplicates) {
  EXPECT_EQ(RegisterId("users-value", kUserV1), 1);
  // The same schema (even written with other whitespace) is not a new version.
  EXPECT_EQ(RegisterId("users-value", kUserV1Spaced), 1);
  EXPECT_EQ(CallJson("GET", "/subjects/users-value/versions"), Json::array({1}));
  EXPECT_EQ(RegisterId("users-value", kUserV2), 2);
  EXPECT_EQ(CallJson("GET", "/subjects/users-value/versions"), Json::array({1, 2}));
  // Re-registering an older version returns its id without a new version.
  EXPECT_EQ(RegisterId("users-value", kUserV1), 1);
  EXPECT_EQ(CallJson("GET", "/subjects/users-value/versions"), Json::array({1, 2}));
  // The same schema under another subject reuses the global id.
  EXPECT_EQ(RegisterId("other-value", kUserV2), 2);
  EXPECT_EQ(CallJson("GET", "/subjects/other-value/versions/latest")["version"], 1);
  EXPECT_EQ(RegisterId("orders-value", kOrder), 3);
  EXPECT_EQ(CallJson("GET", "/subjects"),
            Json::array({"orders-value", "other-value", "users-value"}));
  EXPECT_EQ(store_.records().size(), 4u);  // one record per new version only
}

TEST_F(RegistryTest, SchemaById) {
  ASSERT_EQ(RegisterId("a", kUserV1Spaced), 1);
  ASSERT_EQ(RegisterId("b", kUserV1), 1);
  Json j = CallJson("GET", "/schemas/ids/1");
  ASSERT_TRUE(j["schema"].is_string());
  // The stored text is the canonical compact form, not what the client sent.
  EXPECT_EQ(Json::parse(j["schema"].get<std::string>()), Json::parse(kUserV1));
  EXPECT_EQ(j["schema"].get<std::string>().find(' '), std::string::npos);
  EXPECT_FALSE(j.contains("schemaType"));
  EXPECT_FALSE(j.contains("references"));
  HttpResult raw = Call("GET", "/schemas/ids/1/schema");
  EXPECT_EQ(raw.status, 200);
  EXPECT_EQ(Json::parse(raw.body), Json::parse(kUserV1));
  EXPECT_EQ(CallJson("GET", "/schemas/ids/1/versions"),
            Json::parse(R"([{"subject":"a","version":1},{"subject":"b","version":1}])"));
  EXPECT_EQ(CallJson("GET", "/schemas/ids/1/subjects"), Json::array({"a", "b"}));
  EXPECT_EQ(ErrorCode("GET", "/schemas/ids/2", "", 404), 40403);
  EXPECT_EQ(ErrorCode("GET", "/schemas/ids/abc", "", 404), 40403);
  EXPECT_EQ(ErrorCode("GET", "/schemas/ids/0", "", 404), 40403);
}

TEST_F(RegistryTest, GetVersion) {
  RegisterId("s", kUserV1);
  RegisterId("s", kUserV2);
  Json v1 = CallJson("GET", "/subjects/s/versions/1");
  EXPECT_EQ(v1["subject"], "s");
  EXPECT_EQ(v1["version"], 1);
  EXPECT_EQ(v1["id"], 1);
  EXPECT_EQ(Json::parse(v1["schema"].get<std::string>()), Json::parse(kUserV1));
  EXPECT_EQ(CallJson("GET", "/subjects/s/versions/latest")["version"], 2);
  EXPECT_EQ(CallJson("GET", "/subjects/s/versions/-1")["version"], 2);
  HttpResult raw = Call("GET", "/subjects/s/versions/2/schema");
  EXPECT_EQ(Json::parse(raw.body), Json::parse(kUserV2));
  EXPECT_EQ(CallJson("GET", "/subjects/s/versions/1/referencedby"), Json::array());
  EXPECT_EQ(ErrorCode("GET", "/subjects/s/versions/3", "", 404), 40402);
  EXPECT_EQ(ErrorCode("GET", "/subjects/s/versions/0", "", 422), 42202);
  EXPECT_EQ(ErrorCode("GET", "/subjects/s/versions/-2", "", 422), 42202);
  EXPECT_EQ(ErrorCode("GET", "/subjects/s/versions/abc", "", 422), 42202);
  EXPECT_EQ(ErrorCode("GET", "/subjects/s/versions/99999999999", "", 422), 42202);
  EXPECT_EQ(ErrorCode("GET", "/subjects/nope/versions/1", "", 404), 40401);
  EXPECT_EQ(ErrorCode("GET", "/subjects/nope/versions", "", 404), 40401);
}

TEST_F(RegistryTest, Lookup) {
  RegisterId("s", kUserV1);
  RegisterId("s", kUserV2);
  Json j = CallJson("POST", "/subjects/s", Body(kUserV1Spaced));
  EXPECT_EQ(j["subject"], "s");
  EXPECT_EQ(j["version"], 1);
  EXPECT_EQ(j["id"], 1);
  EXPECT_TRUE(j["schema"].is_string());
  EXPECT_EQ(ErrorCode("POST", "/subjects/nope", Body(kUserV1), 404), 40401);
  EXPECT_EQ(ErrorCode("POST", "/subjects/s", Body(kOrder), 404), 40403);
  EXPECT_EQ(ErrorCode("POST", "/subjects/s", Body("{\"type\":\"nope\"}"), 422), 42201);
}

TEST_F(RegistryTest, RegisterRejectsInvalidInput) {
  EXPECT_EQ(ErrorCode("POST", "/subjects/s/versions", Body("{\"type\":\"record\"}"), 422), 42201);
  EXPECT_EQ(ErrorCode("POST", "/subjects/s/versions", Body("not json"), 422), 42201);
  EXPECT_EQ(ErrorCode("POST", "/subjects/s/versions", "{}", 422), 42201);
  EXPECT_EQ(ErrorCode("POST", "/subjects/s/versions", R"({"schema":""})", 422), 42201);
  EXPECT_EQ(ErrorCode("POST", "/subjects/s/versions", R"({"schema":42})", 422), 42201);
  // Schemas the Avro specification rejects (as the Confluent registry does).
  for (const char* bad : {
           R"({"type":"enum","name":"E","symbols":[]})",
           R"({"type":"enum","name":"E","symbols":["A","A"]})",
           R"({"type":"enum","name":"E","symbols":["1x"]})",
           R"({"type":"fixed","name":"F","size":-1})",
           R"({"type":"record","name":"R","fields":[{"name":"a","type":"int"},)"
           R"({"name":"a","type":"long"}]})",
           R"({"type":"record","name":"R","fields":[{"name":"a","type":"int","default":"x"}]})",
           R"(["int","int"])",
           R"({"type":"record","name":"a-b","fields":[]})",
           R"({"type":"array"})",
       }) {
    EXPECT_EQ(ErrorCode("POST", "/subjects/s/versions", Body(bad), 422), 42201) << bad;
  }
  EXPECT_EQ(ErrorCode("POST", "/subjects/s/versions",
                      R"({"schema":"{\"type\":\"object\"}","schemaType":"JSON"})", 422),
            42201);
  EXPECT_EQ(ErrorCode("POST", "/subjects/s/versions",
                      R"({"schema":"syntax = \"proto3\";","schemaType":"PROTOBUF"})", 422),
            42201);
  EXPECT_EQ(
      ErrorCode("POST", "/subjects/s/versions",
                R"({"schema":"\"int\"","references":[{"name":"x","subject":"y","version":1}]})",
                422),
      42201);
  EXPECT_EQ(ErrorCode("POST", "/subjects/s/versions", "[1,2]", 400), 400);
  EXPECT_EQ(ErrorCode("POST", "/subjects/s/versions", "{", 400), 400);
  // An explicit AVRO type and empty references are fine.
  Json j = CallJson("POST", "/subjects/s/versions",
                    R"({"schema":"\"int\"","schemaType":"AVRO","references":[]})");
  EXPECT_EQ(j["id"], 1);
  // Control characters are not valid in subject names.
  EXPECT_EQ(ErrorCode("POST", "/subjects/a%01b/versions", Body(kUserV1), 422), 42208);
  EXPECT_TRUE(store_.records().size() == 1);
}

TEST_F(RegistryTest, IncompatibleRegisterIs409) {
  RegisterId("s", kUserV1);
  HttpResult r = Call("POST", "/subjects/s/versions", Body(kUserBadType));
  EXPECT_EQ(r.status, 409);
  Json j = Json::parse(r.body);
  EXPECT_EQ(j["error_code"], 409);
  EXPECT_NE(j["message"].get<std::string>().find("incompatible"), std::string::npos);
  EXPECT_NE(j["message"].get<std::string>().find("TYPE_MISMATCH"), std::string::npos);
  // BACKWARD (default): a new field needs a default.
  EXPECT_EQ(ErrorCode("POST", "/subjects/s/versions", Body(kUserNoDefault), 409), 409);
  // With NONE anything goes.
  CallJson("PUT", "/config/s", R"({"compatibility":"NONE"})");
  EXPECT_EQ(RegisterId("s", kUserBadType), 2);
}

TEST_F(RegistryTest, SoftAndHardDeleteVersion) {
  RegisterId("s", kUserV1);
  RegisterId("s", kUserV2);
  EXPECT_EQ(ErrorCode("DELETE", "/subjects/s/versions/1?permanent=true", "", 404), 40407);
  HttpResult r = Call("DELETE", "/subjects/s/versions/1");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "1");
  EXPECT_EQ(ErrorCode("GET", "/subjects/s/versions/1", "", 404), 40402);
  EXPECT_EQ(CallJson("GET", "/subjects/s/versions/1?deleted=true")["id"], 1);
  EXPECT_EQ(CallJson("GET", "/subjects/s/versions"), Json::array({2}));
  EXPECT_EQ(CallJson("GET", "/subjects/s/versions?deleted=true"), Json::array({1, 2}));
  EXPECT_EQ(ErrorCode("DELETE", "/subjects/s/versions/1", "", 404), 40406);
  // The id stays readable while a soft-deleted version uses it.
  EXPECT_EQ(Call("GET", "/schemas/ids/1").status, 200);
  EXPECT_EQ(Call("DELETE", "/subjects/s/versions/1?permanent=true").body, "1");
  EXPECT_EQ(ErrorCode("GET", "/subjects/s/versions/1?deleted=true", "", 404), 40402);
  EXPECT_EQ(ErrorCode("DELETE", "/subjects/s/versions/1?permanent=true", "", 404), 40402);
  EXPECT_EQ(ErrorCode("GET", "/schemas/ids/1", "", 404), 40403);
  EXPECT_EQ(ErrorCode("DELETE", "/subjects/s/versions/7", "", 404), 40402);
  EXPECT_EQ(ErrorCode("DELETE", "/subjects/s/versions/zero", "", 422), 42202);
  EXPECT_EQ(ErrorCode("DELETE", "/subjects/nope/versions/1", "", 404), 40401);
  // "latest" deletes the newest live version.
  EXPECT_EQ(Call("DELETE", "/subjects/s/versions/latest").body, "2");
  EXPECT_EQ(ErrorCode("GET", "/subjects/s/versions", "", 404), 40401);
}

TEST_F(RegistryTest, SoftAndHardDeleteSubject) {
  RegisterId("s", kUserV1);
  RegisterId("s", kUserV2);
  EXPECT_EQ(ErrorCode("DELETE", "/subjects/s?permanent=true", "", 404), 40405);
  EXPECT_EQ(CallJson("DELETE", "/subjects/s"), Json::array({1, 2}));
  EXPECT_EQ(CallJson("GET", "/subjects"), Json::array());
  EXPECT_EQ(CallJson("GET", "/subjects?deleted=true"), Json::array({"s"}));
  EXPECT_EQ(ErrorCode("GET", "/subjects/s/versions", "", 404), 40401);
  EXPECT_EQ(ErrorCode("GET", "/subjects/s/versions/latest", "", 404), 40401);
  EXPECT_EQ(ErrorCode("POST", "/subjects/s", Body(kUserV1), 404), 40401);
  EXPECT_EQ(CallJson("POST", "/subjects/s?deleted=true", Body(kUserV1))["version"], 1);
  EXPECT_EQ(ErrorCode("DELETE", "/subjects/s", "", 404), 40404);
  EXPECT_EQ(CallJson("DELETE", "/subjects/s?permanent=true"), Json::array({1, 2}));
  EXPECT_EQ(ErrorCode("DELETE", "/subjects/s", "", 404), 40401);
  EXPECT_EQ(ErrorCode("DELETE", "/subjects/s?permanent=true", "", 404), 40401);
  EXPECT_EQ(CallJson("GET", "/subjects?deleted=true"), Json::array());
  // Ids are never reused: the same schema registered again gets a new id.
  EXPECT_EQ(RegisterId("s", kUserV1), 3);
  EXPECT_EQ(CallJson("GET", "/subjects/s/versions"), Json::array({1}));
}

TEST_F(RegistryTest, RegisterAfterSoftDeleteContinuesVersions) {
  RegisterId("s", kUserV1);
  RegisterId("s", kUserV2);
  CallJson("DELETE", "/subjects/s");
  // A soft-deleted version is not compared for compatibility nor deduplicated;
  // the version number continues after the soft-deleted ones; the id is reused.
  EXPECT_EQ(RegisterId("s", kUserV1), 1);
  EXPECT_EQ(CallJson("GET", "/subjects/s/versions"), Json::array({3}));
  // Compatibility is checked against the live version 3 only.
  EXPECT_EQ(ErrorCode("POST", "/subjects/s/versions", Body(kUserBadType), 409), 409);
  EXPECT_EQ(RegisterId("s", kUserV2), 2);
}

TEST_F(RegistryTest, Config) {
  EXPECT_EQ(CallJson("GET", "/config"), Json::parse(R"({"compatibilityLevel":"BACKWARD"})"));
  EXPECT_EQ(CallJson("PUT", "/config", R"({"compatibility":"FULL"})"),
            Json::parse(R"({"compatibility":"FULL"})"));
  EXPECT_EQ(CallJson("GET", "/config")["compatibilityLevel"], "FULL");
  EXPECT_EQ(ErrorCode("GET", "/config/s", "", 404), 40408);
  EXPECT_EQ(CallJson("GET", "/config/s?defaultToGlobal=true")["compatibilityLevel"], "FULL");
  EXPECT_EQ(CallJson("PUT", "/config/s", R"({"compatibility":"FORWARD_TRANSITIVE"})"),
            Json::parse(R"({"compatibility":"FORWARD_TRANSITIVE"})"));
  EXPECT_EQ(CallJson("GET", "/config/s")["compatibilityLevel"], "FORWARD_TRANSITIVE");
  // A subject with only a config is not listed.
  EXPECT_EQ(CallJson("GET", "/subjects"), Json::array());
  EXPECT_EQ(CallJson("DELETE", "/config/s")["compatibilityLevel"], "FORWARD_TRANSITIVE");
  EXPECT_EQ(ErrorCode("GET", "/config/s", "", 404), 40408);
  EXPECT_EQ(ErrorCode("DELETE", "/config/s", "", 404), 40401);
  EXPECT_EQ(ErrorCode("PUT", "/config", R"({"compatibility":"full"})", 422), 42203);
  EXPECT_EQ(ErrorCode("PUT", "/config/s", R"({"compatibility":"SIDEWAYS"})", 422), 42203);
  EXPECT_EQ(ErrorCode("PUT", "/config/s", R"({})", 422), 42203);
  EXPECT_EQ(CallJson("DELETE", "/config")["compatibilityLevel"], "FULL");
  EXPECT_EQ(CallJson("GET", "/config")["compatibilityLevel"], "BACKWARD");
  for (const char* level : {"NONE", "BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD",
                            "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE"}) {
    Json body{{"compatibility", level}};
    EXPECT_EQ(CallJson("PUT", "/config/x", body.dump())["compatibility"], level);
    EXPECT_EQ(CallJson("GET", "/config/x")["compatibilityLevel"], level);
  }
}

TEST_F(RegistryTest, ConfiguredLevelGovernsRegister) {
  CallJson("PUT", "/config", R"({"compatibility":"FORWARD"})");
  RegisterId("s", kUserV1);
  // FORWARD: the old schema must read the new one: adding a field without a
  // default is fine, changing a type is not.
  EXPECT_EQ(RegisterId("s", kUserNoDefault), 2);
  EXPECT_EQ(ErrorCode("POST", "/subjects/s/versions", Body(kUserBadType), 409), 409);
}

TEST_F(RegistryTest, CompatibilityEndpoint) {
  // A missing subject with "latest" is compatible.
  EXPECT_EQ(CallJson("POST", "/compatibility/subjects/s/versions/latest", Body(kUserV1)),
            Json::parse(R"({"is_compatible":true})"));
  EXPECT_EQ(CallJson("POST", "/compatibility/subjects/s/versions", Body(kUserV1))["is_compatible"],
            true);
  EXPECT_EQ(ErrorCode("POST", "/compatibility/subjects/s/versions/1", Body(kUserV1), 404), 40402);
  RegisterId("s", kUserV1);
  EXPECT_EQ(
      CallJson("POST", "/compatibility/subjects/s/versions/1", Body(kUserV2))["is_compatible"],
      true);
  Json j = CallJson("POST", "/compatibility/subjects/s/versions/latest", Body(kUserBadType));
  EXPECT_EQ(j, Json::parse(R"({"is_compatible":false})"));
  j = CallJson("POST", "/compatibility/subjects/s/versions/latest?verbose=true",
               Body(kUserBadType));
  EXPECT_EQ(j["is_compatible"], false);
  ASSERT_TRUE(j["messages"].is_array());
  ASSERT_FALSE(j["messages"].empty());
  EXPECT_NE(j["messages"][0].get<std::string>().find("TYPE_MISMATCH"), std::string::npos);
  EXPECT_NE(j["messages"][0].get<std::string>().find("/fields/0/type"), std::string::npos);
  EXPECT_EQ(ErrorCode("POST", "/compatibility/subjects/s/versions/2", Body(kUserV2), 404), 40402);
  EXPECT_EQ(ErrorCode("POST", "/compatibility/subjects/s/versions/0", Body(kUserV2), 422), 42202);
  EXPECT_EQ(ErrorCode("POST", "/compatibility/subjects/s/versions/1", Body("{"), 422), 42201);
  EXPECT_EQ(CallJson("GET", "/subjects/s/versions"), Json::array({1}));  // nothing registered
}

TEST_F(RegistryTest, TransitiveLevels) {
  // v1 {name, f:int}; v2 {name}; candidate {name, f:string = ""}: reads v2 but not v1.
  const char* v1 =
      R"({"type":"record","name":"R","fields":[{"name":"name","type":"string"},{"name":"f","type":"int"}]})";
  const char* v2 = R"({"type":"record","name":"R","fields":[{"name":"name","type":"string"}]})";
  const char* cand =
      R"({"type":"record","name":"R","fields":[{"name":"name","type":"string"},{"name":"f","type":"string","default":""}]})";
  RegisterId("s", v1);
  RegisterId("s", v2);
  CallJson("PUT", "/config/s", R"({"compatibility":"BACKWARD_TRANSITIVE"})");
  EXPECT_EQ(CallJson("POST", "/compatibility/subjects/s/versions", Body(cand))["is_compatible"],
            false);
  // Against one given version, only that version counts.
  EXPECT_EQ(CallJson("POST", "/compatibility/subjects/s/versions/2", Body(cand))["is_compatible"],
            true);
  Json verbose = CallJson("POST", "/compatibility/subjects/s/versions?verbose=true", Body(cand));
  std::string all = verbose["messages"].dump();
  EXPECT_NE(all.find("oldSchemaVersion: 1"), std::string::npos) << all;
  EXPECT_EQ(ErrorCode("POST", "/subjects/s/versions", Body(cand), 409), 409);
  CallJson("PUT", "/config/s", R"({"compatibility":"BACKWARD"})");
  EXPECT_EQ(RegisterId("s", cand), 3);
}

TEST_F(RegistryTest, ModeAndRouting) {
  EXPECT_EQ(CallJson("GET", "/mode")["mode"], "READWRITE");
  EXPECT_EQ(CallJson("PUT", "/mode", R"({"mode":"READWRITE"})")["mode"], "READWRITE");
  EXPECT_EQ(ErrorCode("PUT", "/mode", R"({"mode":"READONLY"})", 422), 42204);
  EXPECT_EQ(ErrorCode("GET", "/nothing/here", "", 404), 404);
  EXPECT_EQ(ErrorCode("PATCH", "/subjects", "", 405), 405);
  EXPECT_EQ(ErrorCode("POST", "/schemas/ids/1", "", 405), 405);
  HttpResult r = registry_->HandleTarget("POST", "/subjects/s/versions", Body(kUserV1), "text/xml");
  EXPECT_EQ(r.status, 415);
  for (const char* ct :
       {"application/vnd.schemaregistry.v1+json", "application/vnd.schemaregistry+json",
        "application/json", "application/json; charset=utf-8", ""}) {
    EXPECT_EQ(registry_->HandleTarget("POST", "/subjects/s/versions", Body(kUserV1), ct).status,
              200)
        << ct;
  }
}

TEST_F(RegistryTest, PercentEncodedSubjects) {
  EXPECT_EQ(RegisterId("a%2Fb", kUserV1), 1);
  EXPECT_EQ(CallJson("GET", "/subjects"), Json::array({"a/b"}));
  EXPECT_EQ(CallJson("GET", "/subjects/a%2Fb/versions/1")["subject"], "a/b");
}

TEST_F(RegistryTest, StoreFailureIs50001AndChangesNothing) {
  RegisterId("s", kUserV1);
  store_.FailAppends(Status::IOError("disk on fire"));
  EXPECT_EQ(ErrorCode("POST", "/subjects/s/versions", Body(kUserV2), 500), 50001);
  EXPECT_EQ(ErrorCode("PUT", "/config", R"({"compatibility":"FULL"})", 500), 50001);
  EXPECT_EQ(ErrorCode("DELETE", "/subjects/s", "", 500), 50001);
  store_.FailAppends(Status::OK());
  EXPECT_EQ(CallJson("GET", "/subjects/s/versions"), Json::array({1}));
  EXPECT_EQ(CallJson("GET", "/config")["compatibilityLevel"], "BACKWARD");
  EXPECT_EQ(RegisterId("s", kUserV2), 2);
}

TEST_F(RegistryTest, ReplayRestoresEverything) {
  RegisterId("a-value", kUserV1);
  RegisterId("a-value", kUserV2);
  RegisterId("b-value", kOrder);
  RegisterId("c-value", kUserV1);
  CallJson("PUT", "/config", R"({"compatibility":"FULL"})");
  CallJson("PUT", "/config/b-value", R"({"compatibility":"NONE"})");
  CallJson("DELETE", "/subjects/a-value/versions/1");
  CallJson("DELETE", "/subjects/c-value");
  CallJson("DELETE", "/subjects/c-value?permanent=true");
  const std::vector<std::string> probes = {"/subjects",
                                           "/subjects?deleted=true",
                                           "/subjects/a-value/versions",
                                           "/subjects/a-value/versions?deleted=true",
                                           "/subjects/a-value/versions/1",
                                           "/subjects/a-value/versions/1?deleted=true",
                                           "/subjects/a-value/versions/latest",
                                           "/subjects/b-value/versions/1",
                                           "/schemas/ids/1",
                                           "/schemas/ids/2",
                                           "/schemas/ids/3",
                                           "/schemas/ids/4",
                                           "/config",
                                           "/config/b-value",
                                           "/config/a-value",
                                           "/subjects/c-value/versions"};
  std::vector<std::string> before;
  for (const std::string& p : probes) before.push_back(Call("GET", p).body);
  Reopen();
  for (size_t i = 0; i < probes.size(); ++i) {
    EXPECT_EQ(Call("GET", probes[i]).body, before[i]) << probes[i];
  }
  // The next id continues after the highest ever handed out.
  EXPECT_EQ(RegisterId("d-value", R"("string")"), 4);
  // Hard delete of the newest id survives a restart without reuse.
  CallJson("DELETE", "/subjects/d-value");
  CallJson("DELETE", "/subjects/d-value?permanent=true");
  Reopen();
  EXPECT_EQ(RegisterId("e-value", R"("bytes")"), 5);
}

TEST_F(RegistryTest, ReplaySkipsGarbageRecords) {
  ASSERT_TRUE(
      store_
          .Append({StoreRecord{"not json", "x"},
                   StoreRecord{R"({"keytype":"SCHEMA","subject":"s","version":1,"magic":1})",
                               R"({"subject":"s","version":1,"id":5,"schema":"{bad"})"},
                   StoreRecord{R"({"keytype":"NOOP","magic":0})", std::nullopt},
                   StoreRecord{R"({"keytype":"SCHEMA","subject":"s","version":2,"magic":1})",
                               R"({"subject":"s","version":2,"id":9,"schema":"\"int\""})"}})
          .ok());
  Reopen();
  EXPECT_EQ(CallJson("GET", "/subjects/s/versions"), Json::array({2}));
  EXPECT_EQ(RegisterId("t", R"("long")"), 10);
}

TEST_F(RegistryTest, ConfluentDeleteSubjectRecordIsHonoured) {
  ASSERT_TRUE(
      store_
          .Append({StoreRecord{
                       R"({"keytype":"SCHEMA","subject":"s","version":1,"magic":1})",
                       R"({"subject":"s","version":1,"id":1,"schema":"\"int\"","deleted":false})"},
                   StoreRecord{R"({"keytype":"DELETE_SUBJECT","subject":"s","magic":0})",
                               R"({"subject":"s","version":1})"}})
          .ok());
  Reopen();
  EXPECT_EQ(CallJson("GET", "/subjects"), Json::array());
  EXPECT_EQ(CallJson("GET", "/subjects?deleted=true"), Json::array({"s"}));
}

TEST_F(RegistryTest, HostileInputNeverCrashes) {
  // Invalid UTF-8 subjects are rejected, and echoed safely in messages.
  EXPECT_EQ(ErrorCode("POST", "/subjects/a%FFb/versions", Body(kUserV1), 422), 42208);
  EXPECT_EQ(ErrorCode("PUT", "/config/a%C0%80", R"({"compatibility":"NONE"})", 422), 42208);
  EXPECT_EQ(ErrorCode("GET", "/subjects/a%FF/versions", "", 404), 40401);
  EXPECT_EQ(ErrorCode("POST", "/subjects/s/versions", "{\"schema\":\"\xff\"}", 400), 400);
  const std::vector<std::string> methods = {"GET", "POST", "PUT", "DELETE", "PATCH"};
  const std::vector<std::string> segs = {
      "subjects", "versions", "schemas", "ids",  "config", "compatibility",
      "latest",   "-1",       "0",       "1",    "x",      "%",
      "%2",       "%FF",      "",        "mode", "schema", "types"};
  const std::vector<std::string> bodies = {"",
                                           "{",
                                           "[]",
                                           "null",
                                           "{\"schema\":null}",
                                           Body(kUserV1),
                                           Body(kOrder),
                                           R"({"compatibility":"FULL"})",
                                           std::string("\0\xff\xfe", 3)};
  uint32_t seed = 12345;
  auto next = [&](size_t n) {
    seed = seed * 1103515245u + 12345u;
    return static_cast<size_t>((seed >> 8) % n);
  };
  for (int i = 0; i < 3000; ++i) {
    std::string target;
    const size_t depth = next(6);
    for (size_t d = 0; d < depth; ++d) target += "/" + segs[next(segs.size())];
    if (next(4) == 0) target += "?deleted=true&permanent=true&verbose=true&defaultToGlobal=true";
    HttpResult r =
        registry_->HandleTarget(methods[next(methods.size())], target.empty() ? "/" : target,
                                bodies[next(bodies.size())], "");
    ASSERT_GE(r.status, 200);
    ASSERT_LT(r.status, 600);
    ASSERT_FALSE(Json::parse(r.body, nullptr, false).is_discarded()) << target << " " << r.body;
  }
}

TEST_F(RegistryTest, TypedApi) {
  Result<SchemaId> id = registry_->Register("t-value", kUserV1);
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(id->value(), 1);
  EXPECT_TRUE(registry_->IsRegisteredUnder("t-value", SchemaId(1)));
  EXPECT_FALSE(registry_->IsRegisteredUnder("u-value", SchemaId(1)));
  auto s = registry_->GetSchemaById(SchemaId(1));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ((*s)->schema.root().fullname(), "com.example.User");
  EXPECT_TRUE(registry_->GetSchemaById(SchemaId(2)).status().IsNotFound());
  Result<SchemaId> bad = registry_->Register("t-value", kUserBadType);
  EXPECT_EQ(bad.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(registry_->Register("t-value", "{").status().code(), StatusCode::kInvalidArgument);
  // Subjects with path characters are passed through intact.
  ASSERT_TRUE(registry_->Register("a/b %x", R"("int")").ok());
  EXPECT_TRUE(registry_->IsRegisteredUnder("a/b %x", SchemaId(2)));
}

}  // namespace
}  // namespace braid::registry
