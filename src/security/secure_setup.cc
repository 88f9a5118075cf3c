#include "security/secure_setup.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <memory>
#include <set>
#include <sstream>

#include "security/private_file.h"
#include "security/scram.h"
#include "security/user_store.h"

namespace braid::security {

namespace {

struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct ExtFree {
  void operator()(X509_EXTENSION* e) const { X509_EXTENSION_free(e); }
};
struct BnFree {
  void operator()(BIGNUM* b) const { BN_free(b); }
};
using Bio = std::unique_ptr<BIO, BioFree>;
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Cert = std::unique_ptr<X509, X509Free>;

// The OpenSSL error queue as text (and cleared), prefixed by `what`.
Status OpenSslError(std::string_view what) {
  std::string msg(what);
  unsigned long e;  // NOLINT(runtime/int): OpenSSL's type
  while ((e = ERR_get_error()) != 0) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof(buf));
    msg.append(": ").append(buf);
  }
  return Status::Internal(msg);
}

Result<std::string> BioText(BIO* bio) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio, &data);  // NOLINT(runtime/int)
  if (n < 0 || data == nullptr) return OpenSslError("BIO_get_mem_data");
  return std::string(data, static_cast<size_t>(n));
}

Result<Pkey> NewKey() {
  Pkey key(EVP_EC_gen("P-256"));
  if (!key) return OpenSslError("generating a P-256 key");
  return key;
}

Result<std::string> KeyPem(EVP_PKEY* key) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio ||
      PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr) != 1) {
    return OpenSslError("writing a private key");
  }
  return BioText(bio.get());
}

Result<std::string> CertPem(X509* cert) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1)
    return OpenSslError("writing a certificate");
  return BioText(bio.get());
}

Result<Pkey> ParseKey(const std::string& pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Pkey key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!key) return OpenSslError("reading a PEM private key");
  return key;
}

Result<Cert> ParseCert(const std::string& pem) {
  Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Cert cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!cert) return OpenSslError("reading a PEM certificate");
  return cert;
}

Status AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  std::unique_ptr<X509_EXTENSION, ExtFree> ext(
      X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return OpenSslError("adding the certificate extension " + value);
  }
  return Status::OK();
}

// A certificate for `key` named `cn`, issued by `issuer` (nullptr: itself),
// valid from an hour ago for `days` days, without extensions or signature.
Result<Cert> NewCert(EVP_PKEY* key, const std::string& cn, X509* issuer, int days) {
  Cert cert(X509_new());
  if (!cert) return OpenSslError("X509_new");
  // A random positive 127-bit serial number (RFC 5280: at most 20 octets).
  ASSIGN_OR_RETURN(std::string serial, RandomBytes(16));
  serial[0] = static_cast<char>(serial[0] & 0x7f);
  std::unique_ptr<BIGNUM, BnFree> bn(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(serial.data()),
                static_cast<int>(serial.size()), nullptr));
  if (!bn || BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get())) == nullptr ||
      X509_set_version(cert.get(), 2) != 1 ||
      X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(days) * 86400) ==  // NOLINT
          nullptr ||
      X509_set_pubkey(cert.get(), key) != 1) {
    return OpenSslError("filling in a certificate");
  }
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                                 0) != 1 ||
      X509_set_issuer_name(cert.get(), issuer != nullptr ? X509_get_subject_name(issuer) : name) !=
          1) {
    return OpenSslError("naming a certificate");
  }
  return cert;
}

std::string SubjectAltNames(const TlsMaterialOptions& o) {
  std::string san;
  for (const std::string& d : o.dns_names) san.append(san.empty() ? "" : ",").append("DNS:" + d);
  for (const std::string& ip : o.ip_addresses) {
    san.append(san.empty() ? "" : ",").append("IP:" + ip);
  }
  return san;
}

Status ValidateNames(const TlsMaterialOptions& o) {
  if (o.dns_names.empty() && o.ip_addresses.empty()) {
    return Status::InvalidArgument("a server certificate needs at least one name");
  }
  for (const std::string& d : o.dns_names) {
    if (d.empty() || d.size() > 253 || !std::all_of(d.begin(), d.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '*';
        })) {
      return Status::InvalidArgument("not a DNS name for a certificate: '" + d + "'");
    }
  }
  for (const std::string& ip : o.ip_addresses) {
    if (ip.empty() || ip.size() > 45 || !std::all_of(ip.begin(), ip.end(), [](char c) {
          return std::isxdigit(static_cast<unsigned char>(c)) || c == '.' || c == ':';
        })) {
      return Status::InvalidArgument("not an IP address for a certificate: '" + ip + "'");
    }
  }
  return Status::OK();
}

