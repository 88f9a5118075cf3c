// The log's read and write path through a real Kafka client: librdkafka
// producers and consumers against a broker (braid, --bootstrap) or against
// librdkafka's in-memory mock cluster (--mock, rd_kafka_mock, created inside
// this process), with the same client code and settings. bench/log/run.py
// runs both side by side; see docs/benchmarks.md "Log read path".
//
//   log_bench (--bootstrap HOST:PORT | --mock) --mode throughput|latency
//             [--partitions 1] [--clients 1] [--records 1000000] [--size 100]
//             [--compression none|lz4] [--acks 1|all] [--rate 100000]
//             [--seconds 3] [--fetch-wait-ms 100] [--queue default|large]
//             [--window 0] [--debug fetch] [--consumer-set key=value ...]
//
// throughput: the producers (--clients of them, --records in all, spread
//   round robin over the partitions) write into a fresh topic, acks per
//   --acks; then the consumers (--clients, each assign()ing every
//   --clients-th partition from the beginning) read every record back.
//   The mock keeps only the last 5 MiB of each partition, so the consumers
//   read what the broker retains in passes until --records were delivered;
//   with --window W each pass reads only the last W records of each
//   partition (the same work per pass for braid and the mock). The consume
//   time is the sum over passes of assign() to the last delivered record
//   (use --fetch-wait-ms 0, so that the fetch left waiting at the end of a
//   pass does not delay the next pass's first fetch).
//   Prints {"produce_rps", "consume_rps", ...}.
// latency: the producers send --rate records/s in all for --seconds (after
//   a 0.5 s warm-up that is not counted), each record carrying its send time;
//   the consumers, already waiting at the end of the log, note the time from
//   the produce call to their delivery. Prints p50/p99/p99.9/max in ms.
//
// Consumer settings: --queue large sets queued.min.messages=10000000 and
// queued.max.messages.kbytes=2097151 so that librdkafka's pre-fetch queue
// never fills during the run: with the defaults (100000 messages, 64 MiB) a
// consumer that fetches faster than the application drains stops fetching
// for a fixed second once the queue is over the threshold (librdkafka issue
// #2879), which measures the client's back-off, not the broker.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Options {
  std::string bootstrap;
  bool mock = false;
  std::string mode = "throughput";
  std::string topic;
  int partitions = 1;
  int clients = 1;
  int64_t records = 1000000;
  int size = 100;
  std::string compression = "none";
  std::string acks = "1";
  double rate = 100000;
  double seconds = 3;
  int fetch_wait_ms = 100;
  std::string queue = "large";
  std::string debug;                                              // librdkafka debug contexts
  std::vector<std::pair<std::string, std::string>> consumer_set;  // --consumer-set key=value
  int64_t window = 0;  // > 0: each consume pass reads only the last `window` records per partition
};

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "log_bench: %s\n", what.c_str());
  std::exit(1);
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void Set(rd_kafka_conf_t* conf, const char* key, const std::string& value) {
  char err[512];
  if (rd_kafka_conf_set(conf, key, value.c_str(), err, sizeof(err)) != RD_KAFKA_CONF_OK) {
    Die(std::string(key) + ": " + err);
  }
}

rd_kafka_t* NewClient(rd_kafka_type_t type, rd_kafka_conf_t* conf) {
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof(err));
  if (rk == nullptr) Die(std::string("rd_kafka_new: ") + err);
  return rk;
}

std::atomic<int64_t> g_delivered{0};
std::atomic<int64_t> g_failed{0};

void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void*) {
  if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (g_failed.fetch_add(1) == 0) {
      std::fprintf(stderr, "log_bench: delivery failed: %s\n", rd_kafka_err2str(m->err));
    }
  } else {
    g_delivered.fetch_add(1, std::memory_order_relaxed);
  }
}

rd_kafka_t* NewProducer(const Options& o, int linger_ms) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  Set(conf, "bootstrap.servers", o.bootstrap);
  Set(conf, "linger.ms", std::to_string(linger_ms));
  Set(conf, "batch.num.messages", "10000");
  Set(conf, "batch.size", "1000000");
  Set(conf, "queue.buffering.max.messages", "2000000");
  Set(conf, "queue.buffering.max.kbytes", "2097151");
  Set(conf, "compression.codec", o.compression);
  Set(conf, "acks", o.acks);
  if (!o.debug.empty()) Set(conf, "debug", o.debug);
  rd_kafka_conf_set_dr_msg_cb(conf, OnDelivery);
  return NewClient(RD_KAFKA_PRODUCER, conf);
}

