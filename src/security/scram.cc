#include "security/scram.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>
#include <charconv>
#include <vector>

namespace braid::security {

namespace {

const EVP_MD* Md(ScramMechanism m) {
  return m == ScramMechanism::kSha256 ? EVP_sha256() : EVP_sha512();
}

Result<std::string> Hmac(ScramMechanism m, std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (HMAC(Md(m), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), out,
           &len) == nullptr) {
    return Status::Internal("HMAC failed");
  }
  return std::string(reinterpret_cast<char*>(out), len);
}

Result<std::string> Hash(ScramMechanism m, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), out, &len, Md(m), nullptr) != 1) {
    return Status::Internal("digest failed");
  }
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string Xor(std::string_view a, std::string_view b) {
  std::string r(a.size(), '\0');
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) r[i] = static_cast<char>(a[i] ^ b[i]);
  return r;
}

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// Splits "k=v,k=v" into attributes; every attribute must be "x=..." with a
// single letter x (extensions may have longer names, RFC 5802 §7: only
// letters; Kafka's extensions are words such as "tokenauth").
struct Attr {
  std::string_view key;
  std::string_view value;
};

Result<std::vector<Attr>> SplitAttributes(std::string_view s) {
  std::vector<Attr> out;
  size_t pos = 0;
  while (pos <= s.size()) {
    size_t comma = s.find(',', pos);
    if (comma == std::string_view::npos) comma = s.size();
    std::string_view part = s.substr(pos, comma - pos);
    size_t eq = part.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return Status::InvalidArgument("malformed SCRAM attribute");
    }
    for (size_t i = 0; i < eq; ++i) {
      const char c = part[i];
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) {
        return Status::InvalidArgument("malformed SCRAM attribute name");
      }
    }
    out.push_back(Attr{part.substr(0, eq), part.substr(eq + 1)});
    if (out.size() > 64) return Status::InvalidArgument("too many SCRAM attributes");
    pos = comma + 1;
  }
  return out;
}

// saslname: "=2C" -> ',', "=3D" -> '='; any other '=' is an error.
Result<std::string> Unescape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == ',') return Status::InvalidArgument("unescaped ',' in SCRAM name");
    if (s[i] != '=') {
      out.push_back(s[i]);
      continue;
    }
    if (s.substr(i, 3) == "=2C") {
      out.push_back(',');
    } else if (s.substr(i, 3) == "=3D") {
      out.push_back('=');
    } else {
      return Status::InvalidArgument("bad escape in SCRAM name");
    }
    i += 2;
  }
  return out;
}

std::string Escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == ',') {
      out += "=2C";
    } else if (c == '=') {
      out += "=3D";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// printable = %x21-2B / %x2D-7E (no ',').
bool IsValidNonce(std::string_view n) {
  if (n.empty()) return false;
  for (char c : n) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u > 0x7e || c == ',') return false;
  }
  return true;
}

Result<int32_t> ParseIterations(std::string_view s) {
  int32_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v <= 0) {
    return Status::InvalidArgument("bad SCRAM iteration count");
  }
  return v;
}

Result<std::string> NewNonce() {
  ASSIGN_OR_RETURN(std::string raw, RandomBytes(24));
  std::string n = Base64Encode(raw);
  for (char& c : n) {
    if (c == '+' || c == '/' || c == '=') c = 'x';
  }
  return n;
}

Status CheckLength(std::string_view msg) {
  if (msg.size() > kMaxSaslMessageBytes) {
    return Status::InvalidArgument("SASL message longer than " +
                                   std::to_string(kMaxSaslMessageBytes) + " bytes");
  }
  return Status::OK();
}

constexpr std::string_view kAuthFailed = "Authentication failed: invalid credentials";

}  // namespace

std::string_view MechanismName(ScramMechanism m) {
  return m == ScramMechanism::kSha256 ? "SCRAM-SHA-256" : "SCRAM-SHA-512";
}

std::optional<ScramMechanism> ParseMechanism(std::string_view name) {
  if (name == "SCRAM-SHA-256") return ScramMechanism::kSha256;
  if (name == "SCRAM-SHA-512") return ScramMechanism::kSha512;
  return std::nullopt;
}

std::optional<ScramMechanism> MechanismFromCode(int8_t code) {
  if (code == 1) return ScramMechanism::kSha256;
  if (code == 2) return ScramMechanism::kSha512;
  return std::nullopt;
}

