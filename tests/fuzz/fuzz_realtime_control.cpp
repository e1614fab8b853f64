// What a client sends the realtime endpoints, on arbitrary bytes: the /ws
// control messages (src/realtime/ws_control.*) and the /events and /ws
// query strings (src/realtime/request_params.*). Beyond "no crash": an
// error sentence exactly when parsing fails, filters that obey the query
// rules (an ip in RFC 5952 form, values of 1..kMaxParamBytes bytes), only
// `subscribe` carrying a filter or resume point, and the hub's answers
// (`subscribed`, `error`) each one line of valid JSON (UTF-8 included:
// send_text() refuses anything else). A violation traps.
//
// Input: byte 0 bit 0 picks the parser; the rest is the message or query.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "realtime/request_params.hpp"
#include "realtime/ws_control.hpp"

namespace {

namespace rd = huginn::realtime::detail;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

void check_filter(const huginn::realtime::Filter& f) {
  if (f.ip) check(rd::normalise_ip(*f.ip) == f.ip);
  for (const auto* v : {&f.os, &f.ja4}) {
    if (*v) check(!(*v)->empty() && (*v)->size() <= rd::kMaxParamBytes);
  }
}

// One message of the hub: a JSON object and its newline, nothing else.
void check_line(const std::string& out) {
  check(!out.empty() && out.back() == '\n');
  const std::string_view body(out.data(), out.size() - 1);
  check(body.find('\n') == std::string_view::npos);
  check(nlohmann::json::accept(body));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  if ((data[0] & 1) != 0) {
    std::string error;
    const auto c = rd::parse_ws_control(text, error);
    check(c.has_value() == error.empty());
    std::string out;
    if (c) {
      check_filter(c->filter);
      if (c->op != rd::WsOp::kSubscribe) check(!c->filter.active() && !c->last_event_id);
      rd::append_ws_subscribed(out, c->filter, false, c->last_event_id.value_or(0));
    } else {
      rd::append_ws_error(out, error);
    }
    check_line(out);
  } else {
    rd::ParamError error;
    const auto p = rd::parse_stream_params(text, "last_event_id", error);
    check(p.has_value() == error.message.empty());
    if (p) check_filter(p->filter);
  }
  return 0;
}