rd_kafka_t* NewConsumer(const Options& o, int index) {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  Set(conf, "bootstrap.servers", o.bootstrap);
  Set(conf, "group.id", "log-bench-" + std::to_string(index));
  Set(conf, "enable.auto.commit", "false");
  Set(conf, "enable.partition.eof", "false");
  Set(conf, "fetch.wait.max.ms", std::to_string(o.fetch_wait_ms));
  if (o.queue == "large") {
    Set(conf, "queued.min.messages", "10000000");
    Set(conf, "queued.max.messages.kbytes", "2097151");
  } else if (o.queue != "default") {
    Die("--queue is default or large");
  }
  if (!o.debug.empty()) Set(conf, "debug", o.debug);
  for (const auto& [k, v] : o.consumer_set) Set(conf, k.c_str(), v);
  rd_kafka_t* rk = NewClient(RD_KAFKA_CONSUMER, conf);
  rd_kafka_poll_set_consumer(rk);
  return rk;
}

// Partitions p with p % clients == index, from `offset`.
void Assign(rd_kafka_t* rk, const Options& o, int index, int64_t offset) {
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(o.partitions);
  for (int p = index; p < o.partitions; p += o.clients) {
    rd_kafka_topic_partition_list_add(parts, o.topic.c_str(), p)->offset = offset;
  }
  rd_kafka_resp_err_t err = rd_kafka_assign(rk, parts);
  rd_kafka_topic_partition_list_destroy(parts);
  if (err) Die(std::string("assign: ") + rd_kafka_err2str(err));
}

void CreateTopic(const Options& o, rd_kafka_mock_cluster_t* mock) {
  if (mock != nullptr) {
    if (rd_kafka_mock_topic_create(mock, o.topic.c_str(), o.partitions, 1)) {
      Die("mock topic create failed");
    }
    return;
  }
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  Set(conf, "bootstrap.servers", o.bootstrap);
  rd_kafka_t* rk = NewClient(RD_KAFKA_PRODUCER, conf);
  char err[512];
  rd_kafka_NewTopic_t* nt =
      rd_kafka_NewTopic_new(o.topic.c_str(), o.partitions, 1, err, sizeof(err));
  if (nt == nullptr) Die(err);
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  rd_kafka_CreateTopics(rk, &nt, 1, nullptr, q);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 30000);
  if (ev == nullptr) Die("CreateTopics timed out");
  const rd_kafka_CreateTopics_result_t* res = rd_kafka_event_CreateTopics_result(ev);
  size_t n = 0;
  const rd_kafka_topic_result_t** tr = rd_kafka_CreateTopics_result_topics(res, &n);
  if (rd_kafka_event_error(ev)) Die(rd_kafka_event_error_string(ev));
  if (n != 1 || rd_kafka_topic_result_error(tr[0])) {
    Die(std::string("CreateTopics: ") + (n ? rd_kafka_topic_result_error_string(tr[0]) : "?"));
  }
  rd_kafka_event_destroy(ev);
  rd_kafka_NewTopic_destroy(nt);
  rd_kafka_queue_destroy(q);
  rd_kafka_destroy(rk);
}

// Connects a client and loads the topic's metadata before anything is
// timed: a client that starts fetching or producing before it knows the
// partition leaders waits for librdkafka's retry timers (500 ms for the
// consumer's offset query, up to 1 s for a producer's unknown topic),
// which would be measured as broker time.
void WarmUp(rd_kafka_t* rk, const Options& o) {
  int64_t lo = 0, hi = 0;
  rd_kafka_resp_err_t err =
      rd_kafka_query_watermark_offsets(rk, o.topic.c_str(), 0, &lo, &hi, 30000);
  if (err) Die(std::string("warm-up: ") + rd_kafka_err2str(err));
}

