#pragma once
// WebSocket (RFC 6455) for both transports: the frame codec, the per-socket
// engine that runs on the connection's strand, and the thread-safe handle
// the application holds. Over HTTP/1.1 the engine owns the connection's
// byte stream after the 101; over HTTP/2 (RFC 8441) it owns one stream's
// DATA. One codec serves both, so the rules below hold for either.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/steady_timer.hpp>

#include "server/detail/connection.hpp"

namespace huginn::server::detail {

// RFC 6455 §5.2 opcodes.
enum class WsOpcode : std::uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

struct WsFrameHeader {
  bool fin = false;
  WsOpcode opcode = WsOpcode::kText;
  std::size_t header_bytes = 0;  // 2..14, mask key included
  std::uint64_t payload_bytes = 0;
  std::uint8_t mask[4] = {0, 0, 0, 0};
};

// Outcome of reading one client frame header.
struct WsHeaderResult {
  enum class Kind { kNeedMore, kFrame, kError } kind = Kind::kNeedMore;
  WsFrameHeader header;
  std::uint16_t error_code = 0;  // close code for kError
  const char* error = "";        // close reason for kError
};

// Parses a client-to-server frame header (RFC 6455 §5.2) from `in`.
// Errors (1002): reserved bits set (no extension is negotiated, §5.2),
// reserved opcode, unmasked frame (§5.1: clients always mask), control
// frame fragmented or over 125 bytes (§5.5), 64-bit length with its most
// significant bit set, a length not in the shortest form (§5.2).
WsHeaderResult parse_ws_frame_header(std::string_view in);

// One unmasked server frame (§5.1: servers never mask), FIN set.
void append_ws_frame(std::string& out, WsOpcode op, std::string_view payload);

// RFC 3629 UTF-8: no overlongs, no surrogates, nothing past U+10FFFF.
bool valid_utf8(std::string_view s);

// §4.2.1 item 5: a base64 value that decodes to exactly 16 bytes.
bool valid_websocket_key(std::string_view key);
// §4.2.2 item 5.4: base64(SHA-1(key + the RFC's GUID)).
std::string websocket_accept(std::string_view key);
// §7.4: close codes an endpoint may put on the wire.
bool valid_close_code(std::uint16_t code);

// What the handle and the engine share. The atomics and the callbacks are
// safe from any thread; `engine` is touched only on the connection's strand.
class WsEngine;
struct WsShared {
  WsShared(std::size_t queue_limit, std::shared_ptr<StreamState> exchange)
      : limit(queue_limit), exchange_(std::move(exchange)) {}

  const std::size_t limit;
  std::atomic<bool> closing{false};    // close() called or engine finished: no more sends
  std::atomic<std::size_t> pending{0}; // text payload bytes queued, not yet taken by the peer
  WsEngine* engine = nullptr;          // strand only; null before accept and after the end
  Inbox<std::vector<std::string>> inbox;  // send_text() messages not yet given to the engine

  void set_on_message(std::function<void(std::string_view)> cb);
  void deliver(std::string_view text);
  void set_on_close(std::function<void()> cb);
  // Once: marks closing, runs on_close, then ends the HTTP exchange.
  void fire_close();

 private:
  std::mutex mu_;
  std::shared_ptr<const std::function<void(std::string_view)>> on_message_;
  StreamState ended_;  // the WebSocket's own once-only on_close
  std::shared_ptr<StreamState> exchange_;
};

// The WebSocket state machine of one socket or stream; strand only.
// Input: on_bytes(). Output: take_output() / read_output() pull the bytes
// to send; `wake` tells the owner that output or the end is ready.
class WsEngine : public std::enable_shared_from_this<WsEngine> {
 public:
  WsEngine(Connection& conn, std::shared_ptr<WsShared> shared, std::function<void()> wake);
  ~WsEngine();
  WsEngine(const WsEngine&) = delete;
  WsEngine& operator=(const WsEngine&) = delete;

  // Arms the keep-alive timer; the transport is ready.
  void start();
  void on_bytes(std::string_view bytes);
  // Queues one text frame per message and wakes the owner once.
  void send_texts(std::vector<std::string> texts);
  void close(std::uint16_t code, std::string_view reason);
  // The peer can send no more (HTTP/2 END_STREAM): our side ends too.
  void end_of_input();
  // The transport is gone.
  void abort();

  void take_output(std::string& out, std::size_t max);
  std::size_t read_output(std::uint8_t* buf, std::size_t len);
  [[nodiscard]] std::size_t output_size() const { return out_.size() - out_off_; }
  // Closing handshake done (or given up): nothing more will be produced.
  [[nodiscard]] bool finished() const { return finished_; }

 private:
  void fail(std::uint16_t code, const char* reason);
  void handle_frame(const WsFrameHeader& h, std::string_view payload);
  void handle_close(std::string_view payload);
  void finish();
  void arm(std::chrono::steady_clock::duration d);
  void on_timer();
  void queue_frame(WsOpcode op, std::string_view payload);
  void consumed(std::size_t n);

  Connection& conn_;
  std::shared_ptr<WsShared> shared_;
  std::function<void()> wake_;
  boost::asio::steady_timer timer_;
  std::uint64_t timer_epoch_ = 0;
  std::string in_;
  std::string message_;
  bool in_message_ = false;
  bool discarding_ = false;    // close received or error sent: data frames are dropped
  std::uint64_t skip_ = 0;     // payload bytes of a dropped frame still to come
  bool close_sent_ = false;
  bool finished_ = false;
  bool awaiting_pong_ = false;
  std::chrono::steady_clock::time_point last_rx_;
  std::string out_;
  std::size_t out_off_ = 0;
  std::uint64_t out_total_ = 0;       // bytes ever appended to out_
  std::uint64_t out_taken_ = 0;       // bytes ever taken from out_
  // (end offset in out_total_ terms, payload bytes) per queued text frame,
  // so `pending` drops when a frame has been taken completely.
  std::deque<std::pair<std::uint64_t, std::size_t>> marks_;
};

// The application's WebSocket: posts every call to the strand.
class WsHandle final : public WebSocket {
 public:
  WsHandle(std::weak_ptr<Connection> conn, std::shared_ptr<ServerContext> ctx,
           std::shared_ptr<WsShared> shared)
      : conn_(std::move(conn)), ctx_(std::move(ctx)), shared_(std::move(shared)) {}
  bool send_text(std::string text) override;
  void close(std::uint16_t code, std::string reason) override;
  void on_message(std::function<void(std::string_view text)> callback) override;
  void on_close(std::function<void()> callback) override;
  [[nodiscard]] bool is_open() const override;

 private:
  std::weak_ptr<Connection> conn_;
  std::shared_ptr<ServerContext> ctx_;
  std::shared_ptr<WsShared> shared_;
};

// HTTP/1.1 after the 101: the engine owns the connection. `preamble` is the
// 101 response head.
std::unique_ptr<Protocol> make_websocket_http1(Connection& c, std::string preamble,
                                               std::shared_ptr<WsShared> shared);

}  // namespace huginn::server::detail
