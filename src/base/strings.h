// Small string utilities shared by every module: network addresses and URL
// components.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "base/status.h"

namespace braid {

// A "HOST:PORT" address. IPv6 hosts are written in brackets ("[::1]:80") and
// stored without them.
struct HostPort {
  std::string host;
  uint16_t port = 0;

  // "host:port", with brackets around an IPv6 host.
  std::string ToString() const;
};

// Parses "HOST:PORT" or "[V6]:PORT" (port 0..65535; an empty host means
// "0.0.0.0"). InvalidArgument naming the input otherwise.
Result<HostPort> ParseHostPort(std::string_view s);

// Decodes %XX escapes of a URL component ('+' stays '+'; a malformed escape
// is kept as is).
std::string PercentDecode(std::string_view s);

}  // namespace braid
