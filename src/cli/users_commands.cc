// `braid users add|list|delete --data DIR`: the SCRAM users of the Kafka
// listener's SASL authentication (security/user_store.h), stored in
// DIR/security/users.json. Works beside a running broker (the store has its
// own file lock; the broker re-reads the file when it changes). Passwords
// come from --password-file, or the first line of stdin; never from the
// command line, where other users could read them in the process list.
// Errors go to stderr as "braid users <cmd>: <error>"; exit code 1.
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "security/scram.h"
#include "security/user_store.h"

namespace braid::cli {
namespace {

struct UsersFlags {
  std::string data_dir;
  std::string name;
  std::string password_file;
  std::string mechanism = "all";
  int32_t iterations = security::kDefaultIterations;
};

int Fail(const char* cmd, const Status& s) {
  std::fprintf(stderr, "braid users %s: %s\n", cmd, s.ToString().c_str());
  return 1;
}

Result<std::string> ReadPassword(const UsersFlags& f) {
  std::string pw;
  if (!f.password_file.empty()) {
    std::ifstream in(f.password_file);
    if (!in) return Status::IOError("cannot read " + f.password_file);
    std::getline(in, pw);
  } else {
    if (::isatty(STDIN_FILENO)) std::fprintf(stderr, "Password: ");
    std::getline(std::cin, pw);
  }
  if (!pw.empty() && pw.back() == '\r') pw.pop_back();
  if (pw.empty()) return Status::InvalidArgument("empty password");
  return pw;
}

std::vector<security::ScramMechanism> Mechanisms(const std::string& m) {
  if (m == "SCRAM-SHA-256") return {security::ScramMechanism::kSha256};
  if (m == "SCRAM-SHA-512") return {security::ScramMechanism::kSha512};
  return {security::ScramMechanism::kSha256, security::ScramMechanism::kSha512};
}

int Add(const UsersFlags& f) {
  Status s = security::ValidateUserName(f.name);
  if (!s.ok()) return Fail("add", s);
  auto pw = ReadPassword(f);
  if (!pw.ok()) return Fail("add", pw.status());
  auto store = security::UserStore::Open(security::SecurityDir(f.data_dir));
  if (!store.ok()) return Fail("add", store.status());
  for (security::ScramMechanism m : Mechanisms(f.mechanism)) {
    auto cred = security::MakeCredential(m, *pw, f.iterations);
    if (!cred.ok()) return Fail("add", cred.status());
    s = (*store)->Upsert(f.name, *cred);
    if (!s.ok()) return Fail("add", s);
    std::printf("user %s: %s credential set (%d iterations)\n", f.name.c_str(),
                std::string(security::MechanismName(m)).c_str(), f.iterations);
  }
  return 0;
}

int List(const UsersFlags& f) {
  auto store = security::UserStore::Open(security::SecurityDir(f.data_dir));
  if (!store.ok()) return Fail("list", store.status());
  auto users = (*store)->List();
  if (!users.ok()) return Fail("list", users.status());
  for (const security::UserInfo& u : *users) {
    std::string mechs;
    for (const security::ScramCredential& c : u.credentials) {
      mechs += (mechs.empty() ? "" : ",") + std::string(security::MechanismName(c.mechanism)) +
               "(" + std::to_string(c.iterations) + ")";
    }
    std::printf("%s\t%s\n", u.name.c_str(), mechs.c_str());
  }
  return 0;
}

int Delete(const UsersFlags& f) {
  auto store = security::UserStore::Open(security::SecurityDir(f.data_dir));
  if (!store.ok()) return Fail("delete", store.status());
  std::optional<security::ScramMechanism> m;
  if (f.mechanism != "all") m = security::ParseMechanism(f.mechanism);
  Status s = (*store)->Delete(f.name, m);
  if (!s.ok()) return Fail("delete", s);
  std::printf("user %s: %s deleted\n", f.name.c_str(),
              m ? std::string(security::MechanismName(*m)).c_str() : "every credential");
  return 0;
}

}  // namespace

void AddUsersCommands(CLI::App* root, int* exit_code) {
  CLI::App* users = root->add_subcommand(
      "users", "Manage the SASL/SCRAM users of the Kafka listener (DATA/security/users.json)");
  users->require_subcommand(1);
  auto mech_check = CLI::IsMember({"all", "SCRAM-SHA-256", "SCRAM-SHA-512"});
  {
    auto f = std::make_shared<UsersFlags>();
    CLI::App* cmd = users->add_subcommand(
        "add", "Add a user or change its password (read from --password-file or stdin)");
    cmd->add_option("name", f->name, "User name")->required();
    cmd->add_option("--data", f->data_dir, "Data directory")->required();
    cmd->add_option("--password-file", f->password_file,
                    "File whose first line is the password (default: first line of stdin)");
    cmd->add_option("--mechanism", f->mechanism, "all|SCRAM-SHA-256|SCRAM-SHA-512")
        ->capture_default_str()
        ->check(mech_check);
    cmd->add_option("--iterations", f->iterations, "PBKDF2 iterations")
        ->capture_default_str()
        ->check(CLI::Range(security::kMinIterations, security::kMaxIterations));
    cmd->callback([f, exit_code] { *exit_code = Add(*f); });
  }
  {
    auto f = std::make_shared<UsersFlags>();
    CLI::App* cmd = users->add_subcommand("list", "List users and their SCRAM mechanisms");
    cmd->add_option("--data", f->data_dir, "Data directory")->required();
    cmd->callback([f, exit_code] { *exit_code = List(*f); });
  }
  {
    auto f = std::make_shared<UsersFlags>();
    CLI::App* cmd = users->add_subcommand("delete", "Delete a user (or one of its mechanisms)");
    cmd->add_option("name", f->name, "User name")->required();
    cmd->add_option("--data", f->data_dir, "Data directory")->required();
    cmd->add_option("--mechanism", f->mechanism, "all|SCRAM-SHA-256|SCRAM-SHA-512")
        ->capture_default_str()
        ->check(mech_check);
    cmd->callback([f, exit_code] { *exit_code = Delete(*f); });
  }
}

}  // namespace braid::cli
