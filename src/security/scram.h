// SCRAM (RFC 5802, RFC 7677) and SASL PLAIN (RFC 4616) for the Kafka
// listener: credentials, the server side of an exchange, a client (tests,
// tools) and the message parsers, all on hostile input: every parser bounds
// its input and answers a Status, never a crash.
//
// A credential is what Kafka stores (KIP-554): salt, iteration count,
// StoredKey = H(HMAC(SaltedPassword, "Client Key")) and
// ServerKey = HMAC(SaltedPassword, "Server Key"), SaltedPassword =
// PBKDF2-HMAC-H(password, salt, iterations). The password itself is never
// kept. Passwords and user names are used as their UTF-8 bytes (no SASLprep,
// as Kafka). Crypto: OpenSSL libcrypto.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace braid::security {

enum class ScramMechanism : int8_t {
  // The values are KIP-554's mechanism codes (0: unknown).
  kSha256 = 1,
  kSha512 = 2,
};

// "SCRAM-SHA-256" / "SCRAM-SHA-512".
std::string_view MechanismName(ScramMechanism m);
// Parses "SCRAM-SHA-256"/"SCRAM-SHA-512" (exact, upper case).
std::optional<ScramMechanism> ParseMechanism(std::string_view name);
// The KIP-554 code (1/2); nullopt for anything else.
std::optional<ScramMechanism> MechanismFromCode(int8_t code);
// Digest size of the mechanism's hash: 32 or 64.
size_t DigestSize(ScramMechanism m);

// Kafka's bounds for SCRAM iterations (ScramMechanism.minIterations and
// the 16384 maximum of KIP-554's AlterUserScramCredentials).
inline constexpr int32_t kMinIterations = 4096;
inline constexpr int32_t kMaxIterations = 16384;
// Default iterations of `braid users add`. Default: 8192.
inline constexpr int32_t kDefaultIterations = 8192;
// Longest SASL message any parser accepts (the client's messages are a few
// hundred bytes). Longer input is InvalidArgument.
inline constexpr size_t kMaxSaslMessageBytes = 8192;
// Longest user name.
inline constexpr size_t kMaxUserNameBytes = 256;

struct ScramCredential {
  ScramMechanism mechanism = ScramMechanism::kSha512;
  std::string salt;        // raw bytes
  int32_t iterations = 0;  // kMinIterations..kMaxIterations
  std::string stored_key;  // raw, DigestSize bytes
  std::string server_key;  // raw, DigestSize bytes
};

// `n` random bytes (OpenSSL RAND_bytes); Internal if the generator fails.
Result<std::string> RandomBytes(size_t n);

// PBKDF2 of `password` with `salt` and `iterations` (the SaltedPassword).
Result<std::string> SaltPassword(ScramMechanism m, std::string_view password, std::string_view salt,
                                 int32_t iterations);
// The credential of a SaltedPassword (AlterUserScramCredentials carries one).
Result<ScramCredential> CredentialFromSaltedPassword(ScramMechanism m, std::string_view salt,
                                                     int32_t iterations,
                                                     std::string_view salted_password);
// A fresh credential for `password`: a random 32-byte salt unless `salt`.
Result<ScramCredential> MakeCredential(ScramMechanism m, std::string_view password,
                                       int32_t iterations,
                                       std::optional<std::string> salt = std::nullopt);
// True if `password` matches `cred` (constant-time comparison); what PLAIN
// authentication checks against the stored SCRAM credential.
bool VerifyPassword(const ScramCredential& cred, std::string_view password);
// Validates user names: 1..kMaxUserNameBytes bytes of printable UTF-8/ASCII,
// no control characters, no ',' or '=' or ':' (SCRAM escapes, principals).
Status ValidateUserName(std::string_view name);

// RFC 4648 base64 (with padding). Decode is strict: wrong length, bad
// characters or bad padding are InvalidArgument.
std::string Base64Encode(std::string_view data);
Result<std::string> Base64Decode(std::string_view text);

// ---------------------------------------------------------------- parsers

