// WebSocket (RFC 6455): frame codec, the strand-side engine, the
// application's handle, and the HTTP/1.1 protocol that carries it after
// the 101. HTTP/2 streams (RFC 8441) use the same engine from
// http2_session.cpp.
#include "server/detail/websocket.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <cstring>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

namespace huginn::server::detail {
namespace {

// RFC 6455 §1.3.
constexpr std::string_view kWebSocketGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
// How long a sent close frame waits for the peer's (RFC 6455 §7.1.1 lets
// the server close the TCP connection once it is satisfied).
constexpr std::chrono::milliseconds kCloseWait{1000};
// Control frames (pongs) a peer may have queued beyond the text bound
// (max_stream_queue_bytes): past it HTTP/1.1 stops reading and pings go
// unanswered.
constexpr std::size_t kControlBacklog = 64 * 1024;
// §5.5.1: a close payload is at most 125 bytes, 2 of them the code.
constexpr std::size_t kMaxCloseReason = 123;

bool is_control(WsOpcode op) { return (static_cast<std::uint8_t>(op) & 0x8) != 0; }

std::string base64(const unsigned char* data, std::size_t n) {
  std::string out(4 * ((n + 2) / 3), '\0');
  const int len = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data,
                                  static_cast<int>(n));
  out.resize(static_cast<std::size_t>(std::max(len, 0)));
  return out;
}

}  // namespace

WsHeaderResult parse_ws_frame_header(std::string_view in) {
  WsHeaderResult r;
  auto error = [&r](const char* why) {
    r.kind = WsHeaderResult::Kind::kError;
    r.error_code = WebSocket::kProtocolError;
    r.error = why;
    return r;
  };
  if (in.size() < 2) return r;
  const auto b0 = static_cast<std::uint8_t>(in[0]);
  const auto b1 = static_cast<std::uint8_t>(in[1]);
  if ((b0 & 0x70) != 0) return error("reserved bits set");
  const std::uint8_t op = b0 & 0x0F;
  if (op > 0xA || (op > 0x2 && op < 0x8)) return error("reserved opcode");
  if ((b1 & 0x80) == 0) return error("client frames must be masked");
  WsFrameHeader& h = r.header;
  h.fin = (b0 & 0x80) != 0;
  h.opcode = static_cast<WsOpcode>(op);
  std::size_t pos = 2;
  std::uint64_t len = b1 & 0x7F;
  if (len == 126) {
    if (in.size() < 4) return r;
    len = (std::uint64_t{static_cast<std::uint8_t>(in[2])} << 8) | static_cast<std::uint8_t>(in[3]);
    // §5.2: "the minimal number of bytes MUST be used to encode the length".
    if (len < 126) return error("frame length not in minimal form");
    pos = 4;
  } else if (len == 127) {
    if (in.size() < 10) return r;
    len = 0;
    for (std::size_t i = 2; i < 10; ++i) len = (len << 8) | static_cast<std::uint8_t>(in[i]);
    if ((len >> 63) != 0) return error("frame length has its top bit set");
    if (len <= 0xFFFF) return error("frame length not in minimal form");
    pos = 10;
  }
  if (is_control(h.opcode) && (!h.fin || len > 125))
    return error("control frames must be unfragmented and at most 125 bytes");
  if (in.size() < pos + 4) return r;
  for (std::size_t i = 0; i < 4; ++i) h.mask[i] = static_cast<std::uint8_t>(in[pos + i]);
  h.header_bytes = pos + 4;
  h.payload_bytes = len;
  r.kind = WsHeaderResult::Kind::kFrame;
  return r;
}

void append_ws_frame(std::string& out, WsOpcode op, std::string_view payload) {
  out.push_back(static_cast<char>(0x80 | static_cast<std::uint8_t>(op)));
  const std::size_t n = payload.size();
  if (n < 126) {
    out.push_back(static_cast<char>(n));
  } else if (n <= 0xFFFF) {
    out.push_back(static_cast<char>(126));
    out.push_back(static_cast<char>(n >> 8));
    out.push_back(static_cast<char>(n & 0xFF));
  } else {
    out.push_back(static_cast<char>(127));
    for (int shift = 56; shift >= 0; shift -= 8)
      out.push_back(static_cast<char>((static_cast<std::uint64_t>(n) >> shift) & 0xFF));
  }
  out.append(payload);
}

bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    const auto c = static_cast<std::uint8_t>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    std::uint32_t cp = 0;
    std::uint32_t min = 0;
    if ((c & 0xE0) == 0xC0) {
      len = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, cp = c & 0x07, min = 0x10000;
    } else {
      return false;
    }
    if (n - i < len) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<std::uint8_t>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

bool valid_websocket_key(std::string_view key) {
  // 16 bytes are 24 base64 characters ending in "==" (RFC 4648 §4).
  if (key.size() != 24 || !key.ends_with("==")) return false;
  return std::all_of(key.begin(), key.end() - 2, [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '+' || c == '/';
  });
}

std::string websocket_accept(std::string_view key) {
  std::string in(key);
  in += kWebSocketGuid;
  std::array<unsigned char, SHA_DIGEST_LENGTH> digest{};
  SHA1(reinterpret_cast<const unsigned char*>(in.data()), in.size(), digest.data());
  return base64(digest.data(), digest.size());
}

bool valid_close_code(std::uint16_t code) {
  // §7.4.1/§7.4.2: 1004-1006 and 1015 are reserved, never sent; 1012-1014
  // are registered with IANA since; 3000-4999 belong to libraries and apps.
  if (code >= 3000 && code <= 4999) return true;
  if (code < 1000 || code > 1014) return false;
  return code != 1004 && code != 1005 && code != 1006;
}

// --- WsShared -------------------------------------------------------------

void WsShared::set_on_message(std::function<void(std::string_view)> cb) {
  auto p = std::make_shared<const std::function<void(std::string_view)>>(std::move(cb));
  std::lock_guard l(mu_);
  on_message_ = std::move(p);
}

void WsShared::deliver(std::string_view text) {
  std::shared_ptr<const std::function<void(std::string_view)>> cb;
  {
    std::lock_guard l(mu_);
    cb = on_message_;
  }
  if (cb && *cb) (*cb)(text);
}

void WsShared::set_on_close(std::function<void()> cb) { ended_.set_on_close(std::move(cb)); }

void WsShared::fire_close() {
  closing = true;
  if (ended_.closed.exchange(true)) return;
  {
    // Releases what the application's callbacks hold (often the WebSocket).
    std::lock_guard l(mu_);
    on_message_.reset();
  }
  ended_.close();
  if (exchange_) exchange_->close();
}

// --- WsEngine -------------------------------------------------------------

WsEngine::WsEngine(Connection& conn, std::shared_ptr<WsShared> shared, std::function<void()> wake)
    : conn_(conn),
      shared_(std::move(shared)),
      wake_(std::move(wake)),
      timer_(conn.strand()),
      last_rx_(std::chrono::steady_clock::now()) {
  shared_->engine = this;
}

WsEngine::~WsEngine() {
  shared_->engine = nullptr;
  shared_->fire_close();
}

void WsEngine::start() { arm(conn_.limits().ws_ping_interval); }

void WsEngine::arm(std::chrono::steady_clock::duration d) {
  const std::uint64_t epoch = ++timer_epoch_;
  timer_.expires_after(d);
  timer_.async_wait([weak = weak_from_this(), epoch](const boost::system::error_code& ec) {
    auto self = weak.lock();
    if (ec || !self || epoch != self->timer_epoch_ || self->finished_) return;
    self->on_timer();
  });
}

void WsEngine::on_timer() {
  const auto now = std::chrono::steady_clock::now();
  if (close_sent_) {
    finish();  // the peer did not answer our close in time
    return;
  }
  if (awaiting_pong_) {
    spdlog::debug("websocket on connection {}: no pong, dropped", conn_.info().id);
    finish();
    return;
  }
  const auto interval = conn_.limits().ws_ping_interval;
  const auto idle = now - last_rx_;
  if (idle < interval) {
    arm(interval - idle);
    return;
  }
  // RFC 6455 §5.5.2: a ping; any input before the deadline proves the peer.
  queue_frame(WsOpcode::kPing, "huginn");
  awaiting_pong_ = true;
  arm(conn_.limits().idle_timeout);
  wake_();
}

