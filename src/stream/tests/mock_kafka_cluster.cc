// braid_mock_kafka: librdkafka's mock cluster (a Kafka implementation that is
// not braid's) as a process, for integration tests that run several `braid
// speed --kafka` processes against it.
//
//   braid_mock_kafka [--brokers N] [--topic NAME:PARTITIONS]...
//
// Prints "bootstrap HOST:PORT,..." on stdout once the cluster serves, then
// runs until its stdin closes or it gets SIGTERM/SIGINT.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace {
volatile sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }
}  // namespace

int main(int argc, char** argv) {
  std::string brokers = "1";
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  int i = 1;
  for (; i + 1 < argc && std::string(argv[i]) == "--brokers"; i += 2) brokers = argv[i + 1];
  if (rd_kafka_conf_set(conf, "test.mock.num.brokers", brokers.c_str(), err, sizeof(err)) !=
      RD_KAFKA_CONF_OK) {
    std::fprintf(stderr, "%s\n", err);
    return 2;
  }
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
  if (rk == nullptr) {
    std::fprintf(stderr, "%s\n", err);
    return 1;
  }
  rd_kafka_mock_cluster_t* mock = rd_kafka_handle_mock_cluster(rk);
  for (; i + 1 < argc; i += 2) {
    if (std::string(argv[i]) != "--topic") {
      std::fprintf(stderr, "usage: braid_mock_kafka [--brokers N] [--topic NAME:PARTITIONS]...\n");
      return 2;
    }
    const std::string spec = argv[i + 1];
    const size_t colon = spec.rfind(':');
    const std::string name = spec.substr(0, colon);
    const int parts = colon == std::string::npos ? 1 : std::atoi(spec.c_str() + colon + 1);
    if (rd_kafka_mock_topic_create(mock, name.c_str(), parts, 1) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::fprintf(stderr, "cannot create topic %s\n", name.c_str());
      return 1;
    }
  }
  signal(SIGTERM, OnSignal);
  signal(SIGINT, OnSignal);
  std::printf("bootstrap %s\n", rd_kafka_mock_cluster_bootstraps(mock));
  std::fflush(stdout);
  while (!g_stop) {
    pollfd p{0, POLLIN, 0};
    if (poll(&p, 1, 200) > 0) {
      char buf[256];
      if (read(0, buf, sizeof(buf)) <= 0) break;  // stdin closed
    }
  }
  rd_kafka_destroy(rk);
  return 0;
}