size_t DigestSize(ScramMechanism m) { return m == ScramMechanism::kSha256 ? 32 : 64; }

Result<std::string> RandomBytes(size_t n) {
  std::string out(n, '\0');
  if (n > 0 && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    return Status::Internal("RAND_bytes failed");
  }
  return out;
}

Result<std::string> SaltPassword(ScramMechanism m, std::string_view password, std::string_view salt,
                                 int32_t iterations) {
  if (iterations < 1) return Status::InvalidArgument("iterations must be positive");
  std::string out(DigestSize(m), '\0');
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()),
                        static_cast<int>(salt.size()), iterations, Md(m),
                        static_cast<int>(out.size()),
                        reinterpret_cast<unsigned char*>(out.data())) != 1) {
    return Status::Internal("PBKDF2 failed");
  }
  return out;
}

Result<ScramCredential> CredentialFromSaltedPassword(ScramMechanism m, std::string_view salt,
                                                     int32_t iterations,
                                                     std::string_view salted_password) {
  if (salted_password.size() != DigestSize(m)) {
    return Status::InvalidArgument("salted password has " + std::to_string(salted_password.size()) +
                                   " bytes, " + std::string(MechanismName(m)) + " needs " +
                                   std::to_string(DigestSize(m)));
  }
  if (salt.empty()) return Status::InvalidArgument("empty salt");
  ScramCredential c;
  c.mechanism = m;
  c.salt = std::string(salt);
  c.iterations = iterations;
  ASSIGN_OR_RETURN(std::string client_key, Hmac(m, salted_password, "Client Key"));
  ASSIGN_OR_RETURN(c.stored_key, Hash(m, client_key));
  ASSIGN_OR_RETURN(c.server_key, Hmac(m, salted_password, "Server Key"));
  return c;
}

Result<ScramCredential> MakeCredential(ScramMechanism m, std::string_view password,
                                       int32_t iterations, std::optional<std::string> salt) {
  if (iterations < kMinIterations || iterations > kMaxIterations) {
    return Status::InvalidArgument("iterations must be in [" + std::to_string(kMinIterations) +
                                   ", " + std::to_string(kMaxIterations) + "]");
  }
  if (!salt) {
    ASSIGN_OR_RETURN(salt, RandomBytes(32));
  }
  ASSIGN_OR_RETURN(std::string salted, SaltPassword(m, password, *salt, iterations));
  return CredentialFromSaltedPassword(m, *salt, iterations, salted);
}

bool VerifyPassword(const ScramCredential& cred, std::string_view password) {
  auto salted = SaltPassword(cred.mechanism, password, cred.salt, cred.iterations);
  if (!salted.ok()) return false;
  auto client_key = Hmac(cred.mechanism, *salted, "Client Key");
  if (!client_key.ok()) return false;
  auto stored = Hash(cred.mechanism, *client_key);
  return stored.ok() && ConstantTimeEqual(*stored, cred.stored_key);
}

Status ValidateUserName(std::string_view name) {
  if (name.empty() || name.size() > kMaxUserNameBytes) {
    return Status::InvalidArgument("user name must have 1 to " + std::to_string(kMaxUserNameBytes) +
                                   " bytes");
  }
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x21 || u == 0x7f || c == ',' || c == '=' || c == ':') {
      return Status::InvalidArgument(
          "user name may not contain spaces, control characters, ',', '=' or ':'");
    }
  }
  return Status::OK();
}

