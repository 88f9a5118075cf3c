#include "metrics/metrics.h"

#include <gtest/gtest.h>

#include <thread>

namespace braid::metrics {
namespace {

TEST(MetricsTest, RendersCountersGaugesHistograms) {
  Registry r;
  r.GetCounter("braid_requests_total", "Requests.", {{"api", "Produce"}})->Inc(3);
  r.GetGauge("braid_connections", "Open connections.")->Set(2);
  Histogram* h = r.GetHistogram("braid_latency_seconds", "Latency.", {0.1, 1});
  h->Observe(0.05);
  h->Observe(0.5);
  h->Observe(5);
  r.AddCollector([](SampleWriter* w) {
    w->Gauge("braid_log_end_offset", "LEO.", {{"topic", "t\"x"}, {"partition", "0"}}, 42);
  });
  std::string text = r.RenderPrometheus();
  EXPECT_NE(text.find("# TYPE braid_requests_total counter\n"), std::string::npos) << text;
  EXPECT_NE(text.find("braid_requests_total{api=\"Produce\"} 3\n"), std::string::npos) << text;
  EXPECT_NE(text.find("braid_connections 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("braid_latency_seconds_bucket{le=\"0.1\"} 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("braid_latency_seconds_bucket{le=\"1\"} 2\n"), std::string::npos) << text;
  EXPECT_NE(text.find("braid_latency_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("braid_latency_seconds_count 3\n"), std::string::npos);
  EXPECT_NE(text.find("braid_log_end_offset{topic=\"t\\\"x\",partition=\"0\"} 42\n"),
            std::string::npos)
      << text;
}

TEST(MetricsTest, SamePointerForSameLabelsAndConcurrentIncrements) {
  Registry r;
  Counter* a = r.GetCounter("c", "h", {{"k", "v"}});
  EXPECT_EQ(a, r.GetCounter("c", "h", {{"k", "v"}}));
  std::vector<std::thread> ts;
  for (int i = 0; i < 4; ++i) {
    ts.emplace_back([a] {
      for (int j = 0; j < 10000; ++j) a->Inc();
    });
  }
  for (auto& t : ts) t.join();
  EXPECT_EQ(a->Value(), 40000u);
  // Type conflict: a detached metric, no crash.
  r.GetGauge("c", "h")->Set(1);
  EXPECT_EQ(a->Value(), 40000u);
}

}  // namespace
}  // namespace braid::metrics
