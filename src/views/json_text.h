// Small JSON text helpers of the views module (monoid ToJson, the catalog's
// listings). Internal to src/views.
#pragma once

#include <string>
#include <string_view>

namespace braid::views {

// `s` as a JSON string literal (quoted, escaped); bytes that are not valid
// UTF-8 become U+FFFD.
std::string JsonQuote(std::string_view s);
// A finite double as a JSON number (shortest text that reads back the same
// double); null for NaN and infinities.
std::string JsonNumber(double d);

}  // namespace braid::views
