#pragma once
// Whether p0f's HTTP module still wants data on a flow (p0f fp_http.c
// process_http/parse_pairs, return value only). p0f keeps a flow only while
// that module wants more, so this decides when later segments stop
// producing uptime records; HTTP fingerprints themselves are not computed.
//
// Reproduces p0f 3.09b as it behaves, including that it never marks a
// response's status line as consumed: each later response segment re-reads
// the next unread line as if it were the status line.
#include <cstdint>
#include <span>

namespace huginn::analyzer {

class HttpGate {
 public:
  // req / resp: everything captured so far in that direction, at most
  // limits::kMaxFlowData bytes. to_srv: the segment just appended went
  // client -> server. Returns true while more data is wanted.
  bool process(bool to_srv, std::span<const std::uint8_t> req, std::span<const std::uint8_t> resp);

  [[nodiscard]] bool gave_up() const { return in_http_ < 0; }

 private:
  bool parse_pairs(bool to_srv, std::span<const std::uint8_t> buf);

  std::int8_t in_http_ = 0;    // 0 undecided, 1 HTTP, -1 not (or finished)
  bool req_done_ = false;      // request headers complete
  std::uint32_t pos_ = 0;      // parse offset in the current direction's buffer
  std::uint32_t hdr_cnt_ = 0;  // headers seen in the current message
};

}  // namespace huginn::analyzer
