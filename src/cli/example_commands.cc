// `braid example swa produce`: realistic SuperWebAnalytics.com traffic
// (examples/superwebanalytics/) into a Kafka-compatible broker, as
// Confluent-framed Avro PageView records registered in a schema registry.
//
//   braid example swa produce [--bootstrap 127.0.0.1:9092]
//       [--registry http://127.0.0.1:8081] [--topic pageviews] [--count N]
//       [--rate R] [--seed S] [--late-fraction F] [--start-ms T]
//
// Traffic: Zipf-distributed pages over a few dozen domains, many people, and
// sessions: a person reads a few pages of one domain minutes apart (about
// 40% of the visits are a single page: bounces), and a fifth of the visits
// are a recent visitor coming back to the same domain 5 minutes to 2 hours
// after their last page (a new visit when more than 30 minutes passed). URLs are
// written in the many forms browsers send (upper-case scheme or host, default
// ports, query strings, fragments), so the views' normalisation matters. A
// fraction of the events are late: timestamps hours to days in the past. The
// record key is the person (a person's events stay in order on one
// partition).
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "avro/binary.h"
#include "cli/cli.h"
#include "http/client.h"

namespace braid::cli {

namespace {

// The PageView schema of the SuperWebAnalytics example (issue 13), exactly.
constexpr const char* kPageViewSchema =
    R"({"type":"record","name":"PageView","namespace":"braid.examples.swa","fields":[)"
    R"({"name":"url","type":"string"},{"name":"person","type":"string"},)"
    R"({"name":"timestamp","type":{"type":"long","logicalType":"timestamp-millis"}},)"
    R"({"name":"nonce","type":"long"},{"name":"referrer","type":["null","string"],"default":null}]})";

struct SwaOptions {
  std::string bootstrap = "127.0.0.1:9092";
  std::string registry = "http://127.0.0.1:8081";
  std::string topic = "pageviews";
  int64_t count = 100'000;
  double rate = 10'000;  // events per second; 0: as fast as possible
  uint64_t seed = 1;
  double late_fraction = 0.02;
  int64_t start_ms = 0;  // 0: now
};

struct PageView {
  std::string url;
  std::string person;
  int64_t timestamp = 0;
  int64_t nonce = 0;
  std::optional<std::string> referrer;
};

// Deterministic for a seed.
class SwaTraffic {
 public:
  explicit SwaTraffic(const SwaOptions& o)
      : o_(o), rng_(o.seed), now_(o.start_ms != 0 ? o.start_ms : NowMs()) {
    for (int d = 0; d < 40; ++d) domains_.push_back("site" + std::to_string(d) + ".example");
    // Zipf weights for pages (1/rank).
    for (int p = 0; p < 4000; ++p) zipf_.push_back(1.0 / (p + 1));
    page_dist_ = std::discrete_distribution<int>(zipf_.begin(), zipf_.end());
  }

  PageView Next() {
    if (pending_.empty()) NewVisit();
    PageView v = std::move(pending_.back());
    pending_.pop_back();
    return v;
  }

 private:
  static int64_t NowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  // A URL of page `page` of `domain` as a browser might send it.
  std::string Url(const std::string& domain, int page) {
    std::string scheme = (page % 5 == 0) ? "https" : "http";
    std::string host = domain;
    std::uniform_int_distribution<int> form(0, 9);
    const int f = form(rng_);
    if (f == 0) {
      std::transform(scheme.begin(), scheme.end(), scheme.begin(), ::toupper);
    } else if (f == 1) {
      std::transform(host.begin(), host.end(), host.begin(), ::toupper);
    } else if (f == 2) {
      host += scheme == "https" ? ":443" : ":80";
    }
    std::string path = page == 0 ? "" : "/p/" + std::to_string(page);
    if (f == 3) path += "?utm_source=newsletter";
    if (f == 4) path += "#section-2";
    if (f == 5 && page > 0) path += "?ref=" + std::to_string(page % 7) + "#top";
    return scheme + "://" + host + path;
  }

