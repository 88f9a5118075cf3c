// `braid tokens create|list|delete --data DIR`: bearer tokens of braid's
// HTTP APIs (security/token_store.h), stored as hashes in
// DIR/security/tokens.json. Works beside a running braid (file lock; the
// server re-reads the file when it changes). `create` prints the token once.
// Errors go to stderr as "braid tokens <cmd>: <error>"; exit code 1.
//
// Also the HTTP-auth flags shared by every command that serves HTTP
// (AddHttpAuthOptions) and the client credentials of the commands that talk
// to a running braid (AddHttpClientOptions).
#include <cstdio>
#include <ctime>
#include <fstream>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "http/client.h"
#include "runtime/runtime.h"
#include "security/scram.h"
#include "security/token_store.h"
#include "security/user_store.h"

namespace braid::cli {
namespace {

struct TokensFlags {
  std::string data_dir;
  std::string name;
  bool read_only = false;
  bool admin = false;
};

int Fail(const char* cmd, const Status& s) {
  std::fprintf(stderr, "braid tokens %s: %s\n", cmd, s.ToString().c_str());
  return 1;
}

std::string FormatTime(int64_t ms) {
  const std::time_t t = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

int Create(const TokensFlags& f) {
  if (f.read_only == f.admin) {
    return Fail("create", Status::InvalidArgument("give exactly one of --read-only and --admin"));
  }
  auto store = security::TokenStore::Open(security::SecurityDir(f.data_dir));
  if (!store.ok()) return Fail("create", store.status());
  security::TokenInfo info;
  auto token = (*store)->Create(f.admin ? security::HttpScope::kAdmin : security::HttpScope::kRead,
                                f.name, &info);
  if (!token.ok()) return Fail("create", token.status());
  std::fprintf(stderr, "token %s (id %s, scope %s) created; it is shown only now:\n",
               info.name.c_str(), info.id.c_str(),
               std::string(security::HttpScopeName(info.scope)).c_str());
  std::printf("%s\n", token->c_str());
  return 0;
}

int List(const TokensFlags& f) {
  auto store = security::TokenStore::Open(security::SecurityDir(f.data_dir));
  if (!store.ok()) return Fail("list", store.status());
  auto tokens = (*store)->List();
  if (!tokens.ok()) return Fail("list", tokens.status());
  for (const security::TokenInfo& t : *tokens) {
    std::printf("%s\t%s\t%s\t%s\n", t.id.c_str(), t.name.c_str(),
                std::string(security::HttpScopeName(t.scope)).c_str(),
                FormatTime(t.created_ms).c_str());
  }
  return 0;
}

int Delete(const TokensFlags& f) {
  auto store = security::TokenStore::Open(security::SecurityDir(f.data_dir));
  if (!store.ok()) return Fail("delete", store.status());
  Status s = (*store)->Delete(f.name);
  if (!s.ok()) return Fail("delete", s);
  std::printf("token %s deleted\n", f.name.c_str());
  return 0;
}

Result<std::string> FirstLine(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::IOError("cannot read " + path);
  std::string line;
  std::getline(in, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

}  // namespace

void AddHttpAuthOptions(CLI::App* cmd, runtime::RuntimeOptions* o,
                        std::vector<std::string>* open_paths) {
  cmd->add_flag("--http-auth", o->http_auth,
                "Require credentials on the HTTP API and the schema registry: basic auth of "
                "the SASL users (admin scope: --super-users, or every user when that is empty; "
                "read scope otherwise) or a bearer token (`braid tokens create`)");
  *open_paths = {"/health"};
  cmd->add_option("--http-auth-open-paths", *open_paths,
                  "Paths whose GET needs no credentials under --http-auth, comma-separated "
                  "('none': none)")
      ->delimiter(',')
      ->capture_default_str();
}

void FinishHttpAuthOptions(runtime::RuntimeOptions* o, const std::vector<std::string>& open_paths,
                           const std::vector<std::string>& super_users) {
  o->http_auth_options.open_paths.clear();
  for (const std::string& p : open_paths) {
    if (p != "none" && !p.empty()) o->http_auth_options.open_paths.push_back(p);
  }
  o->http_auth_options.super_users = super_users;
}

std::function<void()> AddHttpClientOptions(CLI::App* root) {
  struct ClientFlags {
    std::string token;
    std::string user;
    std::string password_file;
  };
  auto f = std::make_shared<ClientFlags>();
  root->add_option("--token", f->token,
                   "Bearer token sent to braid's HTTP APIs (`braid tokens create`)")
      ->envname("BRAID_TOKEN");
  root->add_option("--http-user", f->user,
                   "User for basic auth to braid's HTTP APIs (with --http-password-file)");
  root->add_option("--http-password-file", f->password_file,
                   "File whose first line is the --http-user's password");
  return [f] {
    if (!f->user.empty()) {
      std::string password;
      if (!f->password_file.empty()) {
        auto pw = FirstLine(f->password_file);
        if (!pw.ok()) throw CLI::ValidationError("--http-password-file", pw.status().ToString());
        password = *pw;
      }
      http::SetDefaultAuthorization("Basic " + security::Base64Encode(f->user + ":" + password));
    } else if (!f->token.empty()) {
      http::SetDefaultAuthorization("Bearer " + f->token);
    }
  };
}

void AddTokensCommands(CLI::App* root, int* exit_code) {
  CLI::App* tokens = root->add_subcommand(
      "tokens", "Manage the bearer tokens of the HTTP APIs (DATA/security/tokens.json)");
  tokens->require_subcommand(1);
  {
    auto f = std::make_shared<TokensFlags>();
    CLI::App* cmd = tokens->add_subcommand(
        "create", "Create a token (printed once on stdout; only its hash is stored)");
    cmd->add_option("--data", f->data_dir, "Data directory")->required();
    cmd->add_flag("--read-only", f->read_only, "Read scope: GET/HEAD and the POSTs that only read");
    cmd->add_flag("--admin", f->admin, "Admin scope: every request");
    cmd->add_option("--name", f->name, "Unique name (letters, digits, . _ -; default: the id)");
    cmd->callback([f, exit_code] { *exit_code = Create(*f); });
  }
  {
    auto f = std::make_shared<TokensFlags>();
    CLI::App* cmd = tokens->add_subcommand("list", "List tokens: id, name, scope, created");
    cmd->add_option("--data", f->data_dir, "Data directory")->required();
    cmd->callback([f, exit_code] { *exit_code = List(*f); });
  }
  {
    auto f = std::make_shared<TokensFlags>();
    CLI::App* cmd = tokens->add_subcommand("delete", "Delete a token by name or id");
    cmd->add_option("name", f->name, "Name or id")->required();
    cmd->add_option("--data", f->data_dir, "Data directory")->required();
    cmd->callback([f, exit_code] { *exit_code = Delete(*f); });
  }
}

}  // namespace braid::cli
