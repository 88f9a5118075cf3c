// The braid command line as a library: programs/braid/main.cc only calls
// Main(). Each module's commands live in their own file here and register
// themselves on the root CLI11 app; running a command sets the exit code.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "http/tls.h"

namespace braid::runtime {
struct RuntimeOptions;
}  // namespace braid::runtime

namespace braid::cli {

// Runs the command line; returns the process exit code.
int Main(int argc, char** argv);

// Registration hooks, one per command family. `exit_code` outlives the app;
// a command's callback stores its result there.
void AddAvroCommands(CLI::App* root, int* exit_code);     // avro_commands.cc
void AddServerCommands(CLI::App* root, int* exit_code);   // server_commands.cc: broker, up
void AddGroupsCommands(CLI::App* root, int* exit_code);   // groups_commands.cc
void AddSchemasCommands(CLI::App* root, int* exit_code);  // schemas_commands.cc, registry
void AddArchiveCommands(CLI::App* root, int* exit_code);  // archive_commands.cc
void AddExampleCommands(CLI::App* root, int* exit_code);  // example_commands.cc
void AddViewsCommands(CLI::App* root, int* exit_code);    // views_commands.cc
void AddBatchCommands(CLI::App* root, int* exit_code);    // batch_commands.cc
void AddMrCommands(CLI::App* root, int* exit_code);       // mr_commands.cc
void AddSpeedCommands(CLI::App* root, int* exit_code);    // speed_commands.cc
void AddUsersCommands(CLI::App* root, int* exit_code);    // users_commands.cc
void AddTokensCommands(CLI::App* root, int* exit_code);   // tokens_commands.cc

// HTTP auth (tokens_commands.cc). --http-auth and --http-auth-open-paths on
// a command that serves HTTP; FinishHttpAuthOptions applies them (and the
// super users) to `o` after parsing.
void AddHttpAuthOptions(CLI::App* cmd, runtime::RuntimeOptions* o,
                        std::vector<std::string>* open_paths);
void FinishHttpAuthOptions(runtime::RuntimeOptions* o, const std::vector<std::string>& open_paths,
                           const std::vector<std::string>& super_users);
// The client credentials of commands that talk to braid's HTTP APIs: root
// options --token (env BRAID_TOKEN), --http-user, --http-password-file. The
// returned function installs them (http::SetDefaultAuthorization); call it
// once parsing is complete.
std::function<void()> AddHttpClientOptions(CLI::App* root);

// TLS of a command's HTTP listeners (the HTTP API and the schema registry):
// --http-tls, --http-tls-cert, --http-tls-key, --http-tls-ca,
// --http-tls-client-auth.
struct HttpTlsFlags {
  bool on = false;
  std::string cert_file;
  std::string key_file;
  std::string ca_file;
  std::string client_auth;  // none|requested|required; "": requested with a CA
};
void AddHttpTlsOptions(CLI::App* cmd, HttpTlsFlags* flags);
// The TLS options of the flags. TLS is on with --http-tls or
// --http-tls-cert; the certificate and key default to `default_cert` and
// `default_key` (the Kafka listener's --tls-cert/--tls-key, where the
// command has them). Plaintext (empty options) otherwise. InvalidArgument
// when TLS is on without a certificate and key, or client certificates are
// required without a CA.
Result<http::TlsOptions> ResolveHttpTls(const HttpTlsFlags& flags,
                                        const std::string& default_cert = "",
                                        const std::string& default_key = "");

}  // namespace braid::cli
