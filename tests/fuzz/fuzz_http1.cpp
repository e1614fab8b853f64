// HTTP/1.x header-block parsing, signature text and p0f's per-flow HTTP
// state machine on arbitrary bytes. Beyond "no crash", results must respect
// p0f's limits and the text form must stay one log field; a violation traps
// so the fuzzer records the input.
//
// Input: byte 0 picks the segment size used to feed HttpGate; the rest is
// read both as a request and as a response.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "huginn/analyzer/http_gate.hpp"
#include "huginn/fingerprint/http/http1_parser.hpp"
#include "huginn/fingerprint/http/http_signature.hpp"
#include "huginn/fingerprint/http/language.hpp"
#include "huginn/util/limits.hpp"

namespace {

namespace fh = huginn::fingerprint::http;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

bool builtin_known(std::string_view name) {
  for (std::string_view n : fh::builtin_header_names()) {
    if (n == name) return true;
  }
  return false;
}

void check_message(const fh::Http1Message& m) {
  check(m.headers.size() <= fh::kMaxHeaders);
  for (const auto& h : m.headers) {
    check(!h.name.empty() && h.name.size() <= fh::kMaxHeaderName);
    check(h.value.size() <= fh::kMaxHeaderValue);
  }
  check(m.start_line.size() < fh::kMaxStartLine);
}

void check_signature(const fh::Http1Message& m) {
  const fh::HttpSignature sig = fh::compute_http_signature(m);
  const std::string raw = fh::format_http_raw_sig(sig, builtin_known);
  // One p0f log field: no line breaks or other control bytes.
  for (const char c : raw) check(static_cast<unsigned char>(c) >= 0x20);
  if (sig.lang) {
    const fh::Language l = fh::classify_accept_language(*sig.lang);
    check(l.verdict != fh::LanguageVerdict::kKnown || !l.name.empty());
  }
}

void parse_whole(std::span<const std::uint8_t> body, bool request) {
  for (const bool more : {true, false}) {
    fh::Http1Message m;
    const fh::ParseResult r = request ? fh::parse_http1_request(body, more, m)
                                      : fh::parse_http1_response(body, more, m);
    check_message(m);
    if (r.status == fh::ParseStatus::kOk) {
      check(r.end < body.size());
      check(body[r.end] == '\r' || body[r.end] == '\n');
      check_signature(m);
    }
    if (!more) check(r.status != fh::ParseStatus::kNeedMore);
    check((r.status == fh::ParseStatus::kMalformed) == (r.error != fh::ParseError::kNone));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t step = 1 + data[0];
  const std::span<const std::uint8_t> body(data + 1, size - 1);
  parse_whole(body, true);
  parse_whole(body, false);

  // The same bytes as a request stream and then a response stream, in
  // segments, as the analyzer feeds them (each direction capped at p0f's
  // per-flow limit).
  const std::size_t cap = std::min(body.size(), huginn::limits::kMaxFlowData);
  huginn::analyzer::HttpGate gate;
  std::size_t req_len = 0;
  std::size_t resp_len = 0;
  bool want = true;
  while (want && req_len < cap) {
    req_len = std::min(cap, req_len + step);
    want = gate.process(true, body.first(req_len), {});
    if (const auto* m = gate.completed()) {
      check(m->request);
      check_message(*m);
      check_signature(*m);
    }
  }
  while (want && resp_len < cap) {
    resp_len = std::min(cap, resp_len + step);
    want = gate.process(false, body.first(req_len), body.first(resp_len));
    if (const auto* m = gate.completed()) {
      check(!m->request);
      check_message(*m);
      check_signature(*m);
    }
  }
  return 0;
}
