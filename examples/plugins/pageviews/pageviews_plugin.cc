// A view plugin: the SuperWebAnalytics `pageviews` and `uniques` views
// written in C++ against braid's public headers (include/braid/), equivalent
// to the YAML views in views.yaml beside this file. The tests build it, load
// it with the YAML views and check that both give the same cells.
//
// Build it out of the tree against installed headers:
//   g++ -std=c++20 -O2 -fPIC -shared -I<prefix>/include pageviews_plugin.cc -o
//   libbraid_pageviews.so
// and load it:
//   braid views check --plugin ./libbraid_pageviews.so
//   braid up --data DIR --plugin ./libbraid_pageviews.so
#include <memory>
#include <optional>
#include <string>

#include "braid/plugin.h"
#include "braid/url.h"
#include "braid/view.h"

namespace {

// Paths read by both views, in this order.
constexpr size_t kUrl = 0;
constexpr size_t kPerson = 1;
constexpr size_t kTimestamp = 2;

braid::ViewSpec BaseSpec(const char* name, const char* monoid) {
  braid::ViewSpec s;
  s.name = name;
  s.topic = "pageviews";
  for (const char* g : {"hour", "day", "week", "month"}) s.granularities.emplace_back(g);
  s.monoid = monoid;
  for (const char* p : {"url", "person", "timestamp"}) s.paths.emplace_back(p);
  s.time_field = "timestamp";
  s.version = std::string("1");  // bump when Map changes what it emits
  return s;
}

// The event's normalized url and event time; false when the url is not one.
bool UrlAndTime(const braid::ViewEvent& e, std::string* url, int64_t* time_ms) {
  std::optional<std::string_view> raw = e.GetString(kUrl);
  if (!raw) return false;
  std::optional<std::string> normalized = braid::NormalizeUrl(*raw);
  if (!normalized) return false;
  *url = std::move(*normalized);
  // The event time, or the record's timestamp when the event has none.
  *time_ms = e.GetTimestampMillis(kTimestamp).value_or(e.timestamp_ms());
  return true;
}

// Page views per normalized url.
class PageViews final : public braid::View {
 public:
  braid::ViewSpec Spec() const override { return BaseSpec("pageviews_cpp", "count"); }
  void Map(const braid::ViewEvent& e, braid::ViewEmitter& out) const override {
    std::string url;
    int64_t t = 0;
    if (UrlAndTime(e, &url, &t)) out.Emit(url, t);
  }
};

// Distinct people per normalized url (HyperLogLog).
class Uniques final : public braid::View {
 public:
  braid::ViewSpec Spec() const override { return BaseSpec("uniques_cpp", "hll(p=14)"); }
  void Map(const braid::ViewEvent& e, braid::ViewEmitter& out) const override {
    std::string url;
    int64_t t = 0;
    std::optional<std::string_view> person = e.GetString(kPerson);
    if (!person || !UrlAndTime(e, &url, &t)) return;
    out.Emit(url, t, braid::Value::String(*person));
  }
};

}  // namespace

BRAID_PLUGIN(registrar) {
  registrar->AddView(std::make_shared<PageViews>());
  registrar->AddView(std::make_shared<Uniques>());
}
