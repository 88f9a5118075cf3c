#include "serving/api.h"

#include <gtest/gtest.h>

#include <map>

#include <nlohmann/json.hpp>

#include "views/cell_key.h"

namespace braid::serving {
namespace {

using views::Granularity;
constexpr int64_t kHour = 3'600'000;
constexpr int64_t kDay = 24 * kHour;

TEST(ParseTimeTest, EpochAndIso) {
  EXPECT_EQ(*ParseTime("t", "0"), 0);
  EXPECT_EQ(*ParseTime("t", "-5"), -5);
  EXPECT_EQ(*ParseTime("t", "1709211600000"), 1709211600000);
  const int64_t leap = views::DaysFromCivil(2024, 2, 29) * kDay;
  EXPECT_EQ(*ParseTime("t", "2024-02-29"), leap);
  EXPECT_EQ(*ParseTime("t", "2024-02-29T13:00:00Z"), leap + 13 * kHour);
  EXPECT_EQ(*ParseTime("t", "2024-02-29T13:00Z"), leap + 13 * kHour);
  EXPECT_EQ(*ParseTime("t", "2024-02-29T13:00:01.25Z"), leap + 13 * kHour + 1250);
  EXPECT_EQ(*ParseTime("t", "2024-02-29T13:00:00+00:00"), leap + 13 * kHour);
  EXPECT_EQ(*ParseTime("t", "1969-12-31T23:00:00Z"), -kHour);
  for (const char* bad :
       {"", "x", "2023-02-29", "2024-13-01", "2024-02-29T25:00Z", "2024-02-29T13:00:00+02:00",
        "99999999999999999999", "2024-02-29T", "2024-02-29T13:00:00.Z", "12abc"}) {
    auto r = ParseTime("from", bad);
    EXPECT_TRUE(r.status().IsInvalidArgument()) << bad;
    EXPECT_NE(r.status().message().find("from"), std::string_view::npos) << bad;
  }
}

class MapSource : public CellSource {
 public:
  explicit MapSource(std::map<std::string, std::string> cells) : cells_(std::move(cells)) {}
  Result<std::optional<std::string>> Get(std::string_view k) override {
    auto it = cells_.find(std::string(k));
    if (it == cells_.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }
  Status Scan(std::string_view begin, std::string_view end,
              const std::function<bool(std::string_view, std::string_view)>& fn) override {
    for (auto it = cells_.lower_bound(std::string(begin));
         it != cells_.end() && (end.empty() || it->first < end); ++it) {
      if (!fn(it->first, it->second)) break;
    }
    return Status::OK();
  }

 private:
  std::map<std::string, std::string> cells_;
};

class CountView : public views::ViewDefinition {
 public:
  const std::string& name() const override { return name_; }
  const std::string& topic() const override { return topic_; }
  const std::vector<Granularity>& granularities() const override { return g_; }
  const views::Monoid& monoid() const override { return m_; }
  const std::vector<std::string>& paths() const override { return paths_; }
  Status Map(const views::Event&, std::vector<views::Emit>*) const override { return Status::OK(); }
  std::string Fingerprint() const override { return "t"; }

 private:
  std::string name_ = "pageviews", topic_ = "pv";
  std::vector<Granularity> g_ = {Granularity::kHour, Granularity::kDay};
  views::CountMonoid m_;
  std::vector<std::string> paths_;
};

class Provider : public SnapshotProvider {
 public:
  Result<ViewSnapshot> Open(const std::string& view) override {
    if (view != "pageviews") return Status::NotFound("no view named '" + view + "'");
    ViewSnapshot s;
    s.view = view_;
    const int64_t t = 10 * kHour;
    s.batch = std::make_unique<MapSource>(std::map<std::string, std::string>{
        {views::EncodeCellKey("http://a.com/", Granularity::kHour, t),
         views::CountMonoid::Encode(3)},
        {views::EncodeCellKey("http://a.com/", Granularity::kDay, 0),
         views::CountMonoid::Encode(3)},
        {views::EncodeCellKey("http://b.com/\"q", Granularity::kDay, 0),
         views::CountMonoid::Encode(1)}});
    s.realtime = std::make_unique<MapSource>(std::map<std::string, std::string>{
        {views::EncodeCellKey("http://a.com/", Granularity::kHour, t + kHour),
         views::CountMonoid::Encode(2)},
        {views::EncodeCellKey("http://a.com/", Granularity::kDay, 0),
         views::CountMonoid::Encode(2)}});
    s.coverage.batch_version = 7;
    s.coverage.batch_cut.offsets[PartitionId(0)] = Offset(40);
    s.coverage.realtime_offsets.offsets[PartitionId(0)] = Offset(45);
    return s;
  }
  std::vector<std::shared_ptr<const views::ViewDefinition>> Views() override { return {view_}; }

