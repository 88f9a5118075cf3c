// Owner-only files of the security module (users.json, acls.json).
#pragma once

#include <string>

#include "base/status.h"

namespace braid::security {

// Creates `dir` with mode 0700 if it does not exist.
Status MakePrivateDir(const std::string& dir);
// The whole file; NotFound if it does not exist; Corruption above 64 MiB.
Result<std::string> ReadPrivateFile(const std::string& path);
// Replaces `path` (inside `dir`) atomically with `contents`, mode 0600:
// temporary file, fsync, rename, fsync of `dir`.
Status WritePrivateFile(const std::string& dir, const std::string& path,
                        const std::string& contents);

}  // namespace braid::security
