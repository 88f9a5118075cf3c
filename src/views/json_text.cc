#include "views/json_text.h"

#include <cmath>

#include <nlohmann/json.hpp>

namespace braid::views {

std::string JsonQuote(std::string_view s) {
  return nlohmann::json(std::string(s))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string JsonNumber(double d) {
  if (!std::isfinite(d)) return "null";
  return nlohmann::json(d).dump();
}

}  // namespace braid::views