 private:
  std::shared_ptr<CountView> view_ = std::make_shared<CountView>();
};

http::Request Req(std::string method, std::string path, std::map<std::string, std::string> query,
                  std::string body = "") {
  http::Request r;
  r.method = std::move(method);
  r.path = std::move(path);
  r.query = std::move(query);
  r.body = std::move(body);
  return r;
}

nlohmann::json Body(const http::Response& r) { return nlohmann::json::parse(r.body); }

TEST(ApiTest, Routes) {
  Provider p;
  QueryEngine q(&p);
  auto r = HandleViews(&q, &p, Req("GET", "/v1/views/pageviews/value", {{"key", "http://a.com/"}}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["value"], 5);
  EXPECT_EQ(Body(r)["coverage"]["batch"]["version"], 7);
  EXPECT_EQ(Body(r)["coverage"]["batch"]["cut"]["0"], 40);
  EXPECT_EQ(Body(r)["coverage"]["realtime"]["offsets"]["0"], 45);
  r = HandleViews(
      &q, &p,
      Req("GET", "/v1/views/pageviews/value",
          {{"key", "http://a.com/"}, {"from", "36000000"}, {"to", "1970-01-01T11:30Z"}}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["value"], 5);
  EXPECT_EQ(Body(r)["rounded"], true);
  r = HandleViews(&q, &p,
                  Req("GET", "/v1/views/pageviews/series",
                      {{"key", "http://a.com/"},
                       {"from", "0"},
                       {"to", std::to_string(12 * kHour)},
                       {"granularity", "hour"}}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["buckets"].size(), 12u);
  EXPECT_EQ(Body(r)["buckets"][10]["value"], 3);
  EXPECT_EQ(Body(r)["buckets"][11]["value"], 2);
  EXPECT_EQ(Body(r)["buckets"][0]["value"], 0);
  r = HandleViews(&q, &p,
                  Req("POST", "/v1/views/pageviews/values", {},
                      R"({"keys":["http://a.com/","nope","http://b.com/\"q"]})"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["values"][0]["value"], 5);
  EXPECT_EQ(Body(r)["values"][1]["value"], 0);
  EXPECT_EQ(Body(r)["values"][2]["key"], "http://b.com/\"q");
  r = HandleViews(&q, &p, Req("GET", "/v1/views/pageviews/keys", {{"prefix", "http://"}}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["keys"].size(), 2u);
  r = HandleViews(&q, &p, Req("GET", "/v1/views", {}));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Body(r)["views"][0]["monoid"], "count");
}

TEST(ApiTest, ClientErrorsAre4xx) {
  Provider p;
  QueryEngine q(&p);
  struct Case {
    http::Request req;
    int status;
  };
  const std::vector<Case> cases = {
      {Req("GET", "/v1/views/nope/value", {{"key", "k"}}), 404},
      {Req("GET", "/v1/views/pageviews/value", {}), 400},
      {Req("GET", "/v1/views/pageviews/value", {{"key", "k"}, {"from", "x"}, {"to", "1"}}), 400},
      {Req("GET", "/v1/views/pageviews/value", {{"key", "k"}, {"from", "5"}}), 400},
      {Req("GET", "/v1/views/pageviews/value", {{"key", "k"}, {"from", "5"}, {"to", "5"}}), 400},
      {Req("GET", "/v1/views/pageviews/series",
           {{"key", "k"}, {"from", "0"}, {"to", "9"}, {"granularity", "month"}}),
       400},
      {Req("GET", "/v1/views/pageviews/series",
           {{"key", "k"}, {"from", "0"}, {"to", "9"}, {"granularity", "fortnight"}}),
       400},
      {Req("GET", "/v1/views/pageviews/series",
           {{"key", "k"}, {"from", "0"}, {"to", "99999999999999"}, {"granularity", "hour"}}),
       400},
      {Req("POST", "/v1/views/pageviews/values", {}, "{"), 400},
      {Req("POST", "/v1/views/pageviews/values", {}, R"({"keys":[1]})"), 400},
      {Req("POST", "/v1/views/pageviews/values", {}, R"({"keys":["a"],"from":1})"), 400},
      {Req("GET", "/v1/views/pageviews/keys", {{"limit", "0"}}), 400},
      {Req("GET", "/v1/views/pageviews/keys", {{"limit", "-1"}}), 400},
      {Req("GET", "/v1/views/pageviews/nothing", {}), 404},
      {Req("DELETE", "/v1/views/pageviews/value", {}), 405},
  };
  for (const Case& c : cases) {
    auto r = HandleViews(&q, &p, c.req);
    EXPECT_EQ(r.status, c.status) << c.req.method << " " << c.req.path << " " << r.body;
    auto j = nlohmann::json::parse(r.body, nullptr, false);
    EXPECT_TRUE(j.is_object() && j.contains("error_code") && j.contains("message")) << r.body;
  }
}

}  // namespace
}  // namespace braid::serving
