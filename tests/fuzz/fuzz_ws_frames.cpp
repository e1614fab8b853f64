// The server's WebSocket input (RFC 6455) on arbitrary client bytes:
// parse_ws_frame_header, valid_utf8, append_ws_frame and the whole
// WsEngine input path (reassembly, unmasking, close handling, the limits).
// The engine runs on a Connection that has no socket: on_bytes() never
// touches the transport, and the output is pulled with read_output() /
// take_output() as the transports do. Beyond "no crash", a violation of
// these traps:
//  - a parsed header never claims more bytes than it was given, its fields
//    are the bytes' (§5.2), the length is in minimal form (§5.2), control
//    frames are unfragmented and at most 125 bytes (§5.5), client frames
//    are masked (§5.1); more bytes never turn an error or a frame into
//    something else;
//  - valid_utf8 agrees with an independent decoder written from the
//    Unicode well-formed byte sequence table (Unicode 15, table 3-7);
//  - append_ws_frame's output parses back (once masked as a client would)
//    to the same opcode, FIN and payload;
//  - everything the engine writes is a sequence of whole, unmasked,
//    minimal-length server frames (§5.1, §5.2), only pongs and at most one
//    close, the close last, its code one §7.4 allows and its reason UTF-8;
//    every delivered message is UTF-8 and within ws_max_message_bytes; a
//    finished engine has run on_close and writes nothing more;
//  - a client close alone is answered with its own code, 1000 for an empty
//    one and 1002 for a malformed one (§5.5.1, §7.4).
//
// Input: byte 0 bits 0-1 pick the mode (0 raw client bytes, 1 frames built
// from records, 2 append_ws_frame round trip, 3 one close frame), bits 2-3
// the message limit, bits 4-7 the size of the chunks fed to on_bytes().
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

#include "server/detail/websocket.hpp"

namespace {

namespace hd = huginn::server::detail;
using Kind = hd::WsHeaderResult::Kind;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

std::uint8_t at(std::string_view s, std::size_t i) { return static_cast<std::uint8_t>(s[i]); }

// Unicode 15 §3.9 table 3-7, row by row: the first byte fixes the range of
// the second; later bytes are 80..BF.
bool reference_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const std::uint8_t c = at(s, i);
    std::size_t len = 0;
    std::uint8_t lo = 0x80;
    std::uint8_t hi = 0xBF;
    if (c <= 0x7F) {
      len = 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c == 0xE0) {
      len = 3, lo = 0xA0;
    } else if ((c >= 0xE1 && c <= 0xEC) || c == 0xEE || c == 0xEF) {
      len = 3;
    } else if (c == 0xED) {
      len = 3, hi = 0x9F;
    } else if (c == 0xF0) {
      len = 4, lo = 0x90;
    } else if (c >= 0xF1 && c <= 0xF3) {
      len = 4;
    } else if (c == 0xF4) {
      len = 4, hi = 0x8F;
    } else {
      return false;
    }
    if (s.size() - i < len) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const std::uint8_t cc = at(s, i + k);
      const std::uint8_t min = k == 1 ? lo : 0x80;
      const std::uint8_t max = k == 1 ? hi : 0xBF;
      if (cc < min || cc > max) return false;
    }
    i += len;
  }
  return true;
}

