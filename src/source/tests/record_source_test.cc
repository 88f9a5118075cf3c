// The same tests run against both RecordSource implementations: braid's log
// in process (LogSource) and librdkafka's mock cluster through KafkaSource
// (a Kafka implementation that is not ours).
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "io/file_system.h"
#include "log/log.h"
#include "log/records.h"
#include "source/kafka_source.h"
#include "source/log_source.h"

namespace braid::source {
namespace {

using std::chrono::milliseconds;

constexpr log::Compression kCodecs[] = {log::Compression::kNone, log::Compression::kGzip,
                                        log::Compression::kSnappy, log::Compression::kLz4,
                                        log::Compression::kZstd};

struct TestRecord {
  std::string key;
  std::string value;
  int64_t timestamp = 0;
  std::vector<log::RecordHeader> headers;
};

// Where the records come from: an in-process log, or a mock Kafka cluster.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual void CreateTopic(const std::string& topic, int partitions) = 0;
  // Appends `records` as one batch (as far as the producer allows) with `codec`.
  virtual void Produce(const std::string& topic, int partition,
                       const std::vector<TestRecord>& records, log::Compression codec) = 0;
  // Appends a transaction: `records` and a commit marker (a control batch).
  // Returns false if this backend writes no control batch.
  virtual bool ProduceCommittedTransaction(const std::string& topic, int partition,
                                           const std::vector<TestRecord>& records) = 0;
  // Makes retention delete every record below at least `offset`; returns the
  // new log start.
  virtual Offset CutBelow(const std::string& topic, int partition, Offset offset) = 0;
  virtual std::unique_ptr<RecordSource> NewSource() = 0;
};

class LogBackend : public Backend {
 public:
  LogBackend() {
    char tmpl[] = "/tmp/braid-source-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    log::LogOptions o;
    o.default_topic_config.segment_bytes = 16 * 1024;  // several segments
    log_ = std::move(log::Log::Open(dir_, o)).value();
  }
  ~LogBackend() override {
    log_->Close().IgnoreError();
    std::system(("rm -rf " + dir_).c_str());
  }
  void CreateTopic(const std::string& topic, int partitions) override {
    ASSERT_TRUE(log_->CreateTopic(topic, partitions).ok());
  }
  void Produce(const std::string& topic, int partition, const std::vector<TestRecord>& records,
               log::Compression codec) override {
    log::BatchBuilderOptions o;
    o.compression = codec;
    Append(topic, partition, records, o);
  }
  bool ProduceCommittedTransaction(const std::string& topic, int partition,
                                   const std::vector<TestRecord>& records) override {
    log::BatchBuilderOptions o;
    o.producer_id = ProducerId(7);
    o.producer_epoch = ProducerEpoch(0);
    o.base_sequence = 0;
    o.transactional = true;
    Append(topic, partition, records, o);
    o.control = true;
    o.base_sequence = -1;
    // A commit marker: key = version 0, type 1 (COMMIT).
    Append(topic, partition, {{std::string("\0\0\0\1", 4), std::string(6, '\0'), 0, {}}}, o);
    return true;
  }
  Offset CutBelow(const std::string& topic, int partition, Offset offset) override {
    auto p = *log_->GetPartition(topic, PartitionId(partition));
    return *p->DeleteRecords(offset);
  }
  std::unique_ptr<RecordSource> NewSource() override {
    return std::make_unique<LogSource>(log_.get());
  }

 private:
  void Append(const std::string& topic, int partition, const std::vector<TestRecord>& records,
              const log::BatchBuilderOptions& o) {
    log::BatchBuilder b(o);
    for (const TestRecord& r : records) b.Add(r.timestamp, r.key, r.value, r.headers);
    auto batch = b.Build();
    ASSERT_TRUE(batch.ok());
    auto p = *log_->GetPartition(topic, PartitionId(partition));
    auto appended = p->Append(*batch);
    ASSERT_TRUE(appended.ok()) << appended.status().ToString();
  }
  std::string dir_;
  std::unique_ptr<log::Log> log_;
};

rd_kafka_t* NewProducer(const std::map<std::string, std::string>& props) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  for (const auto& [k, v] : props) {
    EXPECT_EQ(rd_kafka_conf_set(conf, k.c_str(), v.c_str(), err, sizeof(err)), RD_KAFKA_CONF_OK)
        << k << ": " << err;
  }
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  EXPECT_NE(rk, nullptr) << err;
  return rk;
}

