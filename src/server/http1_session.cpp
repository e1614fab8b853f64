// HTTP/1.1 (RFC 9112) on one connection: Beast's parser reads requests
// (header and body limits enforced by it), responses are serialized here.
// One exchange at a time; bytes a pipelining client sends meanwhile wait in
// a bounded buffer. Streamed responses use chunked transfer coding
// (RFC 9112 §7.1), which is what Server-Sent Events need over HTTP/1.1.
#include <algorithm>
#include <cctype>
#include <optional>

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>

#include "server/detail/connection.hpp"
#include "server/detail/websocket.hpp"

namespace huginn::server::detail {
namespace {

namespace http = boost::beast::http;

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// True when the comma-separated header value lists `token` (case-insensitive).
bool has_token(std::string_view value, std::string_view token) {
  std::size_t pos = 0;
  while (pos <= value.size()) {
    std::size_t end = value.find(',', pos);
    if (end == std::string_view::npos) end = value.size();
    std::string_view item = value.substr(pos, end - pos);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t')) item.remove_suffix(1);
    if (lower(item) == lower(token)) return true;
    pos = end + 1;
  }
  return false;
}

// Headers the transport owns; a handler's copies are dropped.
bool transport_header(std::string_view name) {
  return name == "content-length" || name == "transfer-encoding" || name == "connection" ||
         name == "keep-alive" || name == "upgrade";
}

// RFC 6455 §4.2.1: GET, HTTP/1.1 or later, Host, "Upgrade: websocket",
// "Connection: Upgrade", a 16-byte Sec-WebSocket-Key and version 13.
bool is_websocket_handshake(const Request& req, bool http11) {
  if (req.method != "GET" || !http11 || !req.header("host")) return false;
  const auto upgrade = req.header("upgrade");
  const auto connection = req.header("connection");
  const auto key = req.header("sec-websocket-key");
  const auto version = req.header("sec-websocket-version");
  return upgrade && has_token(*upgrade, "websocket") && connection &&
         has_token(*connection, "upgrade") && key && valid_websocket_key(*key) && version &&
         *version == "13";
}

class Http1Session final : public Protocol {
 public:
  explicit Http1Session(Connection& c) : conn_(c) {}

  void on_bytes(std::string_view bytes) override {
    in_.append(bytes);
    parse();
  }

  void produce(std::string& out, std::size_t /*max*/) override {
    // HTTP/1 output is already bounded by the stream queue limit. The
    // buffer is handed over or freed: an idle stream keeps none.
    if (out.empty()) out.swap(out_);
    else out.append(out_);
    std::string().swap(out_);
    if (state_ && unflushed_payload_ > 0) {
      state_->pending.fetch_sub(std::min(unflushed_payload_, state_->pending.load()));
    }
    unflushed_payload_ = 0;
  }

  [[nodiscard]] bool done() const override { return phase_ == Phase::kClosing && out_.empty(); }

  [[nodiscard]] bool want_read() const override {
    return phase_ != Phase::kClosing && in_.size() <= input_cap();
  }

  void begin_shutdown() override {
    shutting_down_ = true;
    switch (phase_) {
      case Phase::kReading:
        // A request half-read when the server stops is not answered.
        phase_ = Phase::kClosing;
        break;
      case Phase::kStreaming:
        end_stream();
        break;
      case Phase::kWaiting:  // the response in flight ends with "connection: close"
      case Phase::kClosing:
        break;
    }
  }

  void abort() override {
    phase_ = Phase::kClosing;
    if (state_) state_->close();
  }

  void send(std::int32_t key, Response r) override {
    if (key != exchange_ || phase_ != Phase::kWaiting) return;
    std::string head = status_line(r.status);
    append_headers(head, r.headers);
    // RFC 9110 §6.4.1, §8.6: 1xx, 204 and 304 carry no content and no
    // Content-Length of their own.
    const bool no_content = !status_allows_content(r.status);
    if (!no_content) head += "content-length: " + std::to_string(r.body.size()) + "\r\n";
    const bool close = !keep_alive_ || shutting_down_;
    // RFC 9110 §15.5.22: a 426 MUST carry Upgrade, and §7.8: whoever sends
    // Upgrade lists it in Connection. Upgrade is otherwise the transport's
    // own header (the 101 of a WebSocket handshake), so only this status
    // lets a handler's value through.
    std::string_view upgrade;
    if (r.status == 426) {
      for (const auto& [name, value] : r.headers) {
        if (lower(name) == "upgrade") upgrade = value;
      }
    }
    if (!upgrade.empty() && upgrade.find_first_of("\r\n") == std::string_view::npos) {
      head += "upgrade: " + std::string(upgrade) + "\r\n";
      head += close ? "connection: upgrade, close\r\n" : "connection: upgrade\r\n";
    } else if (close) {
      head += "connection: close\r\n";
    }
    head += "\r\n";
    out_ += head;
    if (!head_request_ && !no_content) out_ += r.body;
    complete(close);
  }