  void NewVisit() {
    std::uniform_int_distribution<int> person_dist(0, 199'999);
    std::uniform_int_distribution<int> domain_dist(0, static_cast<int>(domains_.size()) - 1);
    std::bernoulli_distribution late(o_.late_fraction);
    std::geometric_distribution<int> pages(0.4);  // a third of visits: one page
    std::string person = "person-" + std::to_string(person_dist(rng_));
    std::string domain = domains_[static_cast<size_t>(domain_dist(rng_))];
    int64_t t = now_;
    now_ += 1;  // wall-clock progresses with the traffic
    // A fifth of the visits: a recent visitor comes back to the same domain
    // 5 minutes to 2 hours after their last page (the same visit again when
    // at most 30 minutes passed, else a new one).
    std::bernoulli_distribution comes_back(0.2);
    if (!recent_.empty() && comes_back(rng_)) {
      const Recent& r = recent_[static_cast<size_t>(rng_() % recent_.size())];
      person = r.person;
      domain = r.domain;
      std::uniform_int_distribution<int64_t> pause(5 * 60'000, 2 * 3'600'000);
      t = std::max(t, r.last + pause(rng_));
    }
    if (late(rng_)) {
      std::uniform_int_distribution<int64_t> lateness(3'600'000, 5LL * 86'400'000);
      t -= lateness(rng_);
    }
    const int n = 1 + pages(rng_);
    std::uniform_int_distribution<int64_t> gap(20'000, 600'000);  // 20 s .. 10 min
    std::optional<std::string> referrer;
    std::vector<PageView> visit;
    for (int i = 0; i < n; ++i) {
      PageView v;
      v.url = Url(domain, page_dist_(rng_) % 400);
      v.person = person;
      v.timestamp = t;
      v.nonce = static_cast<int64_t>(rng_() >> 1);
      v.referrer = referrer;
      referrer = v.url;
      visit.push_back(std::move(v));
      t += gap(rng_);
    }
    Recent r{person, domain, visit.back().timestamp};
    if (recent_.size() < 1000) {
      recent_.push_back(std::move(r));
    } else {
      recent_[static_cast<size_t>(rng_() % recent_.size())] = std::move(r);
    }
    // Pending is a stack: push in reverse so the visit comes out in order.
    for (auto it = visit.rbegin(); it != visit.rend(); ++it) pending_.push_back(std::move(*it));
  }

  const SwaOptions o_;
  std::mt19937_64 rng_;
  int64_t now_;
  std::vector<std::string> domains_;
  std::vector<double> zipf_;
  std::discrete_distribution<int> page_dist_;
  std::vector<PageView> pending_;
  struct Recent {
    std::string person;
    std::string domain;
    int64_t last = 0;  // the time of the visit's last page
  };
  std::vector<Recent> recent_;  // recent visits, for return visits
};

// Confluent framing: magic 0, 4-byte big-endian schema id, Avro binary.
std::string Frame(int32_t schema_id, const PageView& v) {
  std::string out;
  out.push_back('\0');
  for (int shift = 24; shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((static_cast<uint32_t>(schema_id) >> shift) & 0xff));
  }
  avro::Encoder e(&out);
  e.WriteString(v.url);
  e.WriteString(v.person);
  e.WriteLong(v.timestamp);
  e.WriteLong(v.nonce);
  if (v.referrer) {
    e.WriteUnionIndex(1);
    e.WriteString(*v.referrer);
  } else {
    e.WriteUnionIndex(0);
  }
  return out;
}

Result<int32_t> RegisterSchema(const SwaOptions& o) {
  nlohmann::json body = {{"schema", kPageViewSchema}};
  ASSIGN_OR_RETURN(
      http::HttpClientResponse r,
      http::HttpRequest("POST", o.registry + "/subjects/" + o.topic + "-value/versions",
                        body.dump(), "application/vnd.schemaregistry.v1+json"));
  if (r.status != 200) {
    return Status::Unavailable("registering the PageView schema: HTTP " + std::to_string(r.status) +
                               " " + r.body);
  }
  const nlohmann::json j = nlohmann::json::parse(r.body, nullptr, false);
  if (!j.is_object() || !j.contains("id") || !j["id"].is_number_integer()) {
    return Status::Corruption("the registry answered without an id: " + r.body);
  }
  return j["id"].get<int32_t>();
}

Status ProduceSwa(const SwaOptions& o) {
  ASSIGN_OR_RETURN(int32_t schema_id, RegisterSchema(o));
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  for (const auto& [k, v] :
       std::vector<std::pair<std::string, std::string>>{{"bootstrap.servers", o.bootstrap},
                                                        {"linger.ms", "10"},
                                                        {"compression.type", "lz4"},
                                                        {"enable.idempotence", "true"}}) {
    if (rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof(err)) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return Status::InvalidArgument(std::string("librdkafka: ") + err);
    }
  }
  struct Counts {
    uint64_t delivered = 0, failed = 0;
    std::string last_error;
  } counts;
  rd_kafka_conf_set_opaque(conf, &counts);
  rd_kafka_conf_set_dr_msg_cb(conf, [](rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
    auto* c = static_cast<Counts*>(opaque);
    if (m->err) {
      ++c->failed;
      c->last_error = rd_kafka_err2str(m->err);
    } else {
      ++c->delivered;
    }
  });
  std::unique_ptr<rd_kafka_t, void (*)(rd_kafka_t*)> rk(
      rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err)), rd_kafka_destroy);
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    return Status::Unavailable(std::string("librdkafka: ") + err);
  }
  SwaTraffic traffic(o);
  const auto t0 = std::chrono::steady_clock::now();
  for (int64_t i = 0; i < o.count; ++i) {
    if (o.rate > 0) {
      const auto due = t0 + std::chrono::microseconds(static_cast<int64_t>(i * 1e6 / o.rate));
      if (due > std::chrono::steady_clock::now()) std::this_thread::sleep_until(due);
    }
    const PageView v = traffic.Next();
    const std::string value = Frame(schema_id, v);
    for (;;) {
      rd_kafka_resp_err_t e =
          rd_kafka_producev(rk.get(), RD_KAFKA_V_TOPIC(o.topic.c_str()),
                            RD_KAFKA_V_KEY(v.person.data(), v.person.size()),
                            RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
      if (e == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        rd_kafka_poll(rk.get(), 10);
        continue;
      }
      if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        return Status::Unavailable(std::string("produce: ") + rd_kafka_err2str(e));
      }
      break;
    }
    rd_kafka_poll(rk.get(), 0);
    if ((i + 1) % 100'000 == 0) {
      std::fprintf(stderr, "braid example swa: %lld events\n", static_cast<long long>(i + 1));
    }
  }
  rd_kafka_flush(rk.get(), 60'000);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("produced %llu PageView events to %s in %.1f s (schema id %d), %llu failed%s%s\n",
              static_cast<unsigned long long>(counts.delivered), o.topic.c_str(), secs, schema_id,
              static_cast<unsigned long long>(counts.failed), counts.failed > 0 ? ": " : "",
              counts.last_error.c_str());
  if (counts.failed > 0 || counts.delivered != static_cast<uint64_t>(o.count)) {
    return Status::Unavailable("not every event was delivered");
  }
  return Status::OK();
}

}  // namespace