// "dns:NAME" / "ip:ADDR" lines, sorted: what server.names records.
std::string NamesText(const TlsMaterialOptions& o) {
  std::set<std::string> names;
  for (const std::string& d : o.dns_names) names.insert("dns:" + d);
  for (const std::string& ip : o.ip_addresses) names.insert("ip:" + ip);
  std::string out;
  for (const std::string& n : names) out.append(n).append("\n");
  return out;
}

Status IssueServer(EVP_PKEY* ca_key, X509* ca_cert, const TlsMaterialOptions& o, TlsMaterial* out) {
  RETURN_IF_ERROR(ValidateNames(o));
  ASSIGN_OR_RETURN(Pkey key, NewKey());
  ASSIGN_OR_RETURN(Cert cert, NewCert(key.get(), o.server_common_name, ca_cert, o.server_days));
  RETURN_IF_ERROR(AddExtension(cert.get(), ca_cert, NID_basic_constraints, "critical,CA:FALSE"));
  RETURN_IF_ERROR(
      AddExtension(cert.get(), ca_cert, NID_key_usage, "critical,digitalSignature,keyAgreement"));
  RETURN_IF_ERROR(AddExtension(cert.get(), ca_cert, NID_ext_key_usage, "serverAuth"));
  RETURN_IF_ERROR(AddExtension(cert.get(), ca_cert, NID_subject_key_identifier, "hash"));
  RETURN_IF_ERROR(AddExtension(cert.get(), ca_cert, NID_authority_key_identifier, "keyid:always"));
  RETURN_IF_ERROR(AddExtension(cert.get(), ca_cert, NID_subject_alt_name, SubjectAltNames(o)));
  if (X509_sign(cert.get(), ca_key, EVP_sha256()) == 0) {
    return OpenSslError("signing the server certificate");
  }
  ASSIGN_OR_RETURN(out->server_cert_pem, CertPem(cert.get()));
  ASSIGN_OR_RETURN(out->server_key_pem, KeyPem(key.get()));
  return Status::OK();
}

// True if the certificate expires within `days` days.
bool ExpiresWithin(X509* cert, int days) {
  time_t t = std::time(nullptr) + static_cast<time_t>(days) * 86400;
  return X509_cmp_time(X509_get0_notAfter(cert), &t) <= 0;
}

}  // namespace

Result<TlsMaterial> GenerateTlsMaterial(const TlsMaterialOptions& o) {
  RETURN_IF_ERROR(ValidateNames(o));
  ASSIGN_OR_RETURN(Pkey ca_key, NewKey());
  ASSIGN_OR_RETURN(Cert ca, NewCert(ca_key.get(), o.ca_common_name, nullptr, o.ca_days));
  RETURN_IF_ERROR(AddExtension(ca.get(), ca.get(), NID_basic_constraints, "critical,CA:TRUE"));
  RETURN_IF_ERROR(AddExtension(ca.get(), ca.get(), NID_key_usage, "critical,keyCertSign,cRLSign"));
  RETURN_IF_ERROR(AddExtension(ca.get(), ca.get(), NID_subject_key_identifier, "hash"));
  if (X509_sign(ca.get(), ca_key.get(), EVP_sha256()) == 0) return OpenSslError("signing the CA");
  TlsMaterial out;
  ASSIGN_OR_RETURN(out.ca_cert_pem, CertPem(ca.get()));
  ASSIGN_OR_RETURN(out.ca_key_pem, KeyPem(ca_key.get()));
  RETURN_IF_ERROR(IssueServer(ca_key.get(), ca.get(), o, &out));
  return out;
}

Result<TlsMaterial> IssueServerCertificate(const std::string& ca_cert_pem,
                                           const std::string& ca_key_pem,
                                           const TlsMaterialOptions& o) {
  ASSIGN_OR_RETURN(Pkey ca_key, ParseKey(ca_key_pem));
  ASSIGN_OR_RETURN(Cert ca, ParseCert(ca_cert_pem));
  if (X509_check_private_key(ca.get(), ca_key.get()) != 1) {
    ERR_clear_error();
    return Status::InvalidArgument("the CA key does not belong to the CA certificate");
  }
  TlsMaterial out;
  out.ca_cert_pem = ca_cert_pem;
  out.ca_key_pem = ca_key_pem;
  RETURN_IF_ERROR(IssueServer(ca_key.get(), ca.get(), o, &out));
  return out;
}