void WsEngine::on_bytes(std::string_view bytes) {
  if (finished_) return;
  last_rx_ = std::chrono::steady_clock::now();
  awaiting_pong_ = false;
  // The unread payload of a refused frame goes by without being stored.
  const std::size_t skipped = std::min<std::uint64_t>(skip_, bytes.size());
  skip_ -= skipped;
  bytes.remove_prefix(skipped);
  in_.append(bytes);
  const std::size_t max = conn_.limits().ws_max_message_bytes;
  std::size_t off = 0;
  while (!finished_) {
    const std::string_view rest(in_.data() + off, in_.size() - off);
    const WsHeaderResult r = parse_ws_frame_header(rest);
    if (r.kind == WsHeaderResult::Kind::kNeedMore) break;
    if (r.kind == WsHeaderResult::Kind::kError) {
      // §7.1.7 "Fail the WebSocket Connection": after a framing error the
      // stream cannot be parsed further, so the peer's answer is not awaited.
      spdlog::debug("websocket on connection {}: {}", conn_.info().id, r.error);
      close(r.error_code, r.error);
      finish();
      break;
    }
    const WsFrameHeader& h = r.header;
    // Refused from the header alone, before the payload is buffered.
    bool drop = discarding_ && h.opcode != WsOpcode::kClose;
    if (!drop && h.opcode == WsOpcode::kBinary) {
      fail(WebSocket::kUnsupportedData, "binary messages are not accepted");
      drop = true;
    } else if (!drop && !is_control(h.opcode) &&
               h.payload_bytes > max - std::min(max, message_.size())) {
      fail(WebSocket::kMessageTooBig, "message exceeds the server's limit");
      drop = true;
    }
    const std::size_t avail = rest.size() - h.header_bytes;
    if (drop) {
      if (h.payload_bytes > avail) {
        skip_ = h.payload_bytes - avail;
        off = in_.size();
        break;
      }
      off += h.header_bytes + static_cast<std::size_t>(h.payload_bytes);
      continue;
    }
    const auto payload = static_cast<std::size_t>(h.payload_bytes);
    if (avail < payload) break;
    std::string data(rest.substr(h.header_bytes, payload));
    for (std::size_t i = 0; i < data.size(); ++i) {
      data[i] = static_cast<char>(static_cast<std::uint8_t>(data[i]) ^ h.mask[i & 3]);
    }
    off += h.header_bytes + payload;
    handle_frame(h, data);
  }
  if (finished_) std::string().swap(in_);
  else in_.erase(0, off);
}

void WsEngine::handle_frame(const WsFrameHeader& h, std::string_view payload) {
  switch (h.opcode) {
    case WsOpcode::kText:
    case WsOpcode::kContinuation: {
      // §5.4: a new message may not start inside a fragmented one, and a
      // continuation needs one to continue.
      const bool first = h.opcode == WsOpcode::kText;
      if (first == in_message_) {
        fail(WebSocket::kProtocolError, first ? "expected a continuation frame"
                                              : "continuation without a message");
        return;
      }
      in_message_ = !h.fin;
      message_.append(payload);
      if (!h.fin) return;
      std::string text;
      text.swap(message_);
      if (!valid_utf8(text)) {
        fail(WebSocket::kInvalidPayload, "text message is not UTF-8");
        return;
      }
      if (!close_sent_) shared_->deliver(text);
      return;
    }
    case WsOpcode::kPing:
      // §5.5.3: a pong with the ping's payload, unless we are closing. A
      // peer that pings without reading gets no more pongs past the
      // backlog (§5.5.3 allows answering only the latest ping), so the
      // output stays bounded over HTTP/2 too, where reading goes on.
      if (!close_sent_ && output_size() < conn_.limits().max_stream_queue_bytes + kControlBacklog) {
        queue_frame(WsOpcode::kPong, payload);
        wake_();
      }
      return;
    case WsOpcode::kPong:
      return;  // liveness was noted in on_bytes
    case WsOpcode::kClose:
      handle_close(payload);
      return;
    case WsOpcode::kBinary:
      return;  // refused in on_bytes
  }
}