  void start_stream(std::int32_t key, int status, Headers h) override {
    if (key != exchange_ || phase_ != Phase::kWaiting) return;
    std::string head = status_line(status);
    append_headers(head, h);
    // HTTP/1.0 has no chunked coding: the body ends with the connection.
    chunked_ = http11_;
    if (chunked_) head += "transfer-encoding: chunked\r\n";
    if (!chunked_ || shutting_down_) head += "connection: close\r\n";
    if (!chunked_) keep_alive_ = false;
    head += "\r\n";
    out_ += head;
    phase_ = Phase::kStreaming;
    if (head_request_) end_stream();
    else if (shutting_down_) end_stream();
  }

  void write(std::int32_t key, std::string chunk) override {
    if (key != exchange_ || phase_ != Phase::kStreaming || chunk.empty()) {
      if (state_ && key == exchange_) state_->pending.fetch_sub(std::min(chunk.size(), state_->pending.load()));
      return;
    }
    if (chunked_) {
      char size[20];
      const int n = std::snprintf(size, sizeof size, "%zx\r\n", chunk.size());
      out_.append(size, static_cast<std::size_t>(n));
    }
    out_ += chunk;
    if (chunked_) out_ += "\r\n";
    unflushed_payload_ += chunk.size();
  }

  void finish(std::int32_t key) override {
    if (key != exchange_ || phase_ != Phase::kStreaming) return;
    end_stream();
  }

  void push(std::int32_t, std::string, Response) override {}  // no push in HTTP/1.1

  void accept_websocket(std::int32_t key, Headers extra, std::shared_ptr<WsShared> shared) override {
    if (key != exchange_ || phase_ != Phase::kWaiting || ws_key_.empty() || shutting_down_) {
      shared->fire_close();
      if (key == exchange_ && phase_ == Phase::kWaiting) {
        fail(503, "shutting_down", "the server is stopping");
      }
      return;
    }
    // RFC 6455 §4.2.2 item 5: 101 with Upgrade, Connection and the accept
    // value; the handler's extra headers (e.g. Sec-WebSocket-Protocol) too.
    std::string head =
        "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nconnection: Upgrade\r\n"
        "sec-websocket-accept: " + websocket_accept(ws_key_) + "\r\n";
    std::erase_if(extra, [](const auto& f) { return lower(f.first) == "sec-websocket-accept"; });
    append_headers(head, extra);
    head += "\r\n";
    // Output not yet taken by the socket goes first.
    std::string preamble;
    preamble.swap(out_);
    preamble += head;
    // The exchange's StreamState now ends with the WebSocket (WsShared).
    state_.reset();
    phase_ = Phase::kClosing;
    std::string rest;
    rest.swap(in_);
    conn_.replace_protocol(make_websocket_http1(conn_, std::move(preamble), std::move(shared)),
                           std::move(rest), HttpVersion::kHttp11);
  }

 private:
  enum class Phase { kReading, kWaiting, kStreaming, kClosing };

  [[nodiscard]] std::size_t input_cap() const {
    return conn_.limits().max_header_bytes + conn_.limits().max_body_bytes + 4096;
  }

  static std::string status_line(int status) {
    const auto reason = http::obsolete_reason(static_cast<http::status>(status));
    return "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason.data(), reason.size()) +
           "\r\ndate: " + http_date() + "\r\n";
  }

  static void append_headers(std::string& out, const Headers& h) {
    for (const auto& [name, value] : h) {
      const std::string n = lower(name);
      if (transport_header(n)) continue;
      // CR/LF in a handler's header would split the response (RFC 9110 §5.5).
      if (value.find_first_of("\r\n") != std::string::npos ||
          n.find_first_of("\r\n: ") != std::string::npos)
        continue;
      out += n;
      out += ": ";
      out += value;
      out += "\r\n";
    }
  }

  void end_stream() {
    if (chunked_ && !head_request_) out_ += "0\r\n\r\n";
    complete(!keep_alive_ || shutting_down_);
  }

  // The exchange is answered: close or go back to reading.
  void complete(bool close) {
    if (state_) state_->close();
    state_.reset();
    if (close) {
      phase_ = Phase::kClosing;
      return;
    }
    phase_ = Phase::kReading;
    conn_.set_deadline(conn_.limits().idle_timeout);
    parse();
    conn_.resume_read();
  }

  void fail(int status, std::string_view code, std::string_view message) {
    Response r = error_response(status, code, message);
    std::string head = status_line(status);
    append_headers(head, r.headers);
    head += "content-length: " + std::to_string(r.body.size()) + "\r\nconnection: close\r\n\r\n";
    out_ += head + r.body;
    phase_ = Phase::kClosing;
    in_.clear();
  }

