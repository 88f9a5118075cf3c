// URL functions of view expressions (`normalize_url`, `host`), exactly as
// SuperWebAnalytics needs them (issue 13). Header-only standard C++, part of
// braid's public plugin API, so that a C++ plugin view normalizes URLs with
// the very code a view file's expressions use:
//
//   normalize_url: the scheme and the host lower-cased, the default port
//   removed (80 for http, 443 for https; an empty port too), the query and
//   the fragment removed, an empty path becomes "/", the path's case kept:
//     HTTP://Foo.com:80/a?x=1#y  →  http://foo.com/a
//   host: the normalized host without its port (an IPv6 literal without its
//   brackets): foo.com
//
// Also: ASCII whitespace around the URL, and at the end of its path, is
// ignored; user information
// ("user:pass@") is dropped (credentials never become view keys); a port is
// written without leading zeros; nothing else is changed (no percent-decoding,
// no dot-segment removal). Not a URL → nullopt (the expression's value is
// null): no `scheme://`, a scheme that is not [A-Za-z][A-Za-z0-9+.-]*, an
// empty host, a port that is not a number up to 65535, control characters,
// spaces or any of `<>"{}|\^`` in the host, a malformed IPv6 literal, or a
// URL longer than kMaxUrlBytes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace braid {

inline constexpr size_t kMaxUrlBytes = 64 * 1024;

namespace url_internal {

inline bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
inline bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }
inline bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
inline char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Characters never valid in a host name.
inline bool BadHostChar(char c) {
  const auto u = static_cast<unsigned char>(c);
  if (u < 0x20 || u == 0x7f) return true;
  switch (c) {
    case ' ':
    case '<':
    case '>':
    case '"':
    case '{':
    case '}':
    case '|':
    case '\\':
    case '^':
    case '`':
    case '[':
    case ']':
    case ':':
    case '/':
    case '?':
    case '#':
    case '@':
      return true;
    default:
      return false;
  }
}

struct ParsedUrl {
  std::string scheme;  // lower-case
  std::string host;    // lower-case; an IPv6 literal without brackets
  bool ipv6 = false;
  std::string port;  // digits without leading zeros; empty: the default
  std::string_view path;
};

inline std::optional<ParsedUrl> Parse(std::string_view url) {
  while (!url.empty() && IsAsciiSpace(url.front())) url.remove_prefix(1);
  while (!url.empty() && IsAsciiSpace(url.back())) url.remove_suffix(1);
  if (url.size() > kMaxUrlBytes) return std::nullopt;
  const size_t sep = url.find("://");
  if (sep == std::string_view::npos || sep == 0) return std::nullopt;
  ParsedUrl r;
  const std::string_view scheme = url.substr(0, sep);
  if (!IsAlpha(scheme[0])) return std::nullopt;
  for (char c : scheme) {
    if (!IsAlpha(c) && !IsDigit(c) && c != '+' && c != '-' && c != '.') return std::nullopt;
    r.scheme.push_back(Lower(c));
  }
  std::string_view rest = url.substr(sep + 3);
  const size_t auth_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, auth_end);
  const std::string_view tail =
      auth_end == std::string_view::npos ? std::string_view() : rest.substr(auth_end);
  // User information is dropped.
  if (const size_t at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  std::string_view host;
  std::string_view port;
  bool has_port = false;
  if (!authority.empty() && authority[0] == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    host = authority.substr(1, close - 1);
    const std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return std::nullopt;
      port = after.substr(1);
      has_port = true;
    }
    bool colon = false;
    for (char c : host) {
      if (c == ':') {
        colon = true;
      } else if (!IsHex(c) && c != '.') {
        return std::nullopt;
      }
    }
    if (!colon) return std::nullopt;
    r.ipv6 = true;
  } else {
    const size_t colon = authority.rfind(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      has_port = true;
    }
    for (char c : host) {
      if (BadHostChar(c)) return std::nullopt;
    }
  }
  if (host.empty()) return std::nullopt;
  r.host.reserve(host.size());
  for (char c : host) r.host.push_back(Lower(c));
  if (has_port) {
    for (char c : port) {
      if (!IsDigit(c)) return std::nullopt;
    }
    size_t first = 0;
    while (first < port.size() && port[first] == '0') ++first;
    std::string_view digits = port.substr(first);
    if (digits.size() > 5) return std::nullopt;
    uint32_t value = 0;
    for (char c : digits) value = value * 10 + static_cast<uint32_t>(c - '0');
    if (value > 65535) return std::nullopt;
    if (!port.empty() && digits.empty()) digits = "0";  // ":000" is port 0
    const bool is_default = port.empty() || (r.scheme == "http" && value == 80) ||
                            (r.scheme == "https" && value == 443);
    if (!is_default) r.port = std::string(digits);
  }
  r.path = tail.substr(0, tail.find_first_of("?#"));
  while (!r.path.empty() && IsAsciiSpace(r.path.back())) r.path.remove_suffix(1);
  return r;
}

}  // namespace url_internal

inline std::optional<std::string> NormalizeUrl(std::string_view url) {
  std::optional<url_internal::ParsedUrl> p = url_internal::Parse(url);
  if (!p) return std::nullopt;
  std::string out;
  out.reserve(p->scheme.size() + p->host.size() + p->path.size() + 12);
  out += p->scheme;
  out += "://";
  if (p->ipv6) out += '[';
  out += p->host;
  if (p->ipv6) out += ']';
  if (!p->port.empty()) {
    out += ':';
    out += p->port;
  }
  if (p->path.empty()) {
    out += '/';
  } else {
    out += p->path;
  }
  return out;
}

inline std::optional<std::string> UrlHost(std::string_view url) {
  std::optional<url_internal::ParsedUrl> p = url_internal::Parse(url);
  if (!p) return std::nullopt;
  return std::move(p->host);
}

}  // namespace braid