void WsEngine::handle_close(std::string_view payload) {
  discarding_ = true;
  // §5.5.1: empty, or a 2-byte code and a UTF-8 reason.
  std::uint16_t code = 0;
  bool ok = payload.size() != 1;
  if (ok && payload.size() >= 2) {
    code = static_cast<std::uint16_t>((static_cast<std::uint8_t>(payload[0]) << 8) |
                                      static_cast<std::uint8_t>(payload[1]));
    ok = valid_close_code(code) && valid_utf8(payload.substr(2));
  }
  if (close_sent_) {
    finish();
    return;
  }
  // §5.5.1: answer with a close; echoing the peer's code is customary.
  if (!ok) close(WebSocket::kProtocolError, "malformed close frame");
  else close(code == 0 ? WebSocket::kNormal : code, "");
  finish();
}

void WsEngine::fail(std::uint16_t code, const char* reason) {
  spdlog::debug("websocket on connection {}: closing with {}: {}", conn_.info().id, code, reason);
  // The frames stay parseable: later data is dropped unread while the
  // peer's close is awaited (at most kCloseWait), so that it reads our
  // close frame instead of a reset.
  discarding_ = true;
  in_message_ = false;
  std::string().swap(message_);
  close(code, reason);
}

void WsEngine::send_texts(std::vector<std::string> texts) {
  if (texts.empty()) return;
  for (const std::string& text : texts) {
    const std::size_t n = text.size();
    if (close_sent_ || finished_) {
      shared_->pending.fetch_sub(std::min(n, shared_->pending.load()));
      continue;
    }
    queue_frame(WsOpcode::kText, text);
    marks_.emplace_back(out_total_, n);
  }
  wake_();
}

void WsEngine::close(std::uint16_t code, std::string_view reason) {
  shared_->closing = true;
  if (close_sent_ || finished_) return;
  close_sent_ = true;
  std::string payload;
  if (valid_close_code(code)) {
    payload.push_back(static_cast<char>(code >> 8));
    payload.push_back(static_cast<char>(code & 0xFF));
    std::string_view r = reason.substr(0, kMaxCloseReason);
    // Never cut inside a UTF-8 sequence.
    while (!r.empty() && !valid_utf8(r)) r.remove_suffix(1);
    payload.append(r);
  }
  queue_frame(WsOpcode::kClose, payload);
  arm(kCloseWait);
  wake_();
}

void WsEngine::finish() {
  if (finished_) return;
  finished_ = true;
  ++timer_epoch_;
  timer_.cancel();
  shared_->fire_close();
  wake_();
}

void WsEngine::end_of_input() { finish(); }

void WsEngine::abort() {
  if (!finished_) {
    finished_ = true;
    ++timer_epoch_;
    timer_.cancel();
  }
  shared_->fire_close();
}

void WsEngine::queue_frame(WsOpcode op, std::string_view payload) {
  const std::size_t before = out_.size();
  append_ws_frame(out_, op, payload);
  out_total_ += out_.size() - before;
}

void WsEngine::consumed(std::size_t n) {
  out_off_ += n;
  out_taken_ += n;
  while (!marks_.empty() && marks_.front().first <= out_taken_) {
    const std::size_t p = marks_.front().second;
    shared_->pending.fetch_sub(std::min(p, shared_->pending.load()));
    marks_.pop_front();
  }
  if (out_off_ == out_.size()) {
    out_.clear();
    out_off_ = 0;
  } else if (out_off_ > 64 * 1024 && out_off_ >= out_.size() / 2) {
    out_.erase(0, out_off_);
    out_off_ = 0;
  }
}

void WsEngine::take_output(std::string& out, std::size_t max) {
  const std::size_t n = std::min(output_size(), max - std::min(max, out.size()));
  out.append(out_, out_off_, n);
  consumed(n);
}

std::size_t WsEngine::read_output(std::uint8_t* buf, std::size_t len) {
  const std::size_t n = std::min(output_size(), len);
  std::memcpy(buf, out_.data() + out_off_, n);
  consumed(n);
  return n;
}

// --- WsHandle -------------------------------------------------------------