// §7.4.1 codes plus the IANA registrations 1012-1014 (§7.4.2 reserves
// 1004-1006 and 1015), and 3000-4999 for libraries and applications.
bool reference_close_code(std::uint16_t code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

// Header bytes a client frame needs, from its first two bytes (§5.2).
std::size_t client_header_size(std::uint8_t b1) {
  const std::uint8_t len7 = b1 & 0x7F;
  return (len7 == 127 ? 10 : len7 == 126 ? 4 : 2) + 4;
}

// A frame header the parser accepted must say what its bytes say.
void check_frame(std::string_view in, const hd::WsFrameHeader& h) {
  check(in.size() >= 2);
  const std::uint8_t b0 = at(in, 0);
  const std::uint8_t b1 = at(in, 1);
  check(h.header_bytes == client_header_size(b1));
  check(h.header_bytes <= in.size());
  check((b0 & 0x70) == 0);
  check((b1 & 0x80) != 0);
  check(h.fin == ((b0 & 0x80) != 0));
  const std::uint8_t op = b0 & 0x0F;
  check(op == static_cast<std::uint8_t>(h.opcode));
  check(op <= 0x2 || (op >= 0x8 && op <= 0xA));
  std::uint64_t len = b1 & 0x7F;
  if (len == 126) {
    len = (std::uint64_t{at(in, 2)} << 8) | at(in, 3);
    check(len >= 126);  // §5.2: "the minimal number of bytes MUST be used"
  } else if (len == 127) {
    len = 0;
    for (std::size_t i = 2; i < 10; ++i) len = (len << 8) | at(in, i);
    check(len > 0xFFFF);
    check((len >> 63) == 0);
  }
  check(len == h.payload_bytes);
  if (op >= 0x8) check(h.fin && len <= 125);
  for (std::size_t i = 0; i < 4; ++i) check(h.mask[i] == at(in, h.header_bytes - 4 + i));
}

bool same_header(const hd::WsFrameHeader& a, const hd::WsFrameHeader& b) {
  return a.fin == b.fin && a.opcode == b.opcode && a.header_bytes == b.header_bytes &&
         a.payload_bytes == b.payload_bytes && a.mask[0] == b.mask[0] && a.mask[1] == b.mask[1] &&
         a.mask[2] == b.mask[2] && a.mask[3] == b.mask[3];
}

// Every prefix of `in` up to a full header: "need more" until the verdict,
// then the same verdict (an error stays an error, a frame the same frame).
void check_header_parser(std::string_view in) {
  const std::size_t last = std::min<std::size_t>(in.size(), 16);
  hd::WsHeaderResult first{};
  bool decided = false;
  for (std::size_t n = 0; n <= last; ++n) {
    const std::string_view prefix = in.substr(0, n);
    const hd::WsHeaderResult r = hd::parse_ws_frame_header(prefix);
    if (r.kind == Kind::kNeedMore) {
      check(!decided);
      check(n < 14);
      if (n >= 2) check(n < client_header_size(at(in, 1)));
      continue;
    }
    if (r.kind == Kind::kError) {
      check(r.error_code == 1002 && r.error != nullptr && r.error[0] != '\0');
      check(!decided || first.kind == Kind::kError);
    } else {
      check_frame(prefix, r.header);
      check(!decided || (first.kind == Kind::kFrame && same_header(first.header, r.header)));
    }
    if (!decided) first = r;
    decided = true;
  }
}

// A server frame (§5.1: never masked) from the engine's output.
struct ServerFrame {
  std::uint8_t opcode = 0;
  std::string payload;
};

std::vector<ServerFrame> parse_server_output(std::string_view out) {
  std::vector<ServerFrame> frames;
  std::size_t pos = 0;
  while (pos < out.size()) {
    check(out.size() - pos >= 2);
    const std::uint8_t b0 = at(out, pos);
    const std::uint8_t b1 = at(out, pos + 1);
    check((b0 & 0xF0) == 0x80);  // FIN, no reserved bits
    check((b1 & 0x80) == 0);     // unmasked
    std::size_t hdr = 2;
    std::uint64_t len = b1 & 0x7F;
    if (len == 126) {
      check(out.size() - pos >= 4);
      len = (std::uint64_t{at(out, pos + 2)} << 8) | at(out, pos + 3);
      check(len >= 126);
      hdr = 4;
    } else if (len == 127) {
      check(out.size() - pos >= 10);
      len = 0;
      for (std::size_t i = 2; i < 10; ++i) len = (len << 8) | at(out, pos + i);
      check(len > 0xFFFF && (len >> 63) == 0);
      hdr = 10;
    }
    check(len <= out.size() - pos - hdr);
    frames.push_back({static_cast<std::uint8_t>(b0 & 0x0F),
                      std::string(out.substr(pos + hdr, static_cast<std::size_t>(len)))});
    pos += hdr + static_cast<std::size_t>(len);
  }
  return frames;
}

// The close code of a close payload (§5.5.1), 0 when it has none.
std::uint16_t close_code(std::string_view payload) {
  if (payload.size() < 2) return 0;
  return static_cast<std::uint16_t>((at(payload, 0) << 8) | at(payload, 1));
}

void check_server_frames(const std::vector<ServerFrame>& frames) {
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const ServerFrame& f = frames[i];
    // Nothing sends text here and the keep-alive timer never fires, so
    // pongs and one close are all the engine may write.
    check(f.opcode == 0xA || f.opcode == 0x8);
    check(f.payload.size() <= 125);
    if (f.opcode == 0x8) {
      check(i + 1 == frames.size());
      check(f.payload.size() >= 2);
      check(reference_close_code(close_code(f.payload)));
      check(reference_utf8(std::string_view(f.payload).substr(2)));
    }
  }
}

