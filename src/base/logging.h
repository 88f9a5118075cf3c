// Logging through spdlog. Use the LOG_* macros (they carry file:line in debug
// formats); configure once at start-up with InitLogging().
#pragma once

#include <spdlog/spdlog.h>

#include <string_view>

namespace braid {

// Sets the global level ("trace", "debug", "info", "warn", "error", "off")
// and a pattern with timestamps. Logs go to stderr. Safe to call twice.
void InitLogging(std::string_view level = "info");

}  // namespace braid

#define LOG_TRACE(...) SPDLOG_TRACE(__VA_ARGS__)
#define LOG_DEBUG(...) SPDLOG_DEBUG(__VA_ARGS__)
#define LOG_INFO(...) SPDLOG_INFO(__VA_ARGS__)
#define LOG_WARN(...) SPDLOG_WARN(__VA_ARGS__)
#define LOG_ERROR(...) SPDLOG_ERROR(__VA_ARGS__)