class MockBackend : public Backend {
 public:
  MockBackend() {
    cluster_owner_ = NewProducer({{"test.mock.num.brokers", "1"}});
    mock_ = rd_kafka_handle_mock_cluster(cluster_owner_);
    bootstrap_ = rd_kafka_mock_cluster_bootstraps(mock_);
  }
  ~MockBackend() override {
    for (auto& [codec, p] : producers_) rd_kafka_destroy(p);
    rd_kafka_destroy(cluster_owner_);
  }
  void CreateTopic(const std::string& topic, int partitions) override {
    ASSERT_EQ(rd_kafka_mock_topic_create(mock_, topic.c_str(), partitions, 1),
              RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  void Produce(const std::string& topic, int partition, const std::vector<TestRecord>& records,
               log::Compression codec) override {
    rd_kafka_t* p = ProducerFor(std::string(log::CompressionName(codec)));
    Send(p, topic, partition, records);
    ASSERT_EQ(rd_kafka_flush(p, 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
  }
  bool ProduceCommittedTransaction(const std::string& topic, int partition,
                                   const std::vector<TestRecord>& records) override {
    auto src = NewSource();
    auto before = src->GetWatermarks({topic, PartitionId(partition)});
    rd_kafka_t* p = NewProducer({{"bootstrap.servers", bootstrap_},
                                 {"transactional.id", "source-test"},
                                 {"linger.ms", "0"}});
    bool ok = rd_kafka_error_destroy_ok(rd_kafka_init_transactions(p, 30000)) &&
              rd_kafka_error_destroy_ok(rd_kafka_begin_transaction(p));
    if (ok) {
      Send(p, topic, partition, records);
      ok = rd_kafka_error_destroy_ok(rd_kafka_commit_transaction(p, 30000));
    }
    rd_kafka_destroy(p);
    EXPECT_TRUE(ok);
    // Does the mock write the commit marker? Then the transaction took one
    // offset more than its records.
    auto after = src->GetWatermarks({topic, PartitionId(partition)});
    return ok && before.ok() && after.ok() &&
           after->high_watermark.value() - before->high_watermark.value() >
               static_cast<int64_t>(records.size());
  }
  Offset CutBelow(const std::string& topic, int partition, Offset offset) override {
    // The mock keeps 5 MiB per partition and drops the oldest batches beyond.
    rd_kafka_t* p = ProducerFor("none");
    const std::string filler(400 * 1024, 'f');
    auto src = NewSource();
    for (int i = 0; i < 100; ++i) {
      Send(p, topic, partition, {{"filler", filler, 1, {}}});
      EXPECT_EQ(rd_kafka_flush(p, 30000), RD_KAFKA_RESP_ERR_NO_ERROR);
      auto wm = src->GetWatermarks({topic, PartitionId(partition)});
      if (wm.ok() && wm->log_start >= offset) return wm->log_start;
    }
    ADD_FAILURE() << "the mock cluster never dropped old batches";
    return Offset(0);
  }
  std::unique_ptr<RecordSource> NewSource() override {
    KafkaSourceOptions o;
    o.bootstrap = bootstrap_;
    o.group = "source-test-" + std::to_string(++groups_);
    o.config["fetch.wait.max.ms"] = "20";
    o.config["topic.metadata.refresh.interval.ms"] = "1000";
    // The mock coordinator (librdkafka 2.0) answers a JoinGroup that arrives
    // while the group is syncing or up (a consumer rejoining, which a loaded
    // machine provokes) only after session.timeout.ms - 1 s: 44 s with the
    // default, longer than Drain waits. 6 s keeps a rejoin within 5 s.
    o.config["session.timeout.ms"] = "6000";
    o.config["heartbeat.interval.ms"] = "500";
    return std::move(KafkaSource::Create(o)).value();
  }

 private:
  static bool rd_kafka_error_destroy_ok(rd_kafka_error_t* e) {
    if (e == nullptr) return true;
    ADD_FAILURE() << rd_kafka_error_string(e);
    rd_kafka_error_destroy(e);
    return false;
  }
  rd_kafka_t* ProducerFor(const std::string& codec) {
    rd_kafka_t*& p = producers_[codec];
    if (p == nullptr) {
      p = NewProducer({{"bootstrap.servers", bootstrap_},
                       {"compression.codec", codec},
                       {"linger.ms", "50"},
                       {"message.max.bytes", "2000000"}});
    }
    return p;
  }
  void Send(rd_kafka_t* p, const std::string& topic, int partition,
            const std::vector<TestRecord>& records) {
    for (const TestRecord& r : records) {
      rd_kafka_headers_t* hdrs = rd_kafka_headers_new(r.headers.size());
      for (const log::RecordHeader& h : r.headers) {
        rd_kafka_header_add(hdrs, h.key.data(), static_cast<ssize_t>(h.key.size()),
                            h.value ? h.value->data() : nullptr,
                            h.value ? static_cast<ssize_t>(h.value->size()) : 0);
      }
      rd_kafka_resp_err_t e = rd_kafka_producev(
          p, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(partition),
          RD_KAFKA_V_KEY(r.key.data(), r.key.size()),
          RD_KAFKA_V_VALUE(const_cast<char*>(r.value.data()), r.value.size()),
          RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_TIMESTAMP(r.timestamp),
          RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_END);
      ASSERT_EQ(e, RD_KAFKA_RESP_ERR_NO_ERROR) << rd_kafka_err2str(e);
    }
  }
  rd_kafka_t* cluster_owner_ = nullptr;
  rd_kafka_mock_cluster_t* mock_ = nullptr;
  std::string bootstrap_;
  std::map<std::string, rd_kafka_t*> producers_;
  int groups_ = 0;
};

std::vector<TestRecord> Records(int n, const std::string& tag, int64_t ts0) {
  std::vector<TestRecord> out;
  for (int i = 0; i < n; ++i) {
    TestRecord r;
    r.key = std::string("k").append(std::to_string(i));
    r.value = std::string(tag).append("-").append(std::to_string(i));
    r.timestamp = ts0 + i;
    if (i % 3 == 0) r.headers.push_back({"h", std::string("v").append(std::to_string(i))});
    out.push_back(std::move(r));
  }
  return out;
}

struct Got {
  int64_t offset;
  int64_t timestamp;
  std::string key;
  std::string value;
  size_t headers;
};

// Polls until `want` records arrived (or an error/timeout), collecting them.
std::vector<Got> Drain(RecordSource* src, size_t want, PartitionRecords* last_error = nullptr,
                       Offset* next = nullptr) {
  std::vector<Got> got;
  PollOptions po;
  po.timeout = milliseconds(200);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (got.size() < want && std::chrono::steady_clock::now() < deadline) {
    bool error = false;
    auto n = src->Poll(po, [&](const PartitionRecords& pr) {
      if (!pr.error.ok()) {
        if (last_error != nullptr) {
          last_error->error = pr.error;
          last_error->log_start = pr.log_start;
        }
        error = true;
        return Status::OK();
      }
      for (const log::RecordView& r : pr.records) {
        got.push_back({r.offset.value(), r.timestamp, std::string(r.key.value_or("")),
                       std::string(r.value.value_or("")), r.headers.size()});
      }
      if (next != nullptr) *next = pr.next_offset;
      return Status::OK();
    });
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    if (!n.ok() || error) break;
  }
  return got;
}

enum class Kind { kLog, kMock };

class RecordSourceTest : public ::testing::TestWithParam<Kind> {
 protected:
  void SetUp() override {
#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
    if (GetParam() == Kind::kMock) GTEST_SKIP() << "librdkafka mock cluster under TSan";
#endif
#endif
    if (GetParam() == Kind::kLog) {
      backend_ = std::make_unique<LogBackend>();
    } else {
      backend_ = std::make_unique<MockBackend>();
    }
  }
  std::unique_ptr<Backend> backend_;
};

TEST_P(RecordSourceTest, ReadsFromAnOffsetInsideABatchWithEveryCodec) {
  backend_->CreateTopic("codecs", 1);
  int64_t base = 0;
  for (log::Compression c : kCodecs) {
    SCOPED_TRACE(std::string(log::CompressionName(c)));
    backend_->Produce("codecs", 0, Records(10, std::string(log::CompressionName(c)), 1000), c);
    auto src = backend_->NewSource();
    ASSERT_TRUE(src->Assign({{{"codecs", PartitionId(0)}, Offset(base + 4)}}).ok());
    std::vector<Got> got = Drain(src.get(), 6);
    ASSERT_EQ(got.size(), 6u);
    for (int i = 0; i < 6; ++i) {
      EXPECT_EQ(got[i].offset, base + 4 + i);
      EXPECT_EQ(got[i].key, std::string("k").append(std::to_string(4 + i)));
      EXPECT_EQ(got[i].value, std::string(log::CompressionName(c)) + "-" + std::to_string(4 + i));
      EXPECT_EQ(got[i].timestamp, 1004 + i);
      EXPECT_EQ(got[i].headers, (4 + i) % 3 == 0 ? 1u : 0u);
    }
    base += 10;
  }
}

TEST_P(RecordSourceTest, ReadsAcrossBatchesAndSegmentsInOrder) {
  backend_->CreateTopic("many", 2);
  for (int b = 0; b < 40; ++b) {
    std::vector<TestRecord> recs = Records(20, std::string("b").append(std::to_string(b)), b * 100);
    for (auto& r : recs) r.value.append(200, 'x');
    // Runs of compressed batches (whose records live in a decompression
    // buffer) among plain ones.
    backend_->Produce("many", b % 2, recs,
                      b % 8 < 4 ? log::Compression::kLz4 : log::Compression::kNone);
  }
  auto src = backend_->NewSource();
  ASSERT_TRUE(
      src->Assign({{{"many", PartitionId(0)}, Offset(-1)}, {{"many", PartitionId(1)}, Offset(0)}})
          .ok());
  PollOptions po;
  po.timeout = milliseconds(200);
  po.max_bytes_per_partition = 8 * 1024;  // forces many reads
  std::map<int, std::vector<int64_t>> offsets;
  std::map<int, std::vector<std::string>> values;
  size_t total = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (total < 800 && std::chrono::steady_clock::now() < deadline) {
    auto n = src->Poll(po, [&](const PartitionRecords& pr) {
      EXPECT_TRUE(pr.error.ok());
      for (const auto& r : pr.records) {
        offsets[pr.partition->partition.value()].push_back(r.offset.value());
        values[pr.partition->partition.value()].push_back(std::string(r.value.value_or("")));
      }
      if (!pr.records.empty()) {
        EXPECT_EQ(pr.next_offset.value(), pr.records.back().offset.value() + 1);
      }
      return Status::OK();
    });
    ASSERT_TRUE(n.ok());
    total += *n;
  }
  ASSERT_EQ(total, 800u);
  for (int p = 0; p < 2; ++p) {
    ASSERT_EQ(offsets[p].size(), 400u);
    for (int i = 0; i < 400; ++i) {
      EXPECT_EQ(offsets[p][i], i);
      // Batch b (of this partition: b = 2 * (i / 20) + p) record i % 20.
      EXPECT_EQ(values[p][i], std::string("b")
                                  .append(std::to_string(2 * (i / 20) + p))
                                  .append("-")
                                  .append(std::to_string(i % 20))
                                  .append(200, 'x'));
    }
  }
}

TEST_P(RecordSourceTest, RetentionCutIsReportedAndSeekResumes) {
  backend_->CreateTopic("cut", 1);
  for (int b = 0; b < 5; ++b) {
    backend_->Produce("cut", 0, Records(10, "r", 1), log::Compression::kNone);
  }
  const Offset start = backend_->CutBelow("cut", 0, Offset(20));
  ASSERT_GE(start.value(), 20);
  auto src = backend_->NewSource();
  auto wm = src->GetWatermarks({"cut", PartitionId(0)});
  ASSERT_TRUE(wm.ok());
  EXPECT_EQ(wm->log_start, start);
  ASSERT_TRUE(src->Assign({{{"cut", PartitionId(0)}, Offset(5)}}).ok());
  PartitionRecords err;
  std::vector<Got> got = Drain(src.get(), 1, &err);
  EXPECT_TRUE(got.empty());
  EXPECT_EQ(err.error.code(), StatusCode::kOutOfRange) << err.error.ToString();
  EXPECT_EQ(err.log_start, start);
  ASSERT_TRUE(src->Seek({"cut", PartitionId(0)}, err.log_start).ok());
  got = Drain(src.get(), 1);
  ASSERT_FALSE(got.empty());
  EXPECT_EQ(got[0].offset, start.value());
}

TEST_P(RecordSourceTest, ControlBatchesAreSkipped) {
  backend_->CreateTopic("txn", 1);
  backend_->Produce("txn", 0, Records(3, "before", 1), log::Compression::kNone);
  if (!backend_->ProduceCommittedTransaction("txn", 0, Records(2, "txn", 10))) {
    GTEST_SKIP() << "this backend writes no transaction markers";
  }
  backend_->Produce("txn", 0, Records(2, "after", 20), log::Compression::kNone);
  auto src = backend_->NewSource();
  ASSERT_TRUE(src->Assign({{{"txn", PartitionId(0)}, Offset(0)}}).ok());
  Offset next;
  std::vector<Got> got = Drain(src.get(), 7, nullptr, &next);
  ASSERT_EQ(got.size(), 7u);
  std::vector<std::string> values;
  for (const Got& g : got) values.push_back(g.value);
  EXPECT_EQ(values, (std::vector<std::string>{"before-0", "before-1", "before-2", "txn-0", "txn-1",
                                              "after-0", "after-1"}));
  // The marker took offset 5: the records after it are at 6 and 7.
  EXPECT_EQ(got[5].offset, 6);
  EXPECT_EQ(next, Offset(8));
}

TEST_P(RecordSourceTest, WaitsForDataThatArrivesLater) {
  backend_->CreateTopic("later", 1);
  backend_->Produce("later", 0, Records(2, "old", 1), log::Compression::kNone);
  auto src = backend_->NewSource();
  ASSERT_TRUE(src->Assign({{{"later", PartitionId(0)}, Offset(2)}}).ok());
  // Nothing there yet: a short poll returns empty.
  PollOptions po;
  po.timeout = milliseconds(100);
  auto n = src->Poll(po, [](const PartitionRecords&) { return Status::OK(); });
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
  std::thread producer([&] {
    std::this_thread::sleep_for(milliseconds(300));
    backend_->Produce("later", 0, Records(1, "new", 5), log::Compression::kNone);
  });
  po.timeout = milliseconds(8000);
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::string> got;
  while (got.empty() && std::chrono::steady_clock::now() - t0 < std::chrono::seconds(8)) {
    n = src->Poll(po, [&](const PartitionRecords& pr) {
      for (const auto& r : pr.records) got.push_back(std::string(*r.value));
      return Status::OK();
    });
    ASSERT_TRUE(n.ok());
  }
  const auto waited = std::chrono::steady_clock::now() - t0;
  producer.join();
  EXPECT_EQ(got, (std::vector<std::string>{"new-0"}));
  EXPECT_LT(waited, std::chrono::seconds(5)) << "the new record was not delivered promptly";
}

TEST_P(RecordSourceTest, WakeupEndsAPoll) {
  backend_->CreateTopic("idle", 1);
  auto src = backend_->NewSource();
  ASSERT_TRUE(src->Assign({{{"idle", PartitionId(0)}, Offset(0)}}).ok());
  std::thread waker([&] {
    std::this_thread::sleep_for(milliseconds(200));
    src->Wakeup();
  });
  PollOptions po;
  po.timeout = milliseconds(20000);
  const auto t0 = std::chrono::steady_clock::now();
  auto n = src->Poll(po, [](const PartitionRecords&) { return Status::OK(); });
  waker.join();
  ASSERT_TRUE(n.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
}

// Subscribe: the listener learns the assigned partitions and picks the
// offsets; Close() revokes them.
class RecordingListener : public RebalanceListener {
 public:
  std::vector<Offset> OnAssigned(const std::vector<TopicPartition>& partitions) override {
    std::vector<Offset> out;
    for (const auto& tp : partitions) {
      assigned.push_back(tp);
      out.push_back(Offset(tp.partition.value()));  // start partition p at offset p
    }
    return out;
  }
  void OnRevoked(const std::vector<TopicPartition>& partitions) override {
    revoked.insert(revoked.end(), partitions.begin(), partitions.end());
  }
  std::vector<TopicPartition> assigned, revoked;
};

TEST_P(RecordSourceTest, SubscribeAssignsEveryPartitionThroughTheListener) {
  backend_->CreateTopic("sub", 3);
  for (int p = 0; p < 3; ++p) {
    backend_->Produce("sub", p, Records(4, std::string("p").append(std::to_string(p)), 1),
                      log::Compression::kNone);
  }
  RecordingListener listener;
  auto src = backend_->NewSource();
  ASSERT_TRUE(src->Subscribe({"sub"}, &listener).ok());
  std::vector<Got> got = Drain(src.get(), 4 + 3 + 2);
  EXPECT_EQ(got.size(), 9u);  // partition p from offset p
  EXPECT_EQ(listener.assigned.size(), 3u);
  src->Close();
  EXPECT_EQ(listener.revoked.size(), 3u);
}

INSTANTIATE_TEST_SUITE_P(BothSources, RecordSourceTest, ::testing::Values(Kind::kLog, Kind::kMock),
                         [](const ::testing::TestParamInfo<Kind>& info) {
                           return info.param == Kind::kLog ? "InProcessLog" : "LibrdkafkaMock";
                         });

}  // namespace
}  // namespace braid::source
