// A blocking Kafka client over a real socket for the broker's unit tests:
// sends request frames, reads response frames, decodes them.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "kafka/protocol/header.h"
#include "kafka/protocol/messages.h"

namespace braid::kafka {

class TestClient {
 public:
  // rcvbuf > 0: SO_RCVBUF of the socket (a slow reader for tests).
  explicit TestClient(int port, int rcvbuf = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (rcvbuf > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  }
  ~TestClient() { ::close(fd_); }

  void SendRaw(const std::string& bytes) {
    ASSERT_EQ(::write(fd_, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  }

  template <typename Req>
  void Send(int16_t version, const Req& req) {
    auto frame = EncodeRequestFrame(++corr_, version, std::string("test"), req);
    ASSERT_TRUE(frame.ok()) << frame.status().ToString();
    SendRaw(*frame);
  }

  // Reads one frame (without size); empty on EOF.
  std::string ReadFrame() {
    std::string size_buf = ReadN(4);
    if (size_buf.size() < 4) return "";
    uint32_t n = (uint32_t(uint8_t(size_buf[0])) << 24) | (uint32_t(uint8_t(size_buf[1])) << 16) |
                 (uint32_t(uint8_t(size_buf[2])) << 8) | uint32_t(uint8_t(size_buf[3]));
    return ReadN(n);
  }

  template <typename Resp>
  Resp Receive(int16_t version, int32_t* correlation = nullptr) {
    std::string frame = ReadFrame();
    Reader r(frame);
    int32_t corr = 0;
    EXPECT_TRUE(DecodeResponseHeader(
                    &r, ResponseHeaderVersion(static_cast<int16_t>(Resp::kApiKey), version), &corr)
                    .ok());
    if (correlation != nullptr) *correlation = corr;
    Resp resp;
    Status s = resp.Decode(&r, version);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return resp;
  }

  template <typename Resp, typename Req>
  Resp Call(int16_t version, const Req& req) {
    Send(version, req);
    return Receive<Resp>(version);
  }

  bool AtEof() {
    char c;
    return ::read(fd_, &c, 1) <= 0;
  }

 private:
  std::string ReadN(size_t n) {
    std::string out(n, '\0');
    size_t got = 0;
    while (got < n) {
      ssize_t k = ::read(fd_, out.data() + got, n - got);
      if (k <= 0) return out.substr(0, got);
      got += static_cast<size_t>(k);
    }
    return out;
  }
  int fd_ = -1;
  int32_t corr_ = 0;
};

}  // namespace braid::kafka
