// Fuzz target for packet::decode_packet(). The first input byte picks the
// link type (modulo the list below, which includes one unsupported DLT);
// the rest is the frame. On success every span is read end to end, so a
// span reaching past the input is caught by ASan, and the invariants the
// fingerprinting code relies on are checked.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "huginn/packet/decode.hpp"

namespace {

constexpr int kLinks[] = {
    huginn::packet::dlt::kEn10mb,   huginn::packet::dlt::kLinuxSll,
    huginn::packet::dlt::kLinuxSll2, huginn::packet::dlt::kRaw,
    huginn::packet::dlt::kLinkTypeRaw, huginn::packet::dlt::kIpv4,
    huginn::packet::dlt::kIpv6,     huginn::packet::dlt::kNull,
    huginn::packet::dlt::kLoop,     147,  // DLT_USER0: unsupported
};

// Keeps the span reads from being optimised away.
volatile unsigned g_sink = 0;

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const int link = kLinks[data[0] % std::size(kLinks)];
  const std::span<const std::uint8_t> frame(data + 1, size - 1);

  huginn::packet::DecodedPacket pkt;
  const auto r = huginn::packet::decode_packet(link, frame, 42, pkt);
  if (r.status != huginn::packet::DecodeStatus::kOk) {
    check(!r.reason.empty());
    return 0;
  }
  check(r.reason.empty());
  check(pkt.ts_us == 42);
  check(pkt.tcp_hdr_len >= 20 && pkt.tcp_options.size() == pkt.tcp_hdr_len - 20u);
  check(pkt.ip_hdr_len == (pkt.is_ipv6() ? 40 : 20 + pkt.ip_opt_len));
  // Spans lie inside the frame, options before payload.
  const auto* begin = frame.data();
  const auto* end = frame.data() + frame.size();
  check(pkt.tcp_options.data() >= begin && pkt.tcp_options.data() + pkt.tcp_options.size() <= end);
  check(pkt.payload.data() >= begin && pkt.payload.data() + pkt.payload.size() <= end);
  check(pkt.tcp_options.data() + pkt.tcp_options.size() == pkt.payload.data());
  unsigned sum = 0;
  for (auto b : pkt.tcp_options) sum += b;
  for (auto b : pkt.payload) sum += b;
  sum += static_cast<unsigned>(pkt.src.to_string().size() + pkt.dst.to_string().size());
  g_sink = sum;
  return 0;
}
