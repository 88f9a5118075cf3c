// The material of `braid up --secure`: a CA and a server certificate that
// verify as a chain with the requested names, made once and reused, and an
// admin user whose password is printed once and stored owner-only.
#include "security/secure_setup.h"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "security/scram.h"
#include "security/user_store.h"

namespace braid::security {
namespace {

X509* ReadCert(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return x;
}

// Does `server_pem` verify against `ca_pem` for TLS server use?
bool Verifies(const std::string& ca_pem, const std::string& server_pem) {
  X509* ca = ReadCert(ca_pem);
  X509* server = ReadCert(server_pem);
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, ca);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, server, nullptr);
  X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
  const bool ok = X509_verify_cert(ctx) == 1;
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  X509_free(server);
  X509_free(ca);
  return ok;
}

bool HasHost(const std::string& pem, const std::string& host) {
  X509* x = ReadCert(pem);
  const bool ok = X509_check_host(x, host.c_str(), host.size(), 0, nullptr) == 1;
  X509_free(x);
  return ok;
}

bool HasIp(const std::string& pem, const std::string& ip) {
  X509* x = ReadCert(pem);
  const bool ok = X509_check_ip_asc(x, ip.c_str(), 0) == 1;
  X509_free(x);
  return ok;
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

mode_t Mode(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

class SecureSetupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/braid-secure-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST(TlsMaterialTest, ServerCertificateChainsToTheCaWithTheRequestedNames) {
  TlsMaterialOptions o;
  o.dns_names = {"localhost", "kafka.example"};
  o.ip_addresses = {"127.0.0.1", "::1", "10.1.2.3"};
  auto m = GenerateTlsMaterial(o);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_TRUE(Verifies(m->ca_cert_pem, m->server_cert_pem));
  EXPECT_TRUE(HasHost(m->server_cert_pem, "kafka.example"));
  EXPECT_TRUE(HasHost(m->server_cert_pem, "localhost"));
  EXPECT_FALSE(HasHost(m->server_cert_pem, "evil.example"));
  EXPECT_TRUE(HasIp(m->server_cert_pem, "10.1.2.3"));
  EXPECT_TRUE(HasIp(m->server_cert_pem, "::1"));
  EXPECT_FALSE(HasIp(m->server_cert_pem, "10.1.2.4"));

  // Another CA does not vouch for it.
  auto other = GenerateTlsMaterial(o);
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(Verifies(other->ca_cert_pem, m->server_cert_pem));

  // A certificate issued later from the same CA verifies too.
  o.dns_names = {"other.example"};
  auto again = IssueServerCertificate(m->ca_cert_pem, m->ca_key_pem, o);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(Verifies(m->ca_cert_pem, again->server_cert_pem));
  EXPECT_TRUE(HasHost(again->server_cert_pem, "other.example"));
  // ...but not with another CA's key.
  EXPECT_FALSE(IssueServerCertificate(m->ca_cert_pem, other->ca_key_pem, o).ok());
}

TEST(TlsMaterialTest, BadNamesAreRefused) {
  TlsMaterialOptions o;
  o.dns_names = {"bad name,DNS:evil"};
  EXPECT_EQ(GenerateTlsMaterial(o).status().code(), StatusCode::kInvalidArgument);
  o.dns_names = {};
  o.ip_addresses = {"1.2.3.4,IP:5.6.7.8"};
  EXPECT_EQ(GenerateTlsMaterial(o).status().code(), StatusCode::kInvalidArgument);
  o.ip_addresses = {};
  EXPECT_EQ(GenerateTlsMaterial(o).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(SecureSetupTest, FirstStartMakesEverythingLaterStartsReuseIt) {
  SecureSetupOptions o;
  auto first = EnsureSecureSetup(dir_, o);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(first->created_ca);
  EXPECT_TRUE(first->reissued_server_cert);
  ASSERT_TRUE(first->new_admin_password.has_value());
  const std::string password = *first->new_admin_password;
  EXPECT_GE(password.size(), 32u);
  EXPECT_EQ(Slurp(first->admin_password_file), password + "\n");
  for (const std::string& f : {first->ca_file, first->cert_file, first->key_file,
                               first->admin_password_file, dir_ + "/security/tls/ca.key"}) {
    EXPECT_EQ(Mode(f), 0600u) << f;
  }
  EXPECT_EQ(Mode(dir_ + "/security"), 0700u);
  EXPECT_EQ(Mode(dir_ + "/security/tls"), 0700u);
  EXPECT_TRUE(Verifies(Slurp(first->ca_file), Slurp(first->cert_file)));
  EXPECT_TRUE(HasIp(Slurp(first->cert_file), "127.0.0.1"));

  // The admin user authenticates with the printed password, both mechanisms.
  auto users = UserStore::Open(dir_ + "/security");
  ASSERT_TRUE(users.ok());
  for (ScramMechanism m : {ScramMechanism::kSha256, ScramMechanism::kSha512}) {
    auto cred = (*users)->Find("admin", m);
    ASSERT_TRUE(cred.ok() && cred->has_value());
    EXPECT_TRUE(VerifyPassword(**cred, password));
    EXPECT_FALSE(VerifyPassword(**cred, password + "x"));
  }

  // Second start: nothing new, nothing printed.
  const std::string ca = Slurp(first->ca_file), cert = Slurp(first->cert_file);
  auto second = EnsureSecureSetup(dir_, o);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_FALSE(second->created_ca);
  EXPECT_FALSE(second->reissued_server_cert);
  EXPECT_FALSE(second->new_admin_password.has_value());
  EXPECT_EQ(Slurp(first->ca_file), ca);
  EXPECT_EQ(Slurp(first->cert_file), cert);

  // Other names: a new server certificate from the same CA.
  o.tls.dns_names = {"localhost", "braid.example"};
  auto third = EnsureSecureSetup(dir_, o);
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  EXPECT_FALSE(third->created_ca);
  EXPECT_TRUE(third->reissued_server_cert);
  EXPECT_EQ(Slurp(first->ca_file), ca);
  EXPECT_NE(Slurp(first->cert_file), cert);
  EXPECT_TRUE(Verifies(ca, Slurp(first->cert_file)));
  EXPECT_TRUE(HasHost(Slurp(first->cert_file), "braid.example"));
}

TEST_F(SecureSetupTest, AnExistingAdminUserIsLeftAlone) {
  auto users = UserStore::Open(dir_ + "/security");
  ASSERT_TRUE(users.ok());
  auto cred = MakeCredential(ScramMechanism::kSha512, "mine", kMinIterations);
  ASSERT_TRUE(cred.ok());
  ASSERT_TRUE((*users)->Upsert("admin", *cred).ok());
  auto s = EnsureSecureSetup(dir_, {});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_FALSE(s->new_admin_password.has_value());
  auto found = (*users)->Find("admin", ScramMechanism::kSha512);
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_TRUE(VerifyPassword(**found, "mine"));
}

TEST_F(SecureSetupTest, ACaCertificateWithoutItsKeyIsAnError) {
  ASSERT_TRUE(EnsureSecureSetup(dir_, {}).ok());
  std::filesystem::remove(dir_ + "/security/tls/ca.key");
  auto s = EnsureSecureSetup(dir_, {});
  EXPECT_EQ(s.status().code(), StatusCode::kFailedPrecondition) << s.status().ToString();
}

}  // namespace
}  // namespace braid::security
