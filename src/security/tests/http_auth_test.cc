// The HTTP authenticator and the token store: scopes, basic auth against the
// SCRAM users (with its cache), bearer tokens (persistence, reload, delete),
// the failure limiter, open paths and path patterns.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "security/http_auth.h"
#include "security/scram.h"
#include "security/token_store.h"
#include "security/user_store.h"

namespace braid::security {
namespace {

class HttpAuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/braid_http_auth_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    dir_ = root_ + "/security";
    auto users = UserStore::Open(dir_);
    ASSERT_TRUE(users.ok()) << users.status().ToString();
    users_ = std::move(users).value();
    AddUser("alice", "alice-secret");
    AddUser("bob", "bob-secret");
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  void AddUser(const std::string& name, const std::string& password) {
    auto cred = MakeCredential(ScramMechanism::kSha512, password, kMinIterations);
    ASSERT_TRUE(cred.ok());
    ASSERT_TRUE(users_->Upsert(name, *cred).ok());
  }

  std::unique_ptr<HttpAuthenticator> Open(std::vector<std::string> super_users = {}) {
    HttpAuthOptions o;
    o.dir = dir_;
    o.super_users = std::move(super_users);
    o.clock = &clock_;
    o.max_failed_per_address = 3;
    o.failed_window_ms = 10'000;
    o.cache_ttl_ms = 60'000;
    auto a = HttpAuthenticator::Open(o);
    EXPECT_TRUE(a.ok()) << a.status().ToString();
    return a.ok() ? std::move(a).value() : nullptr;
  }

  static std::string Basic(const std::string& user_password) {
    return "Basic " + Base64Encode(user_password);
  }

  static HttpAuthDecision Check(HttpAuthenticator* a, std::string_view method,
                                std::string_view path, const std::string& authorization,
                                HttpScope required, std::string_view peer = "10.0.0.1") {
    HttpAuthRequest r;
    r.method = method;
    r.path = path;
    r.authorization = authorization;
    r.peer = peer;
    return a->Check(r, required);
  }