// One Connection without a socket for every input: the engine reads only
// its limits, id and strand. The io_context is polled after each input so
// that the timer handlers the engine left behind are run (and see it gone).
struct Rig {
  boost::asio::io_context io;
  std::shared_ptr<hd::ServerContext> ctx = std::make_shared<hd::ServerContext>();
  std::shared_ptr<hd::Connection> conn = std::make_shared<hd::Connection>(
      ctx, boost::asio::make_strand(io), hd::tcp::socket(io), nullptr);
};

Rig& rig() {
  static Rig r;
  return r;
}

struct EngineRun {
  std::string out;
  std::vector<std::string> delivered;
  bool finished = false;
};

EngineRun run_engine(std::string_view input, std::size_t chunk, std::size_t max_message) {
  Rig& r = rig();
  auto& limits = r.ctx->config.limits;
  limits.ws_max_message_bytes = max_message;
  // The engine stops answering pings past this backlog (§5.5.3 lets it);
  // small, so that the bound is reached within one input.
  limits.max_stream_queue_bytes = 512;
  EngineRun run;
  bool closed = false;
  {
    auto shared = std::make_shared<hd::WsShared>(std::size_t{1} << 20, nullptr);
    shared->set_on_message([&run, max_message](std::string_view text) {
      check(text.size() <= max_message);
      check(reference_utf8(text));
      run.delivered.emplace_back(text);
    });
    shared->set_on_close([&closed] { closed = true; });
    auto engine = std::make_shared<hd::WsEngine>(*r.conn, shared, [] {});
    std::size_t fed = 0;
    bool by_take = false;
    while (fed < input.size()) {
      const std::size_t n = std::min(chunk, input.size() - fed);
      const bool was_finished = engine->finished();
      engine->on_bytes(input.substr(fed, n));
      fed += n;
      if (was_finished) check(engine->output_size() == 0);
      // Bounded output: the pong backlog plus one pong and one close.
      check(engine->output_size() <= 512 + 64 * 1024 + 2 * (2 + 125));
      // Both ways the transports pull output, in turn.
      if (by_take) {
        engine->take_output(run.out, run.out.size() + engine->output_size());
      } else {
        std::array<std::uint8_t, 97> buf{};
        while (const std::size_t got = engine->read_output(buf.data(), buf.size()))
          run.out.append(reinterpret_cast<const char*>(buf.data()), got);
      }
      by_take = !by_take;
      check(engine->output_size() == 0);
    }
    run.finished = engine->finished();
    if (run.finished) check(closed && shared->closing.load());
  }
  r.io.restart();
  r.io.poll();
  return run;
}

std::size_t max_message_for(std::uint8_t selector) {
  constexpr std::array<std::size_t, 4> kLimits = {16, 125, 4096, 64 * 1024};
  return kLimits[selector & 3];
}

// Masks `payload` with `key` (§5.3).
void append_masked(std::string& out, std::string_view payload, const std::uint8_t key[4]) {
  for (std::size_t i = 0; i < payload.size(); ++i)
    out.push_back(static_cast<char>(at(payload, i) ^ key[i & 3]));
}

// A client frame: first byte `b0`, `payload` masked with `key`, its length
// in minimal form unless `long_form` asks for the 16-bit one.
std::string client_frame(std::uint8_t b0, std::string_view payload, const std::uint8_t key[4],
                         bool long_form = false) {
  std::string out;
  out.push_back(static_cast<char>(b0));
  const std::size_t n = payload.size();
  if (n < 126 && !long_form) {
    out.push_back(static_cast<char>(0x80 | n));
  } else if (n <= 0xFFFF) {
    out.push_back(static_cast<char>(0x80 | 126));
    out.push_back(static_cast<char>(n >> 8));
    out.push_back(static_cast<char>(n & 0xFF));
  } else {
    out.push_back(static_cast<char>(0x80 | 127));
    for (int shift = 56; shift >= 0; shift -= 8)
      out.push_back(static_cast<char>((std::uint64_t{n} >> shift) & 0xFF));
  }
  out.append(reinterpret_cast<const char*>(key), 4);
  append_masked(out, payload, key);
  return out;
}

// Records [b0][len][len payload bytes] become masked client frames; bit 7
// of len asks for a non-minimal 16-bit length, which must be refused.
std::string frames_from_records(std::string_view data) {
  std::string out;
  std::size_t pos = 0;
  std::uint8_t key[4] = {0x37, 0xFA, 0x21, 0x3D};
  while (data.size() - pos >= 2) {
    const std::uint8_t b0 = at(data, pos);
    const std::uint8_t len = at(data, pos + 1);
    pos += 2;
    const std::size_t n = std::min<std::size_t>(len & 0x7F, data.size() - pos);
    out += client_frame(b0, data.substr(pos, n), key, (len & 0x80) != 0);
    pos += n;
    key[0] = static_cast<std::uint8_t>(key[0] + 0x9D);
    key[2] = static_cast<std::uint8_t>(key[2] ^ key[0]);
  }
  return out;
}