std::string Base64Encode(std::string_view data) {
  static constexpr char kTable[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    const uint32_t v = (uint32_t{static_cast<unsigned char>(data[i])} << 16) |
                       (uint32_t{static_cast<unsigned char>(data[i + 1])} << 8) |
                       uint32_t{static_cast<unsigned char>(data[i + 2])};
    out.push_back(kTable[(v >> 18) & 63]);
    out.push_back(kTable[(v >> 12) & 63]);
    out.push_back(kTable[(v >> 6) & 63]);
    out.push_back(kTable[v & 63]);
  }
  if (i < data.size()) {
    uint32_t v = uint32_t{static_cast<unsigned char>(data[i])} << 16;
    if (i + 1 < data.size()) v |= uint32_t{static_cast<unsigned char>(data[i + 1])} << 8;
    out.push_back(kTable[(v >> 18) & 63]);
    out.push_back(kTable[(v >> 12) & 63]);
    out.push_back(i + 1 < data.size() ? kTable[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

Result<std::string> Base64Decode(std::string_view text) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  if (text.size() % 4 != 0) return Status::InvalidArgument("base64 length is not a multiple of 4");
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    int pad = 0;
    if (last && text[i + 3] == '=') pad = text[i + 2] == '=' ? 2 : 1;
    uint32_t v = 0;
    for (size_t j = 0; j < 4; ++j) {
      int d = 0;
      if (j >= 4 - static_cast<size_t>(pad)) {
        if (text[i + j] != '=') return Status::InvalidArgument("bad base64 padding");
      } else {
        d = val(text[i + j]);
        if (d < 0) return Status::InvalidArgument("bad base64 character");
      }
      v = (v << 6) | static_cast<uint32_t>(d);
    }
    out.push_back(static_cast<char>((v >> 16) & 0xff));
    if (pad < 2) out.push_back(static_cast<char>((v >> 8) & 0xff));
    if (pad < 1) out.push_back(static_cast<char>(v & 0xff));
  }
  return out;
}

Result<PlainMessage> ParsePlainMessage(std::string_view msg) {
  RETURN_IF_ERROR(CheckLength(msg));
  const size_t a = msg.find('\0');
  if (a == std::string_view::npos) return Status::InvalidArgument("PLAIN: no NUL separator");
  const size_t b = msg.find('\0', a + 1);
  if (b == std::string_view::npos) return Status::InvalidArgument("PLAIN: one NUL separator");
  if (msg.find('\0', b + 1) != std::string_view::npos) {
    return Status::InvalidArgument("PLAIN: more than two NUL separators");
  }
  PlainMessage m;
  m.authzid = std::string(msg.substr(0, a));
  m.username = std::string(msg.substr(a + 1, b - a - 1));
  m.password = std::string(msg.substr(b + 1));
  if (m.username.empty()) return Status::InvalidArgument("PLAIN: empty user name");
  if (m.password.empty()) return Status::InvalidArgument("PLAIN: empty password");
  return m;
}

Result<ClientFirstMessage> ParseClientFirstMessage(std::string_view msg) {
  RETURN_IF_ERROR(CheckLength(msg));
  ClientFirstMessage m;
  // gs2-header: cbind-flag "," [authzid] ","
  const size_t c1 = msg.find(',');
  if (c1 == std::string_view::npos) return Status::InvalidArgument("SCRAM: no GS2 header");
  const size_t c2 = msg.find(',', c1 + 1);
  if (c2 == std::string_view::npos) return Status::InvalidArgument("SCRAM: no GS2 header");
  std::string_view flag = msg.substr(0, c1);
  if (flag != "n" && flag != "y") {
    return Status::InvalidArgument("SCRAM: channel binding is not supported");
  }
  std::string_view authz = msg.substr(c1 + 1, c2 - c1 - 1);
  if (!authz.empty()) {
    if (authz.substr(0, 2) != "a=") return Status::InvalidArgument("SCRAM: bad authzid");
    ASSIGN_OR_RETURN(m.authzid, Unescape(authz.substr(2)));
  }
  m.gs2_header = std::string(msg.substr(0, c2 + 1));
  m.bare = std::string(msg.substr(c2 + 1));
  ASSIGN_OR_RETURN(std::vector<Attr> attrs, SplitAttributes(m.bare));
  size_t i = 0;
  if (i < attrs.size() && attrs[i].key == "m") {
    return Status::InvalidArgument("SCRAM: mandatory extensions are not supported");
  }
  if (i >= attrs.size() || attrs[i].key != "n") return Status::InvalidArgument("SCRAM: no user");
  ASSIGN_OR_RETURN(m.username, Unescape(attrs[i].value));
  if (m.username.empty()) return Status::InvalidArgument("SCRAM: empty user name");
  ++i;
  if (i >= attrs.size() || attrs[i].key != "r") return Status::InvalidArgument("SCRAM: no nonce");
  m.nonce = std::string(attrs[i].value);
  if (!IsValidNonce(m.nonce)) return Status::InvalidArgument("SCRAM: bad nonce");
  ++i;
  for (; i < attrs.size(); ++i) {
    if (attrs[i].key == "tokenauth") m.token_auth = attrs[i].value == "true";
  }
  return m;
}

Result<ClientFinalMessage> ParseClientFinalMessage(std::string_view msg) {
  RETURN_IF_ERROR(CheckLength(msg));
  ClientFinalMessage m;
  const size_t p = msg.rfind(",p=");
  if (p == std::string_view::npos) return Status::InvalidArgument("SCRAM: no proof");
  m.without_proof = std::string(msg.substr(0, p));
  ASSIGN_OR_RETURN(m.proof, Base64Decode(msg.substr(p + 3)));
  ASSIGN_OR_RETURN(std::vector<Attr> attrs, SplitAttributes(m.without_proof));
  if (attrs.size() < 2 || attrs[0].key != "c" || attrs[1].key != "r") {
    return Status::InvalidArgument("SCRAM: client-final-message must start with c= and r=");
  }
  ASSIGN_OR_RETURN(m.channel_binding, Base64Decode(attrs[0].value));
  m.nonce = std::string(attrs[1].value);
  if (!IsValidNonce(m.nonce)) return Status::InvalidArgument("SCRAM: bad nonce");
  return m;
}

Result<ServerFirstMessage> ParseServerFirstMessage(std::string_view msg) {
  RETURN_IF_ERROR(CheckLength(msg));
  ASSIGN_OR_RETURN(std::vector<Attr> attrs, SplitAttributes(msg));
  if (!attrs.empty() && attrs[0].key == "e") {
    return Status::InvalidArgument("SCRAM server error: " + std::string(attrs[0].value));
  }
  if (attrs.size() < 3 || attrs[0].key != "r" || attrs[1].key != "s" || attrs[2].key != "i") {
    return Status::InvalidArgument("SCRAM: malformed server-first-message");
  }
  ServerFirstMessage m;
  m.nonce = std::string(attrs[0].value);
  ASSIGN_OR_RETURN(m.salt, Base64Decode(attrs[1].value));
  ASSIGN_OR_RETURN(m.iterations, ParseIterations(attrs[2].value));
  return m;
}

Result<std::string> ParseServerFinalMessage(std::string_view msg) {
  RETURN_IF_ERROR(CheckLength(msg));
  ASSIGN_OR_RETURN(std::vector<Attr> attrs, SplitAttributes(msg));
  if (attrs.empty()) return Status::InvalidArgument("SCRAM: empty server-final-message");
  if (attrs[0].key == "e") {
    return Status::InvalidArgument("SCRAM server error: " + std::string(attrs[0].value));
  }
  if (attrs[0].key != "v") return Status::InvalidArgument("SCRAM: malformed server-final");
  return Base64Decode(attrs[0].value);
}

ScramServer::ScramServer(ScramMechanism mechanism, CredentialLookup lookup,
                         std::string fake_salt_key)
    : mechanism_(mechanism), lookup_(std::move(lookup)), fake_salt_key_(std::move(fake_salt_key)) {}

Result<std::string> ScramServer::Step(std::string_view client_message) {
  switch (state_) {
    case State::kFirst: {
      state_ = State::kFailed;
      ASSIGN_OR_RETURN(ClientFirstMessage first, ParseClientFirstMessage(client_message));
      if (first.token_auth) {
        return Status::InvalidArgument("delegation tokens are not supported");
      }
      if (!first.authzid.empty() && first.authzid != first.username) {
        return Status::InvalidArgument("SCRAM: authorization id must equal the user name");
      }
      username_ = first.username;
      ASSIGN_OR_RETURN(cred_, lookup_(username_));
      ScramCredential c;
      if (cred_) {
        c = *cred_;
      } else {
        // Unknown user: a stable made-up salt, so that the answer looks
        // like a known user's and fails only at the proof.
        ASSIGN_OR_RETURN(c.salt, Hmac(mechanism_, fake_salt_key_, username_));
        c.salt.resize(32);
        c.iterations = kDefaultIterations;
      }
      std::string server_nonce = nonce_override_;
      if (server_nonce.empty()) {
        ASSIGN_OR_RETURN(server_nonce, NewNonce());
      }
      nonce_ = first.nonce + server_nonce;
      gs2_header_ = first.gs2_header;
      std::string server_first =
          "r=" + nonce_ + ",s=" + Base64Encode(c.salt) + ",i=" + std::to_string(c.iterations);
      auth_message_prefix_ = first.bare + "," + server_first;
      state_ = State::kFinal;
      return server_first;
    }
    case State::kFinal: {
      state_ = State::kFailed;
      ASSIGN_OR_RETURN(ClientFinalMessage fin, ParseClientFinalMessage(client_message));
      if (fin.channel_binding != gs2_header_) {
        return Status::InvalidArgument("SCRAM: channel binding does not match");
      }
      // Kafka's rule (ScramSaslServer): the nonce must END with the
      // server's combined nonce. librdkafka sends the client nonce twice
      // (client nonce + the server's client+server nonce), which Kafka
      // accepts; the proof still covers the message as sent.
      if (fin.nonce.size() < nonce_.size() ||
          fin.nonce.compare(fin.nonce.size() - nonce_.size(), nonce_.size(), nonce_) != 0) {
        return Status::InvalidArgument("SCRAM: nonce mismatch");
      }
      if (!cred_ || fin.proof.size() != DigestSize(mechanism_)) {
        return Status::InvalidArgument(std::string(kAuthFailed));
      }
      const std::string auth_message = auth_message_prefix_ + "," + fin.without_proof;
      ASSIGN_OR_RETURN(std::string client_sig, Hmac(mechanism_, cred_->stored_key, auth_message));
      const std::string client_key = Xor(fin.proof, client_sig);
      ASSIGN_OR_RETURN(std::string stored, Hash(mechanism_, client_key));
      if (!ConstantTimeEqual(stored, cred_->stored_key)) {
        return Status::InvalidArgument(std::string(kAuthFailed));
      }
      ASSIGN_OR_RETURN(std::string server_sig, Hmac(mechanism_, cred_->server_key, auth_message));
      state_ = State::kComplete;
      return "v=" + Base64Encode(server_sig);
    }
    case State::kComplete:
    case State::kFailed:
      break;
  }
  state_ = State::kFailed;
  return Status::InvalidArgument("SCRAM: unexpected message");
}

ScramClient::ScramClient(ScramMechanism mechanism, std::string username, std::string password)
    : mechanism_(mechanism), username_(std::move(username)), password_(std::move(password)) {}

std::string ScramClient::FirstMessage() {
  if (!nonce_override_.empty()) {
    nonce_ = nonce_override_;
  } else {
    auto n = NewNonce();
    nonce_ = n.ok() ? *n : "fallbacknonce";
  }
  first_bare_ = "n=" + Escape(username_) + ",r=" + nonce_;
  return "n,," + first_bare_;
}

Result<std::string> ScramClient::FinalMessage(std::string_view server_first) {
  ASSIGN_OR_RETURN(ServerFirstMessage sf, ParseServerFirstMessage(server_first));
  if (sf.nonce.substr(0, nonce_.size()) != nonce_ || sf.nonce.size() <= nonce_.size()) {
    return Status::InvalidArgument("SCRAM: server nonce does not extend the client's");
  }
  if (sf.iterations > 1'000'000) return Status::InvalidArgument("SCRAM: too many iterations");
  ASSIGN_OR_RETURN(salted_, SaltPassword(mechanism_, password_, sf.salt, sf.iterations));
  const std::string without_proof = "c=" + Base64Encode("n,,") + ",r=" + sf.nonce;
  auth_message_ = first_bare_ + "," + std::string(server_first) + "," + without_proof;
  ASSIGN_OR_RETURN(std::string client_key, Hmac(mechanism_, salted_, "Client Key"));
  ASSIGN_OR_RETURN(std::string stored, Hash(mechanism_, client_key));
  ASSIGN_OR_RETURN(std::string sig, Hmac(mechanism_, stored, auth_message_));
  return without_proof + ",p=" + Base64Encode(Xor(client_key, sig));
}

Status ScramClient::Verify(std::string_view server_final) {
  ASSIGN_OR_RETURN(std::string v, ParseServerFinalMessage(server_final));
  ASSIGN_OR_RETURN(std::string server_key, Hmac(mechanism_, salted_, "Server Key"));
  ASSIGN_OR_RETURN(std::string expect, Hmac(mechanism_, server_key, auth_message_));
  if (!ConstantTimeEqual(v, expect)) return Status::InvalidArgument("SCRAM: bad server signature");
  return Status::OK();
}

}  // namespace braid::security
