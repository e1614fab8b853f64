// HTTP/2 (RFC 9113) on one connection through nghttp2's session callbacks.
//
// Bounded by construction: input is handed to nghttp2_session_mem_recv as
// it arrives; output is pulled with nghttp2_session_mem_send only when the
// socket finished the previous write (Connection::kick_write), so nothing
// piles up behind a slow reader except each stream's own queue, which
// ResponseWriter::write() caps. Response bodies go through a data provider
// that defers (NGHTTP2_ERR_DEFERRED) while a stream's queue is empty and is
// resumed by write()/finish().
#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <unordered_map>
#include <vector>

#include <spdlog/spdlog.h>

#include "server/detail/connection.hpp"
#include "server/detail/h2_memory.hpp"
#include "server/detail/websocket.hpp"

namespace huginn::server::detail {
namespace {

// Connection-specific fields are malformed in HTTP/2 (RFC 9113 §8.2.2).
bool connection_specific(std::string_view n) {
  return n == "connection" || n == "keep-alive" || n == "proxy-connection" ||
         n == "transfer-encoding" || n == "upgrade" || n == "content-length";
}

nghttp2_nv make_nv(const std::string& name, const std::string& value) {
  return {reinterpret_cast<std::uint8_t*>(const_cast<char*>(name.data())),
          reinterpret_cast<std::uint8_t*>(const_cast<char*>(value.data())), name.size(),
          value.size(), NGHTTP2_NV_FLAG_NONE};
}

struct Stream {
  std::int32_t id = 0;
  Request req;
  std::size_t header_bytes = 0;
  bool header_too_large = false;
  bool body_too_large = false;
  bool dispatched = false;
  bool responded = false;
  bool streaming = false;
  bool head = false;
  std::shared_ptr<StreamState> state = std::make_shared<StreamState>();
  std::string out;  // body bytes not yet taken by nghttp2
  std::size_t out_off = 0;
  bool eof = false;
  bool deferred = false;
  std::string protocol;                // RFC 8441 §4 :protocol of an extended CONNECT
  bool ws_offer = false;               // a valid RFC 8441 WebSocket request
  std::shared_ptr<WsEngine> ws;        // after accept_websocket: owns the stream's DATA
};

class Http2Session final : public Protocol {
 public:
  Http2Session(Connection& c, std::string preamble)
      : conn_(c), preamble_(std::move(preamble)),
        push_enabled_(std::make_shared<std::atomic<bool>>(true)) {
    nghttp2_session_callbacks* cbs = nullptr;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, &Http2Session::on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cbs, &Http2Session::on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, &Http2Session::on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, &Http2Session::on_data_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, &Http2Session::on_stream_close);
    // Memory per idle connection (issue 5), measured with 3,000 idle SSE
    // subscribers over h2c: about 2 KB less with both options.
    // - Our responses are indexed in no HPACK dynamic table: RFC 7541 §4.2
    //   lets the encoder use any size up to the peer's limit, 0 included;
    //   the cost is a few dozen header bytes per response, against a table
    //   of up to 4 KiB (the default) held by every connection.
    // - Closed streams are not retained: nghttp2 keeps them only for the
    //   RFC 7540 priority tree, which RFC 9113 §5.3.2 deprecates.
    nghttp2_option* opt = nullptr;
    int rv = nghttp2_option_new(&opt);
    if (rv == 0) {
      nghttp2_option_set_max_deflate_dynamic_table_size(opt, 0);
      nghttp2_option_set_no_closed_streams(opt, 1);
      memory_.construction(true);
      rv = nghttp2_session_server_new3(&session_, cbs, this, opt, memory_.get());
      memory_.construction(false);
      nghttp2_option_del(opt);
    }
    nghttp2_session_callbacks_del(cbs);
    if (rv != 0) {
      failed_ = true;
      return;
    }
    const auto& lim = conn_.limits();
    // nghttp2 refuses streams beyond MAX_CONCURRENT_STREAMS with RST_STREAM
    // REFUSED_STREAM (RFC 9113 §5.1.2); the header list size is advisory
    // (§6.5.2) and enforced in on_header with a 431.
    // RFC 8441 §3: SETTINGS_ENABLE_CONNECT_PROTOCOL lets clients open
    // WebSockets as extended CONNECT streams (nghttp2 then accepts the
    // :protocol pseudo-header); Chrome does so only when it is advertised.
    const std::array<nghttp2_settings_entry, 3> settings{{
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, lim.max_concurrent_streams},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, static_cast<std::uint32_t>(lim.max_header_bytes)},
        {NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL, 1},
    }};
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings.data(), settings.size());
  }

  ~Http2Session() override {
    if (session_ != nullptr) nghttp2_session_del(session_);
  }
  Http2Session(const Http2Session&) = delete;
  Http2Session& operator=(const Http2Session&) = delete;

  // RFC 7540 §3.2: the HTTP2-Settings payload, and the upgrading request
  // answered on stream 1.
  bool upgrade(const std::string& settings_payload, Request req) {
    if (failed_) return false;
    const bool head = req.method == "HEAD";
    const int rv = nghttp2_session_upgrade2(
        session_, reinterpret_cast<const std::uint8_t*>(settings_payload.data()),
        settings_payload.size(), head ? 1 : 0, nullptr);
    if (rv != 0) {
      spdlog::debug("h2c upgrade refused: {}", nghttp2_strerror(rv));
      failed_ = true;
      return false;
    }
    auto s = std::make_unique<Stream>();
    s->id = 1;
    s->req = std::move(req);
    s->head = head;
    streams_.emplace(1, std::move(s));
    upgraded_pending_ = true;
    conn_.clear_deadline();
    return true;
  }

  void activated() override {
    // Dispatched only now: the writer must carry this protocol's generation.
    if (!upgraded_pending_) return;
    upgraded_pending_ = false;
    if (Stream* s = find(1)) dispatch(*s);
  }

  void on_bytes(std::string_view bytes) override {
    if (failed_) return;
    defer_write_ = true;
    const auto rv = nghttp2_session_mem_recv(
        session_, reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    defer_write_ = false;
    if (rv < 0) {
      spdlog::debug("http/2 from {}: {}", to_string(conn_.info().peer),
                    nghttp2_strerror(static_cast<int>(rv)));
      failed_ = true;
    }
  }

  void produce(std::string& out, std::size_t max) override {
    if (!preamble_.empty()) {
      out += preamble_;
      preamble_.clear();
    }
    if (session_ == nullptr) return;
    while (out.size() < max) {
      const std::uint8_t* data = nullptr;
      const auto n = nghttp2_session_mem_send(session_, &data);
      if (n < 0) {
        failed_ = true;
        break;
      }
      if (n == 0) {
        // Nothing left to send and no stream open: an idle connection,
        // whose frame buffer holds nothing nghttp2 reads again
        // (h2_memory.hpp). Streams that stay open (SSE) keep it: they
        // write again soon, and a release per write would cost a system
        // call and page faults each time.
        if (streams_.empty()) memory_.release_idle_pages();
        break;
      }
      memory_.note_sent();
      out.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
    }
  }

  [[nodiscard]] bool done() const override {
    return failed_ || session_ == nullptr ||
           (nghttp2_session_want_read(session_) == 0 && nghttp2_session_want_write(session_) == 0);
  }

  void begin_shutdown() override {
    if (session_ == nullptr || shutting_down_) return;
    shutting_down_ = true;
    // RFC 9113 §6.8: streams up to the last one processed still complete.
    nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                          nghttp2_session_get_last_proc_stream_id(session_), NGHTTP2_NO_ERROR,
                          nullptr, 0);
    defer_write_ = true;
    for (auto& [id, s] : streams_) {
      if (s->ws) s->ws->close(WebSocket::kGoingAway, "server shutting down");
      else if (s->streaming) end(*s);
    }
    defer_write_ = false;
  }

  void accept_websocket(std::int32_t key, Headers extra, std::shared_ptr<WsShared> shared) override {
    Stream* s = find(key);
    if (s == nullptr || s->responded || !s->ws_offer || shutting_down_) {
      shared->fire_close();
      if (s != nullptr && !s->responded) {
        answer_error(*s, 503, "shutting_down", "the server is stopping");
      }
      return;
    }
    // RFC 8441 §5: a 2xx answers the extended CONNECT; the stream's DATA
    // then carries WebSocket frames, with no Sec-WebSocket-Accept.
    s->responded = true;
    s->streaming = true;
    const std::int32_t id = s->id;
    s->ws = std::make_shared<WsEngine>(conn_, std::move(shared), [this, id] {
      if (Stream* st = find(id)) resume(*st);
      // Timer-driven output (pings, the end after a close) needs a write.
      if (!defer_write_) conn_.kick_write();
    });
    std::erase_if(extra, [](const auto& f) { return f.first == "sec-websocket-accept"; });
    nghttp2_data_provider prd{};
    prd.source.ptr = s;
    prd.read_callback = &Http2Session::read_websocket;
    submit(*s, 200, extra, &prd, std::nullopt);
    s->ws->start();
  }

  void abort() override {
    failed_ = true;
    auto streams = std::move(streams_);
    streams_.clear();
    for (auto& [id, s] : streams) {
      if (s->ws) s->ws->abort();
      s->state->close();
    }
  }

  void send(std::int32_t key, Response r) override {
    Stream* s = find(key);
    if (s == nullptr || s->responded) return;
    s->responded = true;
    s->eof = true;
    const bool content = status_allows_content(r.status);
    const bool has_body = !s->head && content && !r.body.empty();
    const std::size_t length = r.body.size();
    if (has_body) s->out = std::move(r.body);
    submit(*s, r.status, r.headers, has_body, content ? std::optional(length) : std::nullopt);
  }

  void start_stream(std::int32_t key, int status, Headers h) override {
    Stream* s = find(key);
    if (s == nullptr || s->responded) return;
    s->responded = true;
    s->streaming = true;
    s->eof = s->head || shutting_down_;
    submit(*s, status, h, !s->head, std::nullopt);
  }

  void write(std::int32_t key, std::string chunk) override {
    Stream* s = find(key);
    if (s == nullptr || !s->streaming || s->eof) {
      if (s != nullptr) s->state->pending.fetch_sub(std::min(chunk.size(), s->state->pending.load()));
      return;
    }
    if (s->out_off > 0 && s->out_off >= s->out.size() / 2) {
      s->out.erase(0, s->out_off);
      s->out_off = 0;
    }
    if (s->out.empty()) s->out = std::move(chunk);
    else s->out += chunk;
    resume(*s);
  }

  void finish(std::int32_t key) override {
    Stream* s = find(key);
    if (s == nullptr || !s->streaming) return;
    end(*s);
  }

  void push(std::int32_t key, std::string path, Response r) override {
    // Every current browser refuses pushes (docs/server.md); this serves
    // nghttp, libcurl's push callback and our own clients.
    Stream* parent = find(key);
    if (parent == nullptr || shutting_down_ || !push_enabled_->load() ||
        nghttp2_session_get_remote_settings(session_, NGHTTP2_SETTINGS_ENABLE_PUSH) == 0)
      return;
    const std::string method = "GET";
    const std::string scheme = conn_.info().tls ? "https" : "http";
    const std::array<std::pair<std::string, const std::string*>, 4> fields{{
        {":method", &method},
        {":scheme", &scheme},
        {":authority", &parent->req.authority},
        {":path", &path},
    }};
    std::vector<nghttp2_nv> nva;
    for (const auto& [n, v] : fields) nva.push_back(make_nv(n, *v));
    const std::int32_t id =
        nghttp2_submit_push_promise(session_, NGHTTP2_FLAG_NONE, key, nva.data(), nva.size(), nullptr);
    if (id < 0) {
      spdlog::debug("push of {} refused: {}", path, nghttp2_strerror(id));
      return;
    }
    auto ps = std::make_unique<Stream>();
    ps->id = id;
    ps->responded = true;
    ps->eof = true;
    ps->req.method = method;
    ps->req.path = path;
    const bool has_body = !r.body.empty();
    ps->out = std::move(r.body);
    Stream& ref = *ps;
    streams_.emplace(id, std::move(ps));
    submit(ref, r.status, r.headers, has_body, ref.out.size());
  }

 private:
  Stream* find(std::int32_t id) {
    auto it = streams_.find(id);
    return it == streams_.end() ? nullptr : it->second.get();
  }

  void end(Stream& s) {
    s.eof = true;
    resume(s);
  }

  void resume(Stream& s) {
    if (s.deferred) {
      s.deferred = false;
      nghttp2_session_resume_data(session_, s.id);
    }
  }

  void submit(Stream& s, int status, const Headers& h, bool has_body,
              std::optional<std::size_t> content_length) {
    nghttp2_data_provider prd{};
    prd.source.ptr = &s;
    prd.read_callback = &Http2Session::read_body;
    submit(s, status, h, has_body ? &prd : nullptr, content_length);
  }

  void submit(Stream& s, int status, const Headers& h, const nghttp2_data_provider* prd,
              std::optional<std::size_t> content_length) {
    std::vector<std::pair<std::string, std::string>> fields;
    fields.reserve(h.size() + 2);
    fields.emplace_back(":status", std::to_string(status));
    fields.emplace_back("date", http_date());
    for (const auto& [name, value] : h) {
      std::string n(name);
      for (char& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (n.empty() || n[0] == ':' || connection_specific(n)) continue;
      fields.emplace_back(std::move(n), value);
    }
    if (content_length) fields.emplace_back("content-length", std::to_string(*content_length));
    std::vector<nghttp2_nv> nva;
    nva.reserve(fields.size());
    for (const auto& [n, v] : fields) nva.push_back(make_nv(n, v));
    const int rv = nghttp2_submit_response(session_, s.id, nva.data(), nva.size(), prd);
    if (rv != 0) {
      spdlog::debug("submit_response on stream {}: {}", s.id, nghttp2_strerror(rv));
      nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, s.id, NGHTTP2_INTERNAL_ERROR);
    }
  }

  void answer_error(Stream& s, int status, std::string_view code, std::string_view message) {
    if (s.responded) return;
    s.responded = true;
    s.eof = true;
    Response r = error_response(status, code, message);
    s.out = std::move(r.body);
    submit(s, r.status, r.headers, true, s.out.size());
  }

  void dispatch(Stream& s) {
    if (s.dispatched) return;
    s.dispatched = true;
    if (s.header_too_large) {
      answer_error(s, 431, "header_too_large", "request header exceeds the server's limit");
      return;
    }
    // Answered 413 already. The rest of the body is read and dropped: a
    // RST_STREAM NO_ERROR after the response (RFC 9113 §8.1) would be
    // allowed, but curl 7.88 reports it as a failed transfer.
    if (s.body_too_large) return;
    Request req = std::move(s.req);
    req.target = req.path;
    const auto q = req.target.find('?');
    req.path = req.target.substr(0, q);
    if (q != std::string::npos) req.query = req.target.substr(q + 1);
    if (req.authority.empty()) {
      if (auto host = req.header("host")) req.authority = std::string(*host);
    }
    s.req.authority = req.authority;
    s.head = req.method == "HEAD";
    auto writer = std::make_shared<ExchangeWriter>(conn_.weak_from_this(), conn_.context(),
                                                   conn_.generation(), s.id, s.state, push_enabled_,
                                                   conn_.limits().max_stream_queue_bytes);
    // RFC 8441 §4-5: extended CONNECT with :protocol websocket, and the
    // RFC 6455 version; no Sec-WebSocket-Key over HTTP/2.
    const auto version = req.header("sec-websocket-version");
    if (req.method == "CONNECT" && s.protocol == "websocket" && version && *version == "13") {
      s.ws_offer = true;
      writer->offer_websocket();
    }
    conn_.dispatch(std::move(req), std::move(writer));
  }

  static ssize_t read_body(nghttp2_session*, std::int32_t, std::uint8_t* buf, std::size_t length,
                           std::uint32_t* flags, nghttp2_data_source* source, void*) {
    auto* s = static_cast<Stream*>(source->ptr);
    const std::size_t avail = s->out.size() - s->out_off;
    const std::size_t n = std::min(avail, length);
    if (n > 0) {
      std::memcpy(buf, s->out.data() + s->out_off, n);
      s->out_off += n;
      if (s->out_off == s->out.size()) {
        // Drained: an idle stream keeps no buffer (a large snapshot or burst
        // would otherwise pin its size for the stream's life).
        std::string().swap(s->out);
        s->out_off = 0;
      }
      if (s->streaming) s->state->pending.fetch_sub(std::min(n, s->state->pending.load()));
    }
    if (s->out.size() == s->out_off) {
      if (s->eof) {
        *flags |= NGHTTP2_DATA_FLAG_EOF;
      } else if (n == 0) {
        s->deferred = true;
        return NGHTTP2_ERR_DEFERRED;
      }
    }
    return static_cast<ssize_t>(n);
  }

  // The data provider of a WebSocket stream: frames straight from the engine,
  // so its bound (max_stream_queue_bytes) is the only queue.
  static ssize_t read_websocket(nghttp2_session*, std::int32_t, std::uint8_t* buf,
                                std::size_t length, std::uint32_t* flags,
                                nghttp2_data_source* source, void*) {
    auto* s = static_cast<Stream*>(source->ptr);
    const std::size_t n = s->ws->read_output(buf, length);
    if (n == 0) {
      if (s->ws->finished()) {
        *flags |= NGHTTP2_DATA_FLAG_EOF;
        return 0;
      }
      s->deferred = true;
      return NGHTTP2_ERR_DEFERRED;
    }
    return static_cast<ssize_t>(n);
  }

  static int on_begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    auto* self = static_cast<Http2Session*>(user);
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    auto s = std::make_unique<Stream>();
    s->id = frame->hd.stream_id;
    self->streams_.emplace(s->id, std::move(s));
    self->conn_.clear_deadline();
    return 0;
  }

  static int on_header(nghttp2_session*, const nghttp2_frame* frame, const std::uint8_t* name,
                       std::size_t namelen, const std::uint8_t* value, std::size_t valuelen,
                       std::uint8_t, void* user) {
    auto* self = static_cast<Http2Session*>(user);
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    Stream* s = self->find(frame->hd.stream_id);
    if (s == nullptr || s->header_too_large) return 0;
    // RFC 9113 §6.5.2 counts each field as name + value + 32 octets.
    s->header_bytes += namelen + valuelen + 32;
    if (s->header_bytes > self->conn_.limits().max_header_bytes) {
      s->header_too_large = true;
      s->req.headers.clear();
      return 0;
    }
    const std::string_view n(reinterpret_cast<const char*>(name), namelen);
    std::string v(reinterpret_cast<const char*>(value), valuelen);
    if (n == ":method") s->req.method = std::move(v);
    else if (n == ":path") s->req.path = std::move(v);
    else if (n == ":authority") s->req.authority = std::move(v);
    else if (n == ":protocol") s->protocol = std::move(v);
    else if (!n.empty() && n[0] != ':') s->req.headers.emplace_back(std::string(n), std::move(v));
    return 0;
  }

  static int on_frame_recv(nghttp2_session* session, const nghttp2_frame* frame, void* user) {
    auto* self = static_cast<Http2Session*>(user);
    switch (frame->hd.type) {
      case NGHTTP2_SETTINGS:
        if ((frame->hd.flags & NGHTTP2_FLAG_ACK) == 0) {
          self->push_enabled_->store(
              nghttp2_session_get_remote_settings(session, NGHTTP2_SETTINGS_ENABLE_PUSH) != 0);
        }
        break;
      case NGHTTP2_HEADERS:
      case NGHTTP2_DATA: {
        Stream* s = self->find(frame->hd.stream_id);
        if (s == nullptr) break;
        if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0) {
          // A WebSocket peer half-closing its side ends the WebSocket.
          if (s->ws) s->ws->end_of_input();
          else self->dispatch(*s);
        } else if (frame->hd.type == NGHTTP2_HEADERS &&
                   (s->header_too_large || s->req.method == "CONNECT")) {
          // 431 without waiting for the body; a CONNECT (RFC 9113 §8.5)
          // never ends its request, the tunnel is the stream.
          self->dispatch(*s);
        }
        break;
      }
      default:
        break;
    }
    return 0;
  }

  static int on_data_chunk(nghttp2_session*, std::uint8_t, std::int32_t stream_id,
                           const std::uint8_t* data, std::size_t len, void* user) {
    auto* self = static_cast<Http2Session*>(user);
    Stream* s = self->find(stream_id);
    if (s != nullptr && s->ws) {
      s->ws->on_bytes(std::string_view(reinterpret_cast<const char*>(data), len));
      return 0;
    }
    if (s == nullptr || s->body_too_large || s->dispatched) return 0;
    if (s->req.body.size() + len > self->conn_.limits().max_body_bytes) {
      s->body_too_large = true;
      std::string().swap(s->req.body);
      self->answer_error(*s, 413, "body_too_large", "request body exceeds the server's limit");
      return 0;
    }
    s->req.body.append(reinterpret_cast<const char*>(data), len);
    return 0;
  }

  static int on_stream_close(nghttp2_session*, std::int32_t stream_id, std::uint32_t, void* user) {
    auto* self = static_cast<Http2Session*>(user);
    auto it = self->streams_.find(stream_id);
    if (it == self->streams_.end()) return 0;
    auto s = std::move(it->second);
    self->streams_.erase(it);
    if (s->ws) s->ws->abort();
    s->state->close();
    if (self->streams_.empty() && !self->shutting_down_) {
      self->conn_.set_deadline(self->conn_.limits().idle_timeout);
    }
    return 0;
  }

  Connection& conn_;
  // Declared before session_: it must outlive the session.
  H2Memory memory_;
  nghttp2_session* session_ = nullptr;
  std::string preamble_;
  std::shared_ptr<std::atomic<bool>> push_enabled_;
  std::unordered_map<std::int32_t, std::unique_ptr<Stream>> streams_;
  bool failed_ = false;
  bool shutting_down_ = false;
  bool upgraded_pending_ = false;
  // Inside nghttp2_session_mem_recv or begin_shutdown: WebSocket output
  // waits for the connection's own kick_write (no mem_send from callbacks,
  // no stream erased under the shutdown loop).
  bool defer_write_ = false;
};

}  // namespace

std::unique_ptr<Protocol> make_http2(Connection& c) {
  return std::make_unique<Http2Session>(c, std::string());
}

std::unique_ptr<Protocol> make_http2_upgraded(Connection& c, std::string preamble,
                                              std::string settings_payload, Request req) {
  auto s = std::make_unique<Http2Session>(c, std::move(preamble));
  s->upgrade(settings_payload, std::move(req));
  return s;
}

}  // namespace huginn::server::detail
