// Fuzzes what a view file holds: the whole input as a YAML view file, as an
// expression, and as a URL. Nothing may crash or hang; a normalized URL
// normalizes to itself.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "braid/url.h"
#include "views/expr.h"
#include "views/view_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)braid::views::ParseViewFile(text, "fuzz.yaml");
  braid::views::ExprCompiler compiler;
  (void)compiler.Compile(text);
  std::optional<std::string> url = braid::NormalizeUrl(text);
  if (url && braid::NormalizeUrl(*url) != url) abort();
  return 0;
}