  void parse() {
    while (phase_ == Phase::kReading && !in_.empty()) {
      if (!parser_) {
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(conn_.limits().max_header_bytes));
        parser_->body_limit(conn_.limits().max_body_bytes);
        parser_->eager(true);
        conn_.set_deadline(conn_.limits().request_timeout);
      }
      boost::beast::error_code ec;
      const std::size_t n = parser_->put(boost::asio::buffer(in_), ec);
      in_.erase(0, n);
      if (ec == http::error::need_more) {
        maybe_continue();
        if (n == 0) return;
        continue;
      }
      if (ec == http::error::header_limit) {
        fail(431, "header_too_large", "request header exceeds the server's limit");
        return;
      }
      if (ec == http::error::body_limit) {
        fail(413, "body_too_large", "request body exceeds the server's limit");
        return;
      }
      if (ec) {
        fail(400, "bad_request", "malformed HTTP/1.1 request");
        return;
      }
      if (parser_->is_done()) on_request();
      else maybe_continue();
    }
  }

  // RFC 9110 §10.1.1: a client that sent "Expect: 100-continue" may wait
  // for an interim 100 before the body; the header passed the limits
  // (a Content-Length over the body limit was refused with 413 already).
  void maybe_continue() {
    if (continue_sent_ || !parser_ || !parser_->is_header_done() || parser_->is_done()) return;
    const auto& h = parser_->get();
    if (h.version() < 11) return;
    const auto it = h.find(http::field::expect);
    if (it == h.end() || lower(std::string_view(it->value().data(), it->value().size())) != "100-continue")
      return;
    continue_sent_ = true;
    out_ += "HTTP/1.1 100 Continue\r\n\r\n";
  }

  void on_request() {
    continue_sent_ = false;
    auto msg = parser_->release();
    parser_.reset();
    conn_.clear_deadline();
    Request req;
    req.method = std::string(msg.method_string());
    req.target = std::string(msg.target());
    const auto q = req.target.find('?');
    req.path = req.target.substr(0, q);
    if (q != std::string::npos) req.query = req.target.substr(q + 1);
    for (const auto& f : msg) {
      req.headers.emplace_back(lower(std::string_view(f.name_string().data(), f.name_string().size())),
                               std::string(f.value()));
    }
    if (auto host = req.header("host")) req.authority = std::string(*host);
    req.body = std::move(msg.body());
    keep_alive_ = msg.keep_alive();
    http11_ = msg.version() >= 11;
    head_request_ = req.method == "HEAD";
    ++exchange_;

    const auto upgrade = req.header("upgrade");
    const auto settings = req.header("http2-settings");
    std::optional<std::string> decoded;
    if (!conn_.info().tls && !shutting_down_ && upgrade && settings && has_token(*upgrade, "h2c"))
      decoded = decode_base64url(*settings);
    // RFC 7540 §3.2: 101, then HTTP/2 with the request as stream 1. The
    // SETTINGS payload is a list of 6-octet entries (RFC 9113 §6.5.1);
    // anything else keeps the exchange on HTTP/1.1.
    if (decoded && decoded->size() % 6 == 0) {
      std::string s = std::move(*decoded);
      conn_.note_request();
      phase_ = Phase::kClosing;
      std::string rest;
      rest.swap(in_);
      conn_.replace_protocol(
          make_http2_upgraded(conn_,
                              "HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\n"
                              "upgrade: h2c\r\n\r\n",
                              std::move(s), std::move(req)),
          std::move(rest));
      return;
    }

    phase_ = Phase::kWaiting;
    state_ = std::make_shared<StreamState>();
    auto writer = std::make_shared<ExchangeWriter>(
        conn_.weak_from_this(), conn_.context(), conn_.generation(), exchange_, state_, nullptr,
        conn_.limits().max_stream_queue_bytes);
    ws_key_.clear();
    if (is_websocket_handshake(req, http11_)) {
      ws_key_ = std::string(*req.header("sec-websocket-key"));
      writer->offer_websocket();
    }
    conn_.dispatch(std::move(req), std::move(writer));
  }

  Connection& conn_;
  std::string in_;
  std::string out_;
  std::optional<http::request_parser<http::string_body>> parser_;
  Phase phase_ = Phase::kReading;
  std::int32_t exchange_ = 0;
  std::shared_ptr<StreamState> state_;
  std::size_t unflushed_payload_ = 0;
  bool keep_alive_ = true;
  bool http11_ = true;
  bool head_request_ = false;
  bool chunked_ = false;
  bool shutting_down_ = false;
  bool continue_sent_ = false;
  std::string ws_key_;  // Sec-WebSocket-Key of the current exchange when it is a handshake
};

}  // namespace

std::unique_ptr<Protocol> make_http1(Connection& c) { return std::make_unique<Http1Session>(c); }

}  // namespace huginn::server::detail