// Produces `count` records of o.size bytes, partition = (k * clients + index)
// % partitions for the k-th record; the first 8 bytes of each value are its
// send time (ns, steady clock) when `stamp`. Paced to `rate` records/s when
// rate > 0 (in 1 ms steps), until `stop_ns` when > 0.
void ProduceLoop(rd_kafka_t* rk, const Options& o, int index, int64_t count, double rate,
                 int64_t stop_ns, bool stamp) {
  std::string value(static_cast<size_t>(o.size), 'x');
  for (size_t i = 0; i < value.size(); ++i) value[i] = static_cast<char>('a' + (i * 7) % 26);
  const int64_t start = NowNs();
  int64_t sent = 0;
  while (count < 0 || sent < count) {
    if (rate > 0) {
      const int64_t now = NowNs();
      if (stop_ns > 0 && now >= stop_ns) break;
      const auto due = static_cast<int64_t>(static_cast<double>(now - start) * rate / 1e9);
      if (sent >= due) {
        rd_kafka_poll(rk, 0);
        std::this_thread::sleep_for(std::chrono::microseconds(500));
        continue;
      }
    }
    if (stamp) {
      const int64_t t = NowNs();
      std::memcpy(value.data(), &t, sizeof(t));
    }
    const int32_t partition =
        static_cast<int32_t>((sent * o.clients + index) % static_cast<int64_t>(o.partitions));
    rd_kafka_resp_err_t err;
    while (true) {
      err =
          rd_kafka_producev(rk, RD_KAFKA_V_TOPIC(o.topic.c_str()), RD_KAFKA_V_PARTITION(partition),
                            RD_KAFKA_V_VALUE(value.data(), value.size()),
                            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
      if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) break;
      rd_kafka_poll(rk, 1);
    }
    if (err) Die(std::string("produce: ") + rd_kafka_err2str(err));
    ++sent;
    if ((sent & 1023) == 0) rd_kafka_poll(rk, 0);
  }
}

void FlushAll(rd_kafka_t* rk) {
  while (rd_kafka_outq_len(rk) > 0) rd_kafka_flush(rk, 1000);
}

// Waits up to timeout_ms for one message, then takes what else is queued
// without waiting (rd_kafka_consume_batch_queue alone would wait for the
// whole batch or the timeout). Returns the count in msgs.
ssize_t Consume(rd_kafka_queue_t* q, int timeout_ms, std::vector<rd_kafka_message_t*>& msgs) {
  rd_kafka_message_t* first = rd_kafka_consume_queue(q, timeout_ms);
  if (first == nullptr) return 0;
  msgs[0] = first;
  ssize_t n = rd_kafka_consume_batch_queue(q, 0, msgs.data() + 1, msgs.size() - 1);
  return n < 0 ? 1 : n + 1;
}

double Percentile(const std::vector<int64_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  size_t i = static_cast<size_t>(q * static_cast<double>(sorted.size() - 1) + 0.5);
  return static_cast<double>(sorted[std::min(i, sorted.size() - 1)]) / 1e6;
}

