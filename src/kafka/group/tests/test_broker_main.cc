// kafka_group_test_broker DATA_DIR [PORT]: a braid broker with the group APIs
// of this module registered (the wiring of README.md, minus the hooks that
// live inside the server), for trying real Kafka clients against the group
// coordinator before the server integrates it. Prints "port=N" when ready;
// stops on SIGINT/SIGTERM.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include "base/logging.h"
#include "io/file_system.h"
#include "kafka/group/group_broker_wiring.h"

namespace {
volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }
}  // namespace

int main(int argc, char** argv) {
  using namespace braid;  // NOLINT(build/namespaces)
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s DATA_DIR [PORT]\n", argv[0]);
    return 2;
  }
  InitLogging(std::getenv("BRAID_LOG_LEVEL") ? std::getenv("BRAID_LOG_LEVEL") : "info");
  std::string data = argv[1];
  std::string port = argc > 2 ? argv[2] : "0";
  io::FileSystem* fs = io::DefaultFileSystem();

  log::LogOptions lo;
  auto lg = log::Log::Open(io::JoinPath(data, "log"), lo);
  if (!lg.ok()) {
    std::fprintf(stderr, "log: %s\n", lg.status().ToString().c_str());
    return 1;
  }
  kafka::GroupCoordinatorOptions go;
  go.offsets_dir = io::JoinPath(data, "__consumer_offsets");
  if (const char* d = std::getenv("BRAID_GROUP_INITIAL_DELAY_MS")) {
    go.initial_rebalance_delay_ms = std::atoi(d);
  }
  kafka::GroupCoordinator coordinator(fs, SystemClock(), go);
  Status s = coordinator.Open();
  if (!s.ok()) {
    std::fprintf(stderr, "coordinator: %s\n", s.ToString().c_str());
    return 1;
  }
  auto ids = kafka::ProducerIdManager::Open(fs, io::JoinPath(data, "producer_ids"));
  if (!ids.ok()) return 1;

  kafka::BrokerOptions bo;
  bo.listen = "127.0.0.1:" + port;
  kafka::Broker broker(bo, lg->get(), nullptr);
  kafka::GroupHandlers handlers(&coordinator, ids->get(), [&broker] {
    std::string a = broker.advertised_address();
    size_t c = a.rfind(':');
    return kafka::CoordinatorEndpoint{0, a.substr(0, c), std::atoi(a.c_str() + c + 1)};
  });
  kafka::RegisterGroupApis(&broker, &handlers);
  s = broker.Start();
  if (!s.ok()) {
    std::fprintf(stderr, "broker: %s\n", s.ToString().c_str());
    return 1;
  }
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::printf("port=%d\n", broker.port());
  std::fflush(stdout);
  while (!g_stop) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    coordinator.Tick();
  }
  broker.Stop();
  (*lg)->Close().IgnoreError();
  return 0;
}
