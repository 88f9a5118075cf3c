#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>

#include "security/acl.h"
#include "security/scram.h"
#include "security/user_store.h"

namespace braid::security {
namespace {

// RFC 7677 §3's SCRAM-SHA-256 example, end to end through ScramServer.
TEST(Scram, Rfc7677ExampleServer) {
  auto salt = Base64Decode("W22ZaJ0SNY7soEsUEjb6gQ==");
  ASSERT_TRUE(salt.ok());
  auto cred = MakeCredential(ScramMechanism::kSha256, "pencil", 4096, *salt);
  ASSERT_TRUE(cred.ok()) << cred.status().ToString();
  ScramServer server(
      ScramMechanism::kSha256,
      [&](const std::string& u) -> Result<std::optional<ScramCredential>> {
        EXPECT_EQ(u, "user");
        return std::optional<ScramCredential>(*cred);
      },
      "k");
  server.SetNonceForTesting("%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0");
  auto first = server.Step("n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(*first,
            "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,"
            "i=4096");
  auto fin = server.Step(
      "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
      "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
  ASSERT_TRUE(fin.ok()) << fin.status().ToString();
  EXPECT_EQ(*fin, "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
  EXPECT_TRUE(server.complete());
  EXPECT_EQ(server.username(), "user");
}

// The same example through ScramClient.
TEST(Scram, Rfc7677ExampleClient) {
  ScramClient client(ScramMechanism::kSha256, "user", "pencil");
  client.SetNonceForTesting("rOprNGfwEbeRWgbNEkqO");
  EXPECT_EQ(client.FirstMessage(), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
  auto fin = client.FinalMessage(
      "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
  ASSERT_TRUE(fin.ok());
  EXPECT_EQ(*fin,
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
            "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
  EXPECT_TRUE(client.Verify("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=").ok());
  EXPECT_FALSE(client.Verify("v=7rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=").ok());
}

Status RunExchange(ScramMechanism m, const std::optional<ScramCredential>& stored,
                   const std::string& user, const std::string& password) {
  ScramServer server(
      m, [&](const std::string&) -> Result<std::optional<ScramCredential>> { return stored; },
      "fake-key");
  ScramClient client(m, user, password);
  ASSIGN_OR_RETURN(std::string sf, server.Step(client.FirstMessage()));
  ASSIGN_OR_RETURN(std::string cf, client.FinalMessage(sf));
  ASSIGN_OR_RETURN(std::string fin, server.Step(cf));
  if (!server.complete()) return Status::Internal("not complete");
  return client.Verify(fin);
}

TEST(Scram, RoundTripBothMechanismsAndFailures) {
  for (ScramMechanism m : {ScramMechanism::kSha256, ScramMechanism::kSha512}) {
    auto cred = MakeCredential(m, "s3cret", kMinIterations);
    ASSERT_TRUE(cred.ok());
    EXPECT_EQ(cred->stored_key.size(), DigestSize(m));
    EXPECT_TRUE(RunExchange(m, *cred, "alice", "s3cret").ok());
    EXPECT_FALSE(RunExchange(m, *cred, "alice", "wrong").ok());
    // Unknown user: the server answers a server-first-message (made-up salt)
    // and fails at the proof.
    EXPECT_FALSE(RunExchange(m, std::nullopt, "nobody", "s3cret").ok());
    EXPECT_TRUE(VerifyPassword(*cred, "s3cret"));
    EXPECT_FALSE(VerifyPassword(*cred, "s3cret "));
  }
}

TEST(Scram, ServerRefusesMalformedAndOutOfOrderMessages) {
  auto cred = MakeCredential(ScramMechanism::kSha512, "pw", kMinIterations);
  ASSERT_TRUE(cred.ok());
  auto lookup = [&](const std::string&) -> Result<std::optional<ScramCredential>> {
    return std::optional<ScramCredential>(*cred);
  };
  for (const char* bad :
       {"", "n,,", "n,,r=abc", "p=tls-unique,,n=a,r=b", "n,,n=a", "n,,n=a,r=", "n,,n=a=5,r=x",
        "n,a=b,n=a,r=x", "n,,m=ext,n=a,r=x", "n,,n=a,r=x,tokenauth=true"}) {
    ScramServer s(ScramMechanism::kSha512, lookup, "k");
    EXPECT_FALSE(s.Step(bad).ok()) << bad;
    EXPECT_FALSE(s.Step("n,,n=a,r=x").ok()) << "a failed exchange stays failed";
  }
  ScramServer s(ScramMechanism::kSha512, lookup, "k");
  ASSERT_TRUE(s.Step("n,,n=alice,r=abc").ok());
  EXPECT_FALSE(s.Step("c=biws,r=abcWRONG,p=AAAA").ok());
  ScramServer s2(ScramMechanism::kSha512, lookup, "k");
  ASSERT_TRUE(s2.Step("n,,n=alice,r=abc").ok());
  EXPECT_FALSE(s2.Step("c=biws,r=abc,p=AAAA").ok()) << "a prefix of the combined nonce";
  EXPECT_FALSE(s.complete());
  // Oversized input is refused before parsing.
  ScramServer big(ScramMechanism::kSha512, lookup, "k");
  EXPECT_FALSE(big.Step("n,,n=a,r=" + std::string(kMaxSaslMessageBytes, 'x')).ok());
}

TEST(Plain, Parse) {
  auto m = ParsePlainMessage(std::string("\0alice\0pw", 9));
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->username, "alice");
  EXPECT_EQ(m->password, "pw");
  EXPECT_EQ(m->authzid, "");
  EXPECT_FALSE(ParsePlainMessage("alice").ok());
  EXPECT_FALSE(ParsePlainMessage(std::string("\0alice", 6)).ok());
  EXPECT_FALSE(ParsePlainMessage(std::string("\0\0pw", 4)).ok());
  EXPECT_FALSE(ParsePlainMessage(std::string("a\0b\0c\0d", 7)).ok());
}

TEST(Base64, RoundTripAndStrictness) {
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    auto d = Base64Decode(Base64Encode(s));
    ASSERT_TRUE(d.ok());
    EXPECT_EQ(*d, s);
  }
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_FALSE(Base64Decode("Zm9").ok());
  EXPECT_FALSE(Base64Decode("Zm9v!mFy").ok());
  EXPECT_FALSE(Base64Decode("Z===").ok());
  EXPECT_FALSE(Base64Decode("Zm=v").ok());
}

class UserStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/braid_security_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    dir_ = root_ + "/security";
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  std::string root_, dir_;
};

TEST_F(UserStoreTest, PersistsWithOwnerOnlyModeAndNoPassword) {
  auto store = UserStore::Open(dir_);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto c256 = MakeCredential(ScramMechanism::kSha256, "hunter2-password", kMinIterations);
  auto c512 = MakeCredential(ScramMechanism::kSha512, "hunter2-password", kMinIterations);
  ASSERT_TRUE(c256.ok() && c512.ok());
  ASSERT_TRUE((*store)->Upsert("alice", *c256).ok());
  ASSERT_TRUE((*store)->Upsert("alice", *c512).ok());
  ASSERT_TRUE((*store)->Upsert("bob", *c512).ok());
  EXPECT_FALSE((*store)->Upsert("bad name", *c512).ok());

  struct stat st {};
  ASSERT_EQ(::stat((dir_ + "/users.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  ASSERT_EQ(::stat(dir_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700);
  std::ifstream in(dir_ + "/users.json");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text.find("hunter2"), std::string::npos);

  // A second store (another process, e.g. `braid users`) sees the same.
  auto other = UserStore::Open(dir_);
  ASSERT_TRUE(other.ok());
  auto found = (*other)->Find("alice", ScramMechanism::kSha256);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_TRUE(VerifyPassword(**found, "hunter2-password"));
  auto list = (*other)->List();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "alice");
  EXPECT_EQ((*list)[0].credentials.size(), 2u);

  // Changes by one are seen by the other on its next read.
  ASSERT_TRUE((*other)->Delete("alice", ScramMechanism::kSha256).ok());
  auto gone = (*store)->Find("alice", ScramMechanism::kSha256);
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone->has_value());
  EXPECT_TRUE((*store)->Find("alice", ScramMechanism::kSha512)->has_value());
  EXPECT_TRUE((*store)->Delete("nobody", std::nullopt).IsNotFound());
  ASSERT_TRUE((*store)->Delete("alice", std::nullopt).ok());
  EXPECT_EQ((*store)->List()->size(), 1u);
}

TEST_F(UserStoreTest, CorruptFileIsAnError) {
  ASSERT_EQ(::mkdir(dir_.c_str(), 0700), 0);
  std::ofstream(dir_ + "/users.json") << "{not json";
  EXPECT_FALSE(UserStore::Open(dir_).ok());
  std::ofstream(dir_ + "/users.json")
      << R"({"users":{"a":{"SCRAM-SHA-256":{"salt":"AA==","iterations":4096,"stored_key":"AA==","server_key":"AA=="}}}})";
  EXPECT_FALSE(UserStore::Open(dir_).ok());
}

TEST_F(UserStoreTest, AclsDecideAsKafkaAndPersist) {
  auto store = AclStore::Open(dir_);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto bind = [](ResourceType t, std::string name, PatternType p, std::string principal,
                 AclOperation op, AclPermission perm, std::string host = "*") {
    AclBinding b;
    b.resource_type = t;
    b.resource_name = std::move(name);
    b.pattern_type = p;
    b.principal = std::move(principal);
    b.host = std::move(host);
    b.operation = op;
    b.permission = perm;
    return b;
  };
  ASSERT_TRUE((*store)
                  ->Add({bind(ResourceType::kTopic, "orders", PatternType::kLiteral, "User:alice",
                              AclOperation::kWrite, AclPermission::kAllow),
                         bind(ResourceType::kTopic, "logs-", PatternType::kPrefixed, "User:bob",
                              AclOperation::kRead, AclPermission::kAllow),
                         bind(ResourceType::kTopic, "logs-private", PatternType::kLiteral,
                              "User:bob", AclOperation::kAll, AclPermission::kDeny),
                         bind(ResourceType::kGroup, "*", PatternType::kLiteral, "User:*",
                              AclOperation::kRead, AclPermission::kAllow, "10.0.0.1")})
                  .ok());
  const auto& s = **store;
  EXPECT_TRUE(
      s.Authorize("User:alice", "1.2.3.4", AclOperation::kWrite, ResourceType::kTopic, "orders"));
  // DESCRIBE is implied by WRITE; READ is not.
  EXPECT_TRUE(s.Authorize("User:alice", "1.2.3.4", AclOperation::kDescribe, ResourceType::kTopic,
                          "orders"));
  EXPECT_FALSE(
      s.Authorize("User:alice", "1.2.3.4", AclOperation::kRead, ResourceType::kTopic, "orders"));
  EXPECT_FALSE(
      s.Authorize("User:alice", "1.2.3.4", AclOperation::kWrite, ResourceType::kTopic, "orders2"));
  EXPECT_TRUE(s.Authorize("User:bob", "h", AclOperation::kRead, ResourceType::kTopic, "logs-app"));
  EXPECT_FALSE(
      s.Authorize("User:bob", "h", AclOperation::kRead, ResourceType::kTopic, "logs-private"));
  EXPECT_FALSE(s.Authorize("User:bob", "h", AclOperation::kRead, ResourceType::kTopic, "log"));
  // Wildcard principal and name, host-restricted.
  EXPECT_TRUE(
      s.Authorize("User:carol", "10.0.0.1", AclOperation::kRead, ResourceType::kGroup, "any"));
  EXPECT_FALSE(
      s.Authorize("User:carol", "10.0.0.2", AclOperation::kRead, ResourceType::kGroup, "any"));
  // No ACL at all: denied.
  EXPECT_FALSE(s.Authorize("User:alice", "h", AclOperation::kAlter, ResourceType::kCluster,
                           "kafka-cluster"));
  AclFilter match;
  match.resource_type = ResourceType::kTopic;
  match.resource_name = "logs-private";
  match.pattern_type = PatternType::kMatch;
  EXPECT_EQ(s.Find(match).size(), 2u);
  // Survives a reopen; removal by filter.
  auto again = AclStore::Open(dir_);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)->size(), 4u);
  AclFilter bob;
  bob.principal = "User:bob";
  auto removed = (*again)->Remove(bob);
  ASSERT_TRUE(removed.ok());
  EXPECT_EQ(removed->size(), 2u);
  EXPECT_EQ((*AclStore::Open(dir_))->size(), 2u);
  // Invalid bindings are refused.
  EXPECT_FALSE((*again)
                   ->Add({bind(ResourceType::kAny, "x", PatternType::kLiteral, "User:a",
                               AclOperation::kRead, AclPermission::kAllow)})
                   .ok());
  EXPECT_FALSE((*again)
                   ->Add({bind(ResourceType::kTopic, "x", PatternType::kLiteral, "alice",
                               AclOperation::kRead, AclPermission::kAllow)})
                   .ok());
  EXPECT_FALSE((*again)
                   ->Add({bind(ResourceType::kCluster, "x", PatternType::kLiteral, "User:a",
                               AclOperation::kAlter, AclPermission::kAllow)})
                   .ok());
}

TEST(FailedAuthLimiter, BlocksAfterMaxFailuresWithinWindow) {
  FailedAuthLimiter l(3, 1000);
  EXPECT_FALSE(l.Blocked("1.2.3.4", 0));
  l.RecordFailure("1.2.3.4", 0);
  l.RecordFailure("1.2.3.4", 10);
  EXPECT_FALSE(l.Blocked("1.2.3.4", 20));
  l.RecordFailure("1.2.3.4", 20);
  EXPECT_TRUE(l.Blocked("1.2.3.4", 30));
  EXPECT_FALSE(l.Blocked("5.6.7.8", 30));
  EXPECT_FALSE(l.Blocked("1.2.3.4", 1001));  // the first failure left the window
}

}  // namespace
}  // namespace braid::security