// SASL PLAIN: [authzid] NUL authcid NUL passwd.
struct PlainMessage {
  std::string authzid;
  std::string username;
  std::string password;
};
Result<PlainMessage> ParsePlainMessage(std::string_view msg);

// client-first-message (RFC 5802 §7).
struct ClientFirstMessage {
  std::string gs2_header;   // e.g. "n,," (what "c=" must echo)
  std::string authzid;      // from "a=", unescaped; may be empty
  std::string username;     // from "n=", unescaped
  std::string nonce;        // from "r="
  std::string bare;         // client-first-message-bare, verbatim
  bool token_auth = false;  // Kafka's "tokenauth=true" extension
};
Result<ClientFirstMessage> ParseClientFirstMessage(std::string_view msg);

// client-final-message.
struct ClientFinalMessage {
  std::string channel_binding;  // decoded "c=" value
  std::string nonce;            // "r="
  std::string proof;            // decoded "p=" value
  std::string without_proof;    // client-final-message-without-proof, verbatim
};
Result<ClientFinalMessage> ParseClientFinalMessage(std::string_view msg);

// server-first-message / server-final-message (for the client).
struct ServerFirstMessage {
  std::string nonce;
  std::string salt;  // decoded
  int32_t iterations = 0;
};
Result<ServerFirstMessage> ParseServerFirstMessage(std::string_view msg);
// The decoded "v=" value; "e=..." is Unauthenticated-like InvalidArgument.
Result<std::string> ParseServerFinalMessage(std::string_view msg);

// ------------------------------------------------------------ the exchange

// Looks up a user's credential for the mechanism; nullopt when there is
// none (unknown user or no credential of that mechanism).
using CredentialLookup =
    std::function<Result<std::optional<ScramCredential>>(const std::string& user)>;

// The server side of one SCRAM authentication: two Step()s. Step 1 takes the
// client-first-message and answers the server-first-message; step 2 takes
// the client-final-message and answers the server-final-message, after
// which complete() is true and username() is the authenticated user.
// Any error (malformed message, unknown user, wrong proof) ends the
// exchange: the connection must then be refused. Unknown users get a
// made-up salt so that they fail only at the proof, like wrong passwords.
class ScramServer {
 public:
  // `fake_salt_key`: secret for the made-up salts (per process).
  ScramServer(ScramMechanism mechanism, CredentialLookup lookup, std::string fake_salt_key);
  // Error messages are safe to send to the client (they never say whether
  // the user exists).
  Result<std::string> Step(std::string_view client_message);
  bool complete() const { return state_ == State::kComplete; }
  const std::string& username() const { return username_; }
  ScramMechanism mechanism() const { return mechanism_; }
  // Tests only (RFC 7677's example): the server nonce to use.
  void SetNonceForTesting(std::string nonce) { nonce_override_ = std::move(nonce); }

 private:
  enum class State { kFirst, kFinal, kComplete, kFailed };
  ScramMechanism mechanism_;
  CredentialLookup lookup_;
  std::string fake_salt_key_;
  State state_ = State::kFirst;
  std::string username_;
  std::optional<ScramCredential> cred_;  // nullopt: unknown user
  std::string gs2_header_;
  std::string nonce_;                // combined client+server nonce
  std::string auth_message_prefix_;  // client-first-bare "," server-first
  std::string nonce_override_;
};

// The client side (tests, benchmarks, the fuzzer's round trips).
class ScramClient {
 public:
  ScramClient(ScramMechanism mechanism, std::string username, std::string password);
  std::string FirstMessage();
  // Takes the server-first-message, answers the client-final-message.
  Result<std::string> FinalMessage(std::string_view server_first);
  // Checks the server-final-message's signature.
  Status Verify(std::string_view server_final);
  // Tests only (RFC 7677's example): the client nonce to use.
  void SetNonceForTesting(std::string nonce) { nonce_override_ = std::move(nonce); }

 private:
  ScramMechanism mechanism_;
  std::string username_;
  std::string password_;
  std::string nonce_;
  std::string first_bare_;
  std::string auth_message_;
  std::string salted_;
  std::string nonce_override_;
};

}  // namespace braid::security