Result<SecureSetup> EnsureSecureSetup(const std::string& data_dir, const SecureSetupOptions& o) {
  RETURN_IF_ERROR(ValidateUserName(o.admin_user));
  const std::string sec = SecurityDir(data_dir);
  const std::string tls = sec + "/tls";
  RETURN_IF_ERROR(MakePrivateDir(sec));
  RETURN_IF_ERROR(MakePrivateDir(tls));
  // Two first starts at once must not make two CAs and keep one's
  // certificate with the other's key.
  ASSIGN_OR_RETURN(std::unique_ptr<FileLock> lock, FileLock::Acquire(sec + "/setup.lock"));
  SecureSetup s;
  s.ca_file = tls + "/ca.pem";
  s.cert_file = tls + "/server.pem";
  s.key_file = tls + "/server.key";
  s.admin_user = o.admin_user;
  s.admin_password_file = sec + "/admin.password";
  const std::string ca_key_file = tls + "/ca.key";
  const std::string names_file = tls + "/server.names";

  // The CA: made once. A CA certificate without its key (or the reverse)
  // is an error to look at, not something to silently replace.
  auto ca_pem = ReadPrivateFile(s.ca_file);
  auto ca_key_pem = ReadPrivateFile(ca_key_file);
  const bool have_ca = ca_pem.ok(), have_ca_key = ca_key_pem.ok();
  if (!have_ca && !ca_pem.status().IsNotFound()) return ca_pem.status();
  if (!have_ca_key && !ca_key_pem.status().IsNotFound()) return ca_key_pem.status();
  if (have_ca != have_ca_key) {
    return Status::FailedPrecondition("only one of " + s.ca_file + " and " + ca_key_file +
                                      " exists; restore the other or remove both to make a new CA");
  }
  TlsMaterial m;
  bool issue = false;
  if (!have_ca) {
    ASSIGN_OR_RETURN(m, GenerateTlsMaterial(o.tls));
    // The key first: a CA certificate on disk always has its key.
    RETURN_IF_ERROR(WritePrivateFile(tls, ca_key_file, m.ca_key_pem));
    RETURN_IF_ERROR(WritePrivateFile(tls, s.ca_file, m.ca_cert_pem));
    s.created_ca = true;
    issue = true;
  } else {
    // Reissue the server certificate when it is missing, covers other names
    // or expires within 30 days.
    auto names = ReadPrivateFile(names_file);
    auto cert_pem = ReadPrivateFile(s.cert_file);
    auto key = ReadPrivateFile(s.key_file);
    issue = !names.ok() || *names != NamesText(o.tls) || !cert_pem.ok() || !key.ok();
    if (!issue) {
      auto cert = ParseCert(*cert_pem);
      issue = !cert.ok() || ExpiresWithin(cert->get(), 30);
    }
    if (issue) {
      ASSIGN_OR_RETURN(m, IssueServerCertificate(*ca_pem, *ca_key_pem, o.tls));
    }
  }
  if (issue) {
    RETURN_IF_ERROR(WritePrivateFile(tls, s.key_file, m.server_key_pem));
    RETURN_IF_ERROR(WritePrivateFile(tls, s.cert_file, m.server_cert_pem + m.ca_cert_pem));
    RETURN_IF_ERROR(WritePrivateFile(tls, names_file, NamesText(o.tls)));
    s.reissued_server_cert = true;
  }

  // The admin user: made once; a user of that name that exists already
  // (made by an earlier start or by the operator) is left alone.
  ASSIGN_OR_RETURN(std::unique_ptr<UserStore> users, UserStore::Open(sec));
  ASSIGN_OR_RETURN(auto existing, users->Find(o.admin_user, ScramMechanism::kSha512));
  if (!existing.has_value()) {
    ASSIGN_OR_RETURN(auto existing256, users->Find(o.admin_user, ScramMechanism::kSha256));
    if (!existing256.has_value()) {
      ASSIGN_OR_RETURN(std::string raw, RandomBytes(18));
      std::string password;
      static constexpr char kHex[] = "0123456789abcdef";
      for (unsigned char c : raw) {
        password.push_back(kHex[c >> 4]);
        password.push_back(kHex[c & 15]);
      }
      RETURN_IF_ERROR(WritePrivateFile(sec, s.admin_password_file, password + "\n"));
      for (ScramMechanism mech : {ScramMechanism::kSha256, ScramMechanism::kSha512}) {
        ASSIGN_OR_RETURN(ScramCredential cred, MakeCredential(mech, password, kDefaultIterations));
        RETURN_IF_ERROR(users->Upsert(o.admin_user, cred));
      }
      s.new_admin_password = std::move(password);
    }
  }
  return s;
}

}  // namespace braid::security
