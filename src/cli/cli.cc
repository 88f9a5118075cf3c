#include "cli/cli.h"

#include <cstdio>
#include <string>
#include <vector>

#include "base/logging.h"
#include "http/client.h"

namespace braid::cli {

namespace {

// CLI11 treats an unknown command word as an extra argument, and `--help`
// anywhere prints the root help and exits 0 before extras are checked
// (`braid users --help`). Walks argv down the command tree: at every level
// that has commands, the first word that is not an option (or an option's
// value) must be one of them. Returns the unknown word's message, or "".
std::string UnknownCommand(CLI::App* app, int argc, char** argv) {
  CLI::App* at = app;
  std::string path = "braid";
  for (int i = 1; i < argc; ++i) {
    std::vector<CLI::App*> subs = at->get_subcommands([](CLI::App*) { return true; });
    if (subs.empty()) return "";
    const std::string word = argv[i];
    if (word == "--") return "";
    if (!word.empty() && word[0] == '-') {
      if (word.find('=') != std::string::npos) continue;
      const CLI::Option* opt = at->get_option_no_throw(word);
      if (opt != nullptr && opt->get_type_size() > 0 && opt->get_expected_min() > 0) ++i;
      continue;
    }
    CLI::App* next = nullptr;
    for (CLI::App* sub : subs) {
      if (sub->check_name(word)) next = sub;
    }
    if (next == nullptr) {
      std::string known;
      for (CLI::App* sub : subs) known += (known.empty() ? "" : ", ") + sub->get_name();
      return path + ": unknown command '" + word + "' (commands: " + known + ")";
    }
    at = next;
    path += " " + word;
  }
  return "";
}

}  // namespace

void AddHttpTlsOptions(CLI::App* cmd, HttpTlsFlags* f) {
  cmd->add_flag("--http-tls", f->on,
                "Serve HTTPS on the HTTP listeners (HTTP API, schema registry) with "
                "--http-tls-cert/--http-tls-key, by default the Kafka listener's "
                "--tls-cert/--tls-key");
  cmd->add_option("--http-tls-cert", f->cert_file,
                  "PEM certificate (chain) of the HTTP listeners (implies --http-tls)");
  cmd->add_option("--http-tls-key", f->key_file, "PEM private key of the HTTP listeners");
  cmd->add_option("--http-tls-ca", f->ca_file,
                  "PEM CA certificates that HTTP client certificates are verified against "
                  "(default: none; no client certificates)");
  cmd->add_option("--http-tls-client-auth", f->client_auth,
                  "none|requested|required: client certificates on the HTTP listeners "
                  "(default: requested with --http-tls-ca, else none)")
      ->check(CLI::IsMember({"none", "requested", "required"}));
}

Result<http::TlsOptions> ResolveHttpTls(const HttpTlsFlags& f, const std::string& default_cert,
                                        const std::string& default_key) {
  http::TlsOptions o;
  if (!f.on && f.cert_file.empty()) {
    if (!f.key_file.empty() || !f.ca_file.empty() || !f.client_auth.empty()) {
      return Status::InvalidArgument(
          "--http-tls-key/--http-tls-ca/--http-tls-client-auth need --http-tls");
    }
    return o;
  }
  o.cert_file = f.cert_file.empty() ? default_cert : f.cert_file;
  o.key_file = f.key_file.empty() && f.cert_file.empty() ? default_key : f.key_file;
  if (o.cert_file.empty() || o.key_file.empty()) {
    return Status::InvalidArgument(
        "--http-tls needs a certificate and a key: --http-tls-cert and --http-tls-key (or the "
        "Kafka listener's --tls-cert and --tls-key)");
  }
  o.ca_file = f.client_auth == "none" ? "" : f.ca_file;
  o.require_client_cert = f.client_auth == "required";
  if (f.client_auth == "requested" || f.client_auth == "required") {
    if (o.ca_file.empty()) {
      return Status::InvalidArgument("--http-tls-client-auth " + f.client_auth +
                                     " needs --http-tls-ca");
    }
  }
  return o;
}

int Main(int argc, char** argv) {
  CLI::App app{
      "braid: the Lambda Architecture in one binary.\n"
      "A Kafka-compatible event log with Avro events, a MapReduce batch layer over an\n"
      "immutable master dataset, a Storm-style speed layer and an HBase-like serving layer."};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("braid ") + BRAID_VERSION);
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace|debug|info|warn|error|off")
      ->capture_default_str();
  std::string ca_file;
  app.add_option("--ca", ca_file,
                 "PEM CA certificates that https:// servers (a registry, a running braid) are "
                 "verified against (default: the system's CAs)")
      ->envname("BRAID_CA_FILE");
  std::function<void()> apply_client_options = AddHttpClientOptions(&app);
  app.parse_complete_callback([&] {
    InitLogging(log_level);
    if (!ca_file.empty()) http::SetClientCaFile(ca_file);
    apply_client_options();
  });

  int exit_code = 0;
  AddAvroCommands(&app, &exit_code);
  AddServerCommands(&app, &exit_code);
  AddGroupsCommands(&app, &exit_code);
  AddSchemasCommands(&app, &exit_code);
  AddArchiveCommands(&app, &exit_code);
  AddExampleCommands(&app, &exit_code);
  AddViewsCommands(&app, &exit_code);
  AddBatchCommands(&app, &exit_code);
  AddMrCommands(&app, &exit_code);
  AddSpeedCommands(&app, &exit_code);
  AddUsersCommands(&app, &exit_code);
  AddTokensCommands(&app, &exit_code);
  // Usage errors (unknown command or option, missing command or value, bad
  // value) exit 2; --help and --version exit 0.
  constexpr int kUsageError = 2;
  if (std::string unknown = UnknownCommand(&app, argc, argv); !unknown.empty()) {
    std::fprintf(stderr, "%s\nRun with --help for more information.\n", unknown.c_str());
    return kUsageError;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);  // prints the message
    return kUsageError;
  }
  return exit_code;
}

}  // namespace braid::cli