  ManualClock clock_;
  std::string root_, dir_;
  std::unique_ptr<UserStore> users_;
};

TEST(HttpAuthPatterns, MatchPathPatternBySegments) {
  EXPECT_TRUE(MatchPathPattern("/v1/views/*/values", "/v1/views/pageviews/values"));
  EXPECT_TRUE(MatchPathPattern("/v1/views/*/values", "/v1/views/a%2Fb/values"));
  EXPECT_FALSE(MatchPathPattern("/v1/views/*/values", "/v1/views//values"));
  EXPECT_FALSE(MatchPathPattern("/v1/views/*/values", "/v1/views/a/b/values"));
  EXPECT_FALSE(MatchPathPattern("/v1/views/*/values", "/v1/views/a/values/"));
  EXPECT_FALSE(MatchPathPattern("/subjects/*", "/subjects/x/versions"));
  EXPECT_TRUE(MatchPathPattern("/subjects/*", "/subjects/x"));
  EXPECT_FALSE(MatchPathPattern("/subjects/*", "/subjects"));
  EXPECT_TRUE(MatchPathPattern("/a", "/a"));
  EXPECT_FALSE(MatchPathPattern("/a", "/ab"));
}

TEST(HttpAuthPatterns, RequiredScope) {
  const std::vector<HttpReadRule> rules = {{"POST", "/v1/views/*/values"}};
  EXPECT_EQ(RequiredScope("GET", "/v1/batch/schedule", rules), HttpScope::kRead);
  EXPECT_EQ(RequiredScope("HEAD", "/metrics", rules), HttpScope::kRead);
  EXPECT_EQ(RequiredScope("POST", "/v1/views/pv/values", rules), HttpScope::kRead);
  EXPECT_EQ(RequiredScope("POST", "/v1/batch/run", rules), HttpScope::kAdmin);
  EXPECT_EQ(RequiredScope("PUT", "/v1/views/pv/values", rules), HttpScope::kAdmin);
  EXPECT_EQ(RequiredScope("DELETE", "/subjects/x", rules), HttpScope::kAdmin);
}

TEST_F(HttpAuthTest, BasicAuthScopesFollowSuperUsers) {
  auto a = Open({"alice"});
  ASSERT_NE(a, nullptr);
  auto d = Check(a.get(), "POST", "/v1/batch/run", Basic("alice:alice-secret"), HttpScope::kAdmin);
  EXPECT_TRUE(d.allowed()) << d.message;
  EXPECT_EQ(d.principal, "User:alice");
  d = Check(a.get(), "GET", "/metrics", Basic("bob:bob-secret"), HttpScope::kRead);
  EXPECT_TRUE(d.allowed()) << d.message;
  d = Check(a.get(), "POST", "/v1/batch/run", Basic("bob:bob-secret"), HttpScope::kAdmin);
  EXPECT_EQ(d.status, 403);
  EXPECT_EQ(d.principal, "User:bob");

  // No super users: every user is admin (KIP-554's rule).
  auto open = Open();
  d = Check(open.get(), "POST", "/v1/batch/run", Basic("bob:bob-secret"), HttpScope::kAdmin);
  EXPECT_TRUE(d.allowed()) << d.message;
}

TEST_F(HttpAuthTest, RefusalsAre401WithoutSayingWhetherTheUserExists) {
  auto a = Open();
  auto none = Check(a.get(), "GET", "/metrics", "", HttpScope::kRead);
  EXPECT_EQ(none.status, 401);
  auto wrong = Check(a.get(), "GET", "/metrics", Basic("alice:nope"), HttpScope::kRead);
  auto unknown = Check(a.get(), "GET", "/metrics", Basic("mallory:nope"), HttpScope::kRead, "x");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_EQ(unknown.status, 401);
  EXPECT_EQ(wrong.message, unknown.message);
  EXPECT_EQ(Check(a.get(), "GET", "/m", "Basic !!!", HttpScope::kRead, "y").status, 401);
  EXPECT_EQ(Check(a.get(), "GET", "/m", Basic("no-colon"), HttpScope::kRead, "y").status, 401);
  EXPECT_EQ(Check(a.get(), "GET", "/m", "Digest x", HttpScope::kRead, "y").status, 401);
  EXPECT_EQ(Check(a.get(), "GET", "/m", "Bearer", HttpScope::kRead, "z").status, 401);
  EXPECT_EQ(Check(a.get(), "GET", "/m", "Bearer nope", HttpScope::kRead, "z").status, 401);
  EXPECT_EQ(
      Check(a.get(), "GET", "/m", "Basic " + std::string(5000, 'A'), HttpScope::kRead, "w").status,
      401);
}

TEST_F(HttpAuthTest, OpenPathsNeedNothingForGetOnly) {
  auto a = Open();
  EXPECT_TRUE(Check(a.get(), "GET", "/health", "", HttpScope::kRead).allowed());
  EXPECT_TRUE(Check(a.get(), "HEAD", "/health", "", HttpScope::kRead).allowed());
  EXPECT_EQ(Check(a.get(), "POST", "/health", "", HttpScope::kAdmin).status, 401);
  EXPECT_EQ(Check(a.get(), "GET", "/health/x", "", HttpScope::kRead).status, 401);
  EXPECT_EQ(Check(a.get(), "GET", "/healthz", "", HttpScope::kRead).status, 401);
}

TEST_F(HttpAuthTest, CacheSkipsPbkdf2AndNoticesPasswordChangesAndDeletes) {
  auto a = Open();
  const std::string ok = Basic("alice:alice-secret");
  EXPECT_TRUE(Check(a.get(), "GET", "/m", ok, HttpScope::kRead).allowed());
  const uint64_t after_first = a->password_verifications();
  EXPECT_EQ(after_first, 1u);
  for (int i = 0; i < 5; ++i)
    EXPECT_TRUE(Check(a.get(), "GET", "/m", ok, HttpScope::kRead).allowed());
  EXPECT_EQ(a->password_verifications(), after_first);  // cached
  // A wrong password is never served from the cache.
  EXPECT_EQ(Check(a.get(), "GET", "/m", Basic("alice:alice-secreT"), HttpScope::kRead).status, 401);
  // Expiry: verified again.
  clock_.AdvanceMillis(61'000);
  EXPECT_TRUE(Check(a.get(), "GET", "/m", ok, HttpScope::kRead).allowed());
  EXPECT_EQ(a->password_verifications(), after_first + 2);
  // A changed password invalidates the cached one at once (another
  // process's `braid users add`).
  auto other = UserStore::Open(dir_);
  ASSERT_TRUE(other.ok());
  auto cred = MakeCredential(ScramMechanism::kSha512, "new-secret", kMinIterations);
  ASSERT_TRUE((*other)->Upsert("alice", *cred).ok());
  EXPECT_EQ(Check(a.get(), "GET", "/m", ok, HttpScope::kRead, "10.0.0.2").status, 401);
  EXPECT_TRUE(Check(a.get(), "GET", "/m", Basic("alice:new-secret"), HttpScope::kRead).allowed());
  // A deleted user is refused although cached.
  ASSERT_TRUE((*other)->Delete("alice", std::nullopt).ok());
  EXPECT_EQ(
      Check(a.get(), "GET", "/m", Basic("alice:new-secret"), HttpScope::kRead, "10.0.0.3").status,
      401);
}

TEST_F(HttpAuthTest, FailuresPerAddressAreLimited) {
  auto a = Open();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(Check(a.get(), "GET", "/m", Basic("alice:bad"), HttpScope::kRead, "1.2.3.4").status,
              401);
  }
  // Blocked: even the right password is refused without being checked.
  const uint64_t before = a->password_verifications();
  EXPECT_EQ(
      Check(a.get(), "GET", "/m", Basic("alice:alice-secret"), HttpScope::kRead, "1.2.3.4").status,
      429);
  EXPECT_EQ(a->password_verifications(), before);
  // Other addresses are not affected; the window passes.
  EXPECT_TRUE(Check(a.get(), "GET", "/m", Basic("alice:alice-secret"), HttpScope::kRead, "5.6.7.8")
                  .allowed());
  clock_.AdvanceMillis(10'001);
  EXPECT_TRUE(Check(a.get(), "GET", "/m", Basic("alice:alice-secret"), HttpScope::kRead, "1.2.3.4")
                  .allowed());
}

TEST_F(HttpAuthTest, TokensScopesPersistenceReloadAndDelete) {
  auto a = Open();
  auto cli = TokenStore::Open(dir_);  // `braid tokens`, another process
  ASSERT_TRUE(cli.ok());
  TokenInfo info;
  auto reader = (*cli)->Create(HttpScope::kRead, "ci-reader", &info);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ(reader->rfind("braid_", 0), 0u);
  EXPECT_EQ(reader->size(), 6u + 64u);
  EXPECT_EQ(info.name, "ci-reader");
  EXPECT_EQ(info.id.size(), 16u);
  auto admin = (*cli)->Create(HttpScope::kAdmin, "", &info);
  ASSERT_TRUE(admin.ok());
  EXPECT_EQ(info.name, info.id);
  EXPECT_NE(*reader, *admin);
  EXPECT_TRUE((*cli)->Create(HttpScope::kRead, "ci-reader").status().code() ==
              StatusCode::kAlreadyExists);
  EXPECT_FALSE((*cli)->Create(HttpScope::kRead, "bad name").ok());

  // The file: 0600, hashes only.
  struct stat st {};
  ASSERT_EQ(::stat((dir_ + "/tokens.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  std::ifstream in(dir_ + "/tokens.json");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text.find(reader->substr(6)), std::string::npos);
  EXPECT_EQ(text.find(admin->substr(6)), std::string::npos);

  // The running authenticator sees them without restart.
  auto d = Check(a.get(), "GET", "/v1/views", "Bearer " + *reader, HttpScope::kRead);
  EXPECT_TRUE(d.allowed()) << d.message;
  EXPECT_EQ(d.principal, "Token:ci-reader");
  EXPECT_EQ(Check(a.get(), "POST", "/v1/batch/run", "Bearer " + *reader, HttpScope::kAdmin).status,
            403);
  EXPECT_TRUE(
      Check(a.get(), "POST", "/v1/batch/run", "bearer " + *admin, HttpScope::kAdmin).allowed());
  EXPECT_EQ(Check(a.get(), "GET", "/m", "Bearer " + reader->substr(0, reader->size() - 1) + "0",
                  HttpScope::kRead, "9.9.9.9")
                .status,
            401);

  // Listed oldest first; deleted by name or id; the deletion is seen at once.
  auto list = (*cli)->List();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "ci-reader");
  ASSERT_TRUE((*cli)->Delete("ci-reader").ok());
  EXPECT_EQ(
      Check(a.get(), "GET", "/v1/views", "Bearer " + *reader, HttpScope::kRead, "8.8.8.8").status,
      401);
  ASSERT_TRUE((*cli)->Delete(info.id).ok());
  EXPECT_EQ(Check(a.get(), "POST", "/x", "Bearer " + *admin, HttpScope::kAdmin, "8.8.8.9").status,
            401);
  EXPECT_TRUE((*cli)->Delete("ci-reader").IsNotFound());

  // A corrupt file: 503 (never a crash, never allowed).
  std::ofstream(dir_ + "/tokens.json") << "{oops";
  EXPECT_EQ(Check(a.get(), "GET", "/m", "Bearer " + *admin, HttpScope::kRead).status, 503);
}

}  // namespace
}  // namespace braid::security