void check_engine(std::string_view input, std::uint8_t control) {
  const std::size_t step = control >> 4;
  const std::size_t chunk = 1 + step * step * 3;
  const std::size_t max_message = max_message_for(static_cast<std::uint8_t>(control >> 2));
  const EngineRun run = run_engine(input, chunk, max_message);
  check_server_frames(parse_server_output(run.out));
}

// append_ws_frame, then masked as a client would: the same frame back.
void check_round_trip(std::string_view data) {
  if (data.empty()) return;
  constexpr std::array<hd::WsOpcode, 6> kOps = {hd::WsOpcode::kText,  hd::WsOpcode::kBinary,
                                                hd::WsOpcode::kClose, hd::WsOpcode::kPing,
                                                hd::WsOpcode::kPong,  hd::WsOpcode::kContinuation};
  const std::uint8_t sel = at(data, 0);
  const hd::WsOpcode op = kOps[(sel & 0x7) % kOps.size()];
  const bool control = (static_cast<std::uint8_t>(op) & 0x8) != 0;
  std::string payload(data.substr(1));
  // Bits 3-4 stretch the payload across the 16- and 64-bit length forms.
  const std::size_t stretch[] = {0, 126, 0xFFFF, 0x10000};
  const std::size_t want = stretch[(sel >> 3) & 3];
  if (!control && want != 0) {
    const std::string unit = payload.empty() ? std::string("x") : payload;
    payload.clear();
    while (payload.size() < want) payload += unit;
    payload.resize(want);
  }
  if (control && payload.size() > 125) payload.resize(125);

  std::string wire;
  hd::append_ws_frame(wire, op, payload);
  const std::vector<ServerFrame> frames = parse_server_output(wire);
  check(frames.size() == 1);
  check(frames[0].opcode == static_cast<std::uint8_t>(op) && frames[0].payload == payload);

  const std::uint8_t key[4] = {0xA5, 0x00, 0xFF, static_cast<std::uint8_t>(sel)};
  const std::size_t hdr = wire.size() - payload.size();
  std::string masked = wire.substr(0, hdr);
  masked[1] = static_cast<char>(at(masked, 1) | 0x80);
  masked.append(reinterpret_cast<const char*>(key), 4);
  append_masked(masked, payload, key);
  check(masked == client_frame(at(wire, 0), payload, key));

  const hd::WsHeaderResult r = hd::parse_ws_frame_header(masked);
  check(r.kind == Kind::kFrame);
  check_frame(masked, r.header);
  check(r.header.fin && r.header.opcode == op && r.header.header_bytes == hdr + 4 &&
        r.header.payload_bytes == payload.size());
  std::string unmasked;
  append_masked(unmasked, std::string_view(masked).substr(r.header.header_bytes), r.header.mask);
  check(unmasked == payload);
}

// One client close with `payload`, alone on a fresh engine (§5.5.1).
void check_close_reply(std::string_view payload) {
  if (payload.size() > 125) payload = payload.substr(0, 125);
  const std::uint8_t key[4] = {1, 2, 3, 4};
  const EngineRun run = run_engine(client_frame(0x88, payload, key), 1 << 20, 64 * 1024);
  check(run.finished && run.delivered.empty());
  const std::vector<ServerFrame> frames = parse_server_output(run.out);
  check_server_frames(frames);
  check(frames.size() == 1 && frames[0].opcode == 0x8);
  const std::uint16_t code = close_code(payload);
  std::uint16_t expected = 1002;
  if (payload.empty()) {
    expected = 1000;
  } else if (payload.size() >= 2 && reference_close_code(code) &&
             reference_utf8(payload.substr(2))) {
    expected = code;
  }
  check(close_code(frames[0].payload) == expected);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::uint8_t control = data[0];
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  check(hd::valid_utf8(rest) == reference_utf8(rest));
  switch (control & 3) {
    case 0:
      check_header_parser(rest);
      check_engine(rest, control);
      break;
    case 1:
      check_engine(frames_from_records(rest), control);
      break;
    case 2:
      check_round_trip(rest);
      break;
    default:
      check_close_reply(rest);
      break;
  }
  return 0;
}