int RunThroughput(const Options& o) {
  // Produce.
  g_delivered = 0;
  std::vector<rd_kafka_t*> producers;
  for (int c = 0; c < o.clients; ++c) {
    producers.push_back(NewProducer(o, 5));
    WarmUp(producers.back(), o);
  }
  const int64_t t0 = NowNs();
  {
    std::vector<std::thread> threads;
    for (int c = 0; c < o.clients; ++c) {
      const int64_t n = o.records / o.clients + (c < o.records % o.clients ? 1 : 0);
      threads.emplace_back([&, c, n] {
        ProduceLoop(producers[static_cast<size_t>(c)], o, c, n, 0, 0, false);
        FlushAll(producers[static_cast<size_t>(c)]);
      });
    }
    for (auto& t : threads) t.join();
  }
  const double produce_s = static_cast<double>(NowNs() - t0) / 1e9;
  for (rd_kafka_t* p : producers) rd_kafka_destroy(p);
  if (g_failed.load() > 0 || g_delivered.load() != o.records) {
    Die("produced " + std::to_string(g_delivered.load()) + " of " + std::to_string(o.records));
  }
  // Consume: every retained record of every partition, from its log start
  // offset, in passes until `records` were read. braid keeps them all (one
  // pass); the mock keeps only the last 5 MiB of a partition (librdkafka's
  // rd_kafka_mock_partition_t max_size), so it is read several times over.
  std::vector<rd_kafka_t*> consumers;
  for (int c = 0; c < o.clients; ++c) {
    consumers.push_back(NewConsumer(o, c));
    WarmUp(consumers.back(), o);
  }
  std::vector<int64_t> low(static_cast<size_t>(o.partitions)), high(low.size());
  int64_t retained = 0;
  for (int p = 0; p < o.partitions; ++p) {
    rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
        consumers[0], o.topic.c_str(), p, &low[static_cast<size_t>(p)],
        &high[static_cast<size_t>(p)], 30000);
    if (err) Die(std::string("watermarks: ") + rd_kafka_err2str(err));
    if (o.window > 0) {
      low[static_cast<size_t>(p)] =
          std::max(low[static_cast<size_t>(p)], high[static_cast<size_t>(p)] - o.window);
    }
    retained += high[static_cast<size_t>(p)] - low[static_cast<size_t>(p)];
  }
  if (retained <= 0) Die("nothing retained");
  const int64_t passes = (o.records + retained - 1) / retained;
  std::atomic<int64_t> consumed{0};
  std::atomic<int64_t> bytes{0};
  // Per consumer: the time from each pass's assign() to its last record,
  // summed (what happens between passes is not counted).
  std::vector<int64_t> busy_ns(static_cast<size_t>(o.clients), 0);
  const int64_t t1 = NowNs();
  const int64_t give_up = t1 + 300'000'000'000LL;
  {
    std::vector<std::thread> threads;
    for (int c = 0; c < o.clients; ++c) {
      threads.emplace_back([&, c] {
        rd_kafka_t* rk = consumers[static_cast<size_t>(c)];
        rd_kafka_queue_t* q = rd_kafka_queue_get_consumer(rk);
        std::vector<rd_kafka_message_t*> msgs(10000);
        for (int64_t pass = 0; pass < passes && NowNs() < give_up; ++pass) {
          rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(o.partitions);
          int open = 0;
          std::vector<bool> done(static_cast<size_t>(o.partitions), true);
          for (int p = c; p < o.partitions; p += o.clients) {
            const auto i = static_cast<size_t>(p);
            if (high[i] <= low[i]) continue;
            rd_kafka_topic_partition_list_add(parts, o.topic.c_str(), p)->offset = low[i];
            done[i] = false;
            ++open;
          }
          const int64_t pass_start = NowNs();
          if (pass > 0) rd_kafka_assign(rk, nullptr);
          rd_kafka_resp_err_t err = rd_kafka_assign(rk, parts);
          rd_kafka_topic_partition_list_destroy(parts);
          if (err) Die(std::string("assign: ") + rd_kafka_err2str(err));
          int64_t last_ns = pass_start;
          while (open > 0 && NowNs() < give_up) {
            ssize_t n = Consume(q, 100, msgs);
            if (n > 0) last_ns = NowNs();
            int64_t ok = 0, b = 0;
            for (ssize_t i = 0; i < n; ++i) {
              rd_kafka_message_t* m = msgs[static_cast<size_t>(i)];
              if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR && m->partition >= 0 &&
                  m->partition < o.partitions && !done[static_cast<size_t>(m->partition)]) {
                ++ok;
                b += static_cast<int64_t>(m->len);
                const auto pi = static_cast<size_t>(m->partition);
                if (m->offset >= high[pi] - 1) {
                  done[pi] = true;
                  --open;
                }
              }
              rd_kafka_message_destroy(m);
            }
            consumed.fetch_add(ok, std::memory_order_relaxed);
            bytes.fetch_add(b, std::memory_order_relaxed);
          }
          busy_ns[static_cast<size_t>(c)] += last_ns - pass_start;
        }
        rd_kafka_queue_destroy(q);
      });
    }
    for (auto& t : threads) t.join();
  }
  const double consume_wall_s = static_cast<double>(NowNs() - t1) / 1e9;
  const double consume_s =
      static_cast<double>(std::max<int64_t>(1, *std::max_element(busy_ns.begin(), busy_ns.end()))) /
      1e9;
  for (rd_kafka_t* c : consumers) {
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
  }
  if (consumed.load() < passes * retained) {
    Die("consumed " + std::to_string(consumed.load()) + " of " + std::to_string(passes * retained));
  }
  std::printf(
      "{\"mode\": \"throughput\", \"records\": %" PRId64 ", \"retained\": %" PRId64
      ", \"passes\": %" PRId64 ", \"consumed\": %" PRId64
      ", \"produce_s\": %.4f, \"produce_rps\": %.0f, \"consume_s\": %.4f, \"consume_rps\": %.0f, "
      "\"consume_mbps\": %.1f, \"consume_wall_s\": %.4f}\n",
      o.records, retained, passes, consumed.load(), produce_s,
      static_cast<double>(o.records) / produce_s, consume_s,
      static_cast<double>(consumed.load()) / consume_s,
      static_cast<double>(bytes.load()) / consume_s / 1e6, consume_wall_s);
  return 0;
}

