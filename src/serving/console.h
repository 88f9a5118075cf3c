// The web console: one self-contained HTML page (GET /console) over the
// public API: the views and their coverage, a query form (value, series
// drawn as bars, keys), the batch scheduler with a "run now" button.
#pragma once

#include <string_view>

namespace braid::serving {

std::string_view ConsolePage();

}  // namespace braid::serving
