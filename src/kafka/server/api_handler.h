// The extension point of the broker: an ApiHandler answers one Kafka API.
// Broker::RegisterApi(key, handler) installs one; only registered APIs are
// advertised in ApiVersions (with the version range of the protocol table,
// kafka/protocol/api_versions.h). Consumer groups, InitProducerId etc. plug
// in here later without touching the connection code.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "base/log_limiter.h"
#include "base/logging.h"
#include "kafka/protocol/header.h"
#include "kafka/protocol/wire.h"
#include "kafka/server/server.h"

namespace braid::kafka {

struct RequestContext {
  ConnectionInfo conn;
  RequestHeader header;
  int64_t received_us = 0;  // Clock::MonotonicMicros() when the frame arrived
};

// `body` reads the request body (after the header); it is valid only during
// the call. `respond` must be called exactly once, from any thread, now or
// later.
using ApiHandler = std::function<void(const RequestContext& ctx, Reader* body, RespondFn respond)>;

// Encodes `resp` as the response to `ctx` (header version chosen by the
// protocol table) and passes it to `respond`; on an encoding error the
// connection is closed.
template <typename Resp>
void SendResponse(const RequestContext& ctx, const Resp& resp, const RespondFn& respond) {
  auto frame = EncodeResponseFrame(ctx.header.correlation_id, ctx.header.api_version, resp);
  if (!frame.ok()) {
    LOG_ERROR("kafka: cannot encode {} v{} response: {}", static_cast<int>(Resp::kApiKey),
              ctx.header.api_version, frame.status().ToString());
    respond(HandlerResult::Close());
    return;
  }
  HandlerResult result = HandlerResult::Response(std::move(frame).value());
  result.error_code = static_cast<int16_t>(FirstErrorCode(resp));
  respond(std::move(result));
}

// An ApiHandler that decodes `Req`, then calls
//   fn(const RequestContext&, Req&, std::function<void(const Resp&)> reply).
// A body that does not decode closes the connection (Kafka's behaviour).
template <typename Req, typename Resp, typename Fn>
ApiHandler TypedApiHandler(Fn fn) {
  return [fn = std::move(fn)](const RequestContext& ctx, Reader* body, RespondFn respond) {
    Req req;
    Status s = req.Decode(body, ctx.header.api_version);
    if (!s.ok()) {
      WarnClientInput("bad request", ctx.conn.peer,
                      "kafka: closing connection {} ({}): bad {} v{} request: {}", ctx.conn.id,
                      ctx.conn.peer, static_cast<int>(Req::kApiKey), ctx.header.api_version,
                      EscapeForLog(s.ToString()));
      respond(HandlerResult::Close());
      return;
    }
    auto reply = [ctx, respond = std::move(respond)](const Resp& resp) {
      SendResponse(ctx, resp, respond);
    };
    fn(ctx, req, std::function<void(const Resp&)>(std::move(reply)));
  };
}

}  // namespace braid::kafka