int RunLatency(const Options& o) {
  if (o.size < 8) Die("--size must be at least 8 for latency");
  // Consumers first, at the end of the (empty) log.
  std::vector<rd_kafka_t*> consumers;
  for (int c = 0; c < o.clients; ++c) {
    consumers.push_back(NewConsumer(o, c));
    WarmUp(consumers.back(), o);
    Assign(consumers.back(), o, c, RD_KAFKA_OFFSET_END);
  }
  std::vector<std::vector<int64_t>> lat(static_cast<size_t>(o.clients));
  std::atomic<bool> stop{false};
  std::atomic<int64_t> received{0};
  const int64_t warm_ns = 500'000'000;
  // Set before the first record is sent; records sent earlier are warm-up.
  std::atomic<int64_t> start_ns{std::numeric_limits<int64_t>::max() / 2};
  std::vector<std::thread> threads;
  std::atomic<int> ready{0};
  for (int c = 0; c < o.clients; ++c) {
    threads.emplace_back([&, c] {
      rd_kafka_t* rk = consumers[static_cast<size_t>(c)];
      rd_kafka_queue_t* q = rd_kafka_queue_get_consumer(rk);
      std::vector<rd_kafka_message_t*> msgs(10000);
      auto& mine = lat[static_cast<size_t>(c)];
      mine.reserve(static_cast<size_t>(o.rate * o.seconds / o.clients * 1.2) + 1024);
      // Let the assignment take effect (a first empty fetch).
      for (ssize_t i = Consume(q, 200, msgs); i > 0; --i) {
        rd_kafka_message_destroy(msgs[static_cast<size_t>(i - 1)]);
      }
      ready.fetch_add(1);
      while (!stop.load()) {
        ssize_t n = Consume(q, 50, msgs);
        const int64_t now = NowNs();
        for (ssize_t i = 0; i < n; ++i) {
          rd_kafka_message_t* m = msgs[static_cast<size_t>(i)];
          if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR && m->len >= 8) {
            int64_t sent;
            std::memcpy(&sent, m->payload, sizeof(sent));
            if (sent >= start_ns.load(std::memory_order_relaxed) + warm_ns)
              mine.push_back(now - sent);
            received.fetch_add(1, std::memory_order_relaxed);
          }
          rd_kafka_message_destroy(m);
        }
      }
      rd_kafka_queue_destroy(q);
    });
  }
  while (ready.load() < o.clients) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  g_delivered = 0;
  std::vector<rd_kafka_t*> producers;
  for (int c = 0; c < o.clients; ++c) {
    producers.push_back(NewProducer(o, 1));
    WarmUp(producers.back(), o);
  }
  start_ns = NowNs();
  const int64_t stop_ns = start_ns.load() + warm_ns + static_cast<int64_t>(o.seconds * 1e9);
  std::vector<std::thread> pthreads;
  for (int c = 0; c < o.clients; ++c) {
    pthreads.emplace_back([&, c] {
      ProduceLoop(producers[static_cast<size_t>(c)], o, c, -1, o.rate / o.clients, stop_ns, true);
      FlushAll(producers[static_cast<size_t>(c)]);
    });
  }
  for (auto& t : pthreads) t.join();
  const double actual_s = static_cast<double>(NowNs() - start_ns.load()) / 1e9;
  const int64_t sent = g_delivered.load();
  // Wait for the consumers to receive what was sent (bounded).
  const int64_t drain_until = NowNs() + 10'000'000'000LL;
  while (received.load() < sent && NowNs() < drain_until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  stop = true;
  for (auto& t : threads) t.join();
  for (rd_kafka_t* p : producers) rd_kafka_destroy(p);
  for (rd_kafka_t* c : consumers) {
    rd_kafka_consumer_close(c);
    rd_kafka_destroy(c);
  }
  std::vector<int64_t> all;
  for (auto& v : lat) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  std::printf("{\"mode\": \"latency\", \"rate\": %.0f, \"achieved_rps\": %.0f, \"sent\": %" PRId64
              ", \"received\": %" PRId64
              ", \"measured\": %zu, \"p50_ms\": %.3f, "
              "\"p99_ms\": %.3f, \"p999_ms\": %.3f, \"max_ms\": %.3f}\n",
              o.rate, static_cast<double>(sent) / actual_s, sent, received.load(), all.size(),
              Percentile(all, 0.5), Percentile(all, 0.99), Percentile(all, 0.999),
              all.empty() ? 0.0 : static_cast<double>(all.back()) / 1e6);
  // Fewer received than sent: the mock dropped records that the consumer
  // had not read yet (it keeps 5 MiB per partition); reported, not fatal.
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Die("missing value for " + a);
      return argv[++i];
    };
    if (a == "--bootstrap") {
      o.bootstrap = next();
    } else if (a == "--mock") {
      o.mock = true;
    } else if (a == "--mode") {
      o.mode = next();
    } else if (a == "--topic") {
      o.topic = next();
    } else if (a == "--partitions") {
      o.partitions = std::atoi(next().c_str());
    } else if (a == "--clients") {
      o.clients = std::atoi(next().c_str());
    } else if (a == "--records") {
      o.records = std::atoll(next().c_str());
    } else if (a == "--size") {
      o.size = std::atoi(next().c_str());
    } else if (a == "--compression") {
      o.compression = next();
    } else if (a == "--acks") {
      o.acks = next();
    } else if (a == "--rate") {
      o.rate = std::atof(next().c_str());
    } else if (a == "--seconds") {
      o.seconds = std::atof(next().c_str());
    } else if (a == "--fetch-wait-ms") {
      o.fetch_wait_ms = std::atoi(next().c_str());
    } else if (a == "--consumer-set") {
      std::string kv = next();
      const size_t eq = kv.find('=');
      if (eq == std::string::npos) Die("--consumer-set takes key=value");
      o.consumer_set.emplace_back(kv.substr(0, eq), kv.substr(eq + 1));
    } else if (a == "--window") {
      o.window = std::atoll(next().c_str());
    } else if (a == "--debug") {
      o.debug = next();
    } else if (a == "--queue") {
      o.queue = next();
    } else {
      Die("unknown argument " + a);
    }
  }
  if (o.partitions < 1 || o.clients < 1 || o.records < 1 || o.size < 1) Die("bad sizes");
  if (o.mock != o.bootstrap.empty()) Die("give exactly one of --bootstrap and --mock");
  if (o.topic.empty()) o.topic = "log-bench-" + std::to_string(NowNs() % 1000000000);
  rd_kafka_t* mock_owner = nullptr;
  rd_kafka_mock_cluster_t* mock = nullptr;
  if (o.mock) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    Set(conf, "log_level", "3");
    mock_owner = NewClient(RD_KAFKA_PRODUCER, conf);
    mock = rd_kafka_mock_cluster_new(mock_owner, 1);
    if (mock == nullptr) Die("rd_kafka_mock_cluster_new failed");
    o.bootstrap = rd_kafka_mock_cluster_bootstraps(mock);
  }
  CreateTopic(o, mock);
  int rc = 0;
  if (o.mode == "throughput") {
    rc = RunThroughput(o);
  } else if (o.mode == "latency") {
    rc = RunLatency(o);
  } else {
    Die("--mode is throughput or latency");
  }
  std::fflush(stdout);
  if (mock != nullptr) {
    rd_kafka_mock_cluster_destroy(mock);
    rd_kafka_destroy(mock_owner);
  }
  return rc;
}
