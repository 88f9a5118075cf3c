#include "base/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <string>

namespace braid {

void InitLogging(std::string_view level) {
  static bool once = [] {
    auto logger = spdlog::stderr_color_mt("braid");
    spdlog::set_default_logger(logger);
    return true;
  }();
  (void)once;
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%L%$ [%t] %v");
  spdlog::set_level(spdlog::level::from_str(std::string(level)));
}

}  // namespace braid