void AddExampleCommands(CLI::App* root, int* exit_code) {
  CLI::App* example = root->add_subcommand("example", "Example workloads");
  example->require_subcommand(1);
  CLI::App* swa =
      example->add_subcommand("swa", "SuperWebAnalytics.com (examples/superwebanalytics)");
  swa->require_subcommand(1);
  auto o = std::make_shared<SwaOptions>();
  CLI::App* produce = swa->add_subcommand("produce", "Produce realistic PageView traffic");
  produce->add_option("--bootstrap", o->bootstrap, "Kafka bootstrap servers")
      ->capture_default_str();
  produce->add_option("--registry", o->registry, "Schema registry URL")->capture_default_str();
  produce->add_option("--topic", o->topic, "Topic")->capture_default_str();
  produce->add_option("--count", o->count, "Events to produce")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{10'000'000'000}));
  produce->add_option("--rate", o->rate, "Events per second (0: as fast as possible)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e8));
  produce->add_option("--seed", o->seed, "Random seed")->capture_default_str();
  produce->add_option("--late-fraction", o->late_fraction, "Fraction of late events")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  produce->add_option("--start-ms", o->start_ms, "Event time of the first visit (default: now)");
  produce->callback([o, exit_code] {
    Status s = ProduceSwa(*o);
    if (!s.ok()) {
      std::fprintf(stderr, "braid example swa produce: %s\n", s.ToString().c_str());
      *exit_code = 1;
    }
  });
}

}  // namespace braid::cli
