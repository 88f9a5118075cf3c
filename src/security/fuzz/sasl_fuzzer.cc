// libFuzzer target for the SASL/SCRAM message parsers and the server side of
// a SCRAM exchange: hostile bytes must give an error, never a crash, a hang
// or an unbounded allocation. The first byte picks the parser.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "security/scram.h"

using namespace braid::security;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string_view in(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 7) {
    case 0:
      (void)ParsePlainMessage(in);
      break;
    case 1:
      (void)ParseClientFirstMessage(in);
      break;
    case 2:
      (void)ParseClientFinalMessage(in);
      break;
    case 3:
      (void)ParseServerFirstMessage(in);
      break;
    case 4:
      (void)ParseServerFinalMessage(in);
      break;
    case 5:
      (void)Base64Decode(in);
      break;
    case 6: {
      // A whole exchange against one known user: the input split at the
      // first NUL into the client-first and client-final messages.
      static const ScramCredential cred = [] {
        auto c = MakeCredential(ScramMechanism::kSha256, "pencil", kMinIterations,
                                std::string("0123456789abcdef"));
        return c.ok() ? *c : ScramCredential{};
      }();
      ScramServer server(
          ScramMechanism::kSha256,
          [](const std::string& user) -> braid::Result<std::optional<ScramCredential>> {
            if (user == "user") return std::optional<ScramCredential>(cred);
            return std::optional<ScramCredential>();
          },
          "fuzz-key");
      const size_t nul = in.find('\0');
      auto first = server.Step(in.substr(0, nul));
      if (first.ok() && nul != std::string_view::npos) (void)server.Step(in.substr(nul + 1));
      break;
    }
  }
  return 0;
}