bool WsHandle::send_text(std::string text) {
  if (shared_->closing || !valid_utf8(text)) return false;
  const std::size_t n = text.size();
  const std::size_t before = shared_->pending.fetch_add(n);
  if (before + n > shared_->limit) {
    shared_->pending.fetch_sub(n);
    return false;
  }
  const bool first = shared_->inbox.put(
      [&text](std::vector<std::string>& batch) { batch.push_back(std::move(text)); });
  if (!first) return true;  // the drain already posted takes it along
  const auto unqueue = [](WsShared& sh, const std::vector<std::string>& batch) {
    std::size_t bytes = 0;
    for (const std::string& t : batch) bytes += t.size();
    sh.pending.fetch_sub(std::min(bytes, sh.pending.load()));
  };
  const bool posted = post_to_strand(*ctx_, conn_, [sh = shared_, unqueue](Connection& c) {
    std::vector<std::string> batch = sh->inbox.take();
    if (sh->engine != nullptr) {
      sh->engine->send_texts(std::move(batch));
      c.kick_write();
    } else {
      unqueue(*sh, batch);
    }
  });
  if (!posted) {
    unqueue(*shared_, shared_->inbox.take());
    return false;
  }
  return true;
}

void WsHandle::close(std::uint16_t code, std::string reason) {
  if (shared_->closing.exchange(true)) return;
  const bool posted = post_to_strand(*ctx_, conn_, [sh = shared_, code, r = std::move(reason)](Connection& c) {
    if (sh->engine != nullptr) {
      sh->engine->close(code, r);
      c.kick_write();
    }
  });
  if (!posted) shared_->fire_close();
}

void WsHandle::on_message(std::function<void(std::string_view text)> callback) {
  shared_->set_on_message(std::move(callback));
}

void WsHandle::on_close(std::function<void()> callback) { shared_->set_on_close(std::move(callback)); }

bool WsHandle::is_open() const { return !shared_->closing; }

// --- HTTP/1.1 after the 101 -----------------------------------------------

namespace {

class WsHttp1Session final : public Protocol {
 public:
  WsHttp1Session(Connection& c, std::string preamble, std::shared_ptr<WsShared> shared)
      : conn_(c), preamble_(std::move(preamble)) {
    engine_ = std::make_shared<WsEngine>(c, std::move(shared), [this] {
      // Inside on_bytes or begin_shutdown the connection writes right after.
      if (!defer_write_) conn_.kick_write();
    });
  }
  ~WsHttp1Session() override { engine_->abort(); }
  WsHttp1Session(const WsHttp1Session&) = delete;
  WsHttp1Session& operator=(const WsHttp1Session&) = delete;

  void activated() override {
    // The WebSocket keep-alive replaces the request/idle deadlines.
    conn_.clear_deadline();
    engine_->start();
  }
  void on_bytes(std::string_view bytes) override {
    defer_write_ = true;
    engine_->on_bytes(bytes);
    defer_write_ = false;
  }
  void produce(std::string& out, std::size_t max) override {
    out += preamble_;
    std::string().swap(preamble_);
    engine_->take_output(out, max);
  }
  [[nodiscard]] bool done() const override {
    return engine_->finished() && preamble_.empty() && engine_->output_size() == 0;
  }
  [[nodiscard]] bool want_read() const override {
    return !engine_->finished() && engine_->output_size() < kControlBacklog + conn_.limits().max_stream_queue_bytes;
  }
  void begin_shutdown() override {
    defer_write_ = true;  // the connection writes right after
    engine_->close(WebSocket::kGoingAway, "server shutting down");
    defer_write_ = false;
  }
  void abort() override { engine_->abort(); }

  void send(std::int32_t, Response) override {}
  void start_stream(std::int32_t, int, Headers) override {}
  void write(std::int32_t, std::string) override {}
  void finish(std::int32_t) override {}
  void push(std::int32_t, std::string, Response) override {}

 private:
  Connection& conn_;
  std::string preamble_;
  std::shared_ptr<WsEngine> engine_;
  bool defer_write_ = false;
};

}  // namespace

std::unique_ptr<Protocol> make_websocket_http1(Connection& c, std::string preamble,
                                               std::shared_ptr<WsShared> shared) {
  return std::make_unique<WsHttp1Session>(c, std::move(preamble), std::move(shared));
}

}  // namespace huginn::server::detail
