// ExchangeWriter: the thread-safe face of one exchange. Checks that need an
// answer now (closed, queue limit) use the atomics in StreamState; the work
// itself is posted to the connection's strand.
#include <algorithm>

#include <boost/asio/post.hpp>

#include "server/detail/connection.hpp"
#include "server/detail/websocket.hpp"

namespace huginn::server::detail {

ExchangeWriter::ExchangeWriter(std::weak_ptr<Connection> conn, std::shared_ptr<ServerContext> ctx,
                               std::uint64_t generation, std::int32_t key,
                               std::shared_ptr<StreamState> state,
                               std::shared_ptr<std::atomic<bool>> push_enabled,
                               std::size_t queue_limit)
    : conn_(std::move(conn)),
      ctx_(std::move(ctx)),
      generation_(generation),
      key_(key),
      state_(std::move(state)),
      push_enabled_(std::move(push_enabled)),
      queue_limit_(queue_limit) {}

template <class Fn>
bool ExchangeWriter::post(Fn fn) {
  return post_to_strand(*ctx_, conn_, [gen = generation_, fn = std::move(fn)](Connection& c) mutable {
    if (Protocol* p = c.protocol_for(gen)) {
      fn(*p);
      c.kick_write();
    }
  });
}

bool ExchangeWriter::send(Response response) {
  if (state_->closed || state_->answered.exchange(true)) return false;
  state_->finished = true;
  return post([key = key_, r = std::move(response)](Protocol& p) mutable {
    p.send(key, std::move(r));
  });
}

bool ExchangeWriter::start_stream(int status, Headers headers) {
  if (state_->closed || state_->answered.exchange(true)) return false;
  state_->streaming = true;
  return post([key = key_, status, h = std::move(headers)](Protocol& p) mutable {
    p.start_stream(key, status, std::move(h));
  });
}

bool ExchangeWriter::write(std::string chunk) {
  if (state_->closed || !state_->streaming || state_->finished) return false;
  const std::size_t n = chunk.size();
  const std::size_t before = state_->pending.fetch_add(n);
  if (before + n > queue_limit_) {
    state_->pending.fetch_sub(n);
    return false;
  }
  const bool first = state_->inbox.put([&chunk](std::string& batch) {
    if (batch.empty()) batch = std::move(chunk);
    else batch += chunk;
  });
  if (!first) return true;  // the drain already posted takes it along
  if (!post([key = key_, state = state_](Protocol& p) {
        std::string batch = state->inbox.take();
        if (!batch.empty()) p.write(key, std::move(batch));
      })) {
    // The connection is gone: nothing queued will be sent.
    const std::string dropped = state_->inbox.take();
    state_->pending.fetch_sub(std::min(dropped.size(), state_->pending.load()));
    return false;
  }
  return true;
}

void ExchangeWriter::finish() {
  if (state_->closed || !state_->streaming || state_->finished.exchange(true)) return;
  post([key = key_](Protocol& p) { p.finish(key); });
}

void ExchangeWriter::on_close(std::function<void()> callback) {
  state_->set_on_close(std::move(callback));
}

bool ExchangeWriter::push_enabled() const {
  return push_enabled_ && push_enabled_->load() && !state_->closed;
}

bool ExchangeWriter::push(std::string path, Response response) {
  // Browsers refuse pushes today (Chrome removed HTTP/2 push in 106, Firefox
  // in 132); only nghttp, libcurl and our own clients accept them.
  if (!push_enabled() || state_->finished || path.empty() || path[0] != '/') return false;
  return post([key = key_, path = std::move(path), r = std::move(response)](Protocol& p) mutable {
    p.push(key, std::move(path), std::move(r));
  });
}

std::shared_ptr<WebSocket> ExchangeWriter::accept_websocket(Headers extra) {
  if (!websocket_offer_ || state_->closed || state_->answered.exchange(true)) return nullptr;
  state_->finished = true;
  auto shared = std::make_shared<WsShared>(queue_limit_, state_);
  auto ws = std::make_shared<WsHandle>(conn_, ctx_, shared);
  // Whatever stops the accept from reaching the protocol (connection gone,
  // a stale protocol) still ends the WebSocket, so on_close runs once.
  const bool posted = post_to_strand(
      *ctx_, conn_, [gen = generation_, key = key_, extra = std::move(extra), shared](Connection& c) mutable {
        Protocol* p = c.protocol_for(gen);
        if (p == nullptr) {
          shared->fire_close();
          return;
        }
        p->accept_websocket(key, std::move(extra), shared);
        c.adopt_next_protocol();
        c.kick_write();
        c.resume_read();
      });
  if (!posted) shared->fire_close();
  return ws;
}

void Protocol::accept_websocket(std::int32_t, Headers, std::shared_ptr<WsShared> shared) {
  shared->fire_close();
}

}  // namespace huginn::server::detail
