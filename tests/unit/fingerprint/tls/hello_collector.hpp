#pragma once
// HelloCollector: a test-only stand-in for the flow reassembler. It keeps,
// per direction of each TCP connection (4-tuple), the payload segments,
// orders them by sequence number from the SYN's ISN + 1 (or from the first
// data segment when the SYN was not captured), drops retransmitted bytes,
// stops at the first gap, and then reads ClientHellos from the front of
// that byte stream: the first, and any that follow it (a second ClientHello
// after a HelloRetryRequest).
#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "huginn/capture/capture_thread.hpp"
#include "huginn/capture/pcap_source.hpp"
#include "huginn/fingerprint/tls/client_hello.hpp"
#include "huginn/packet/decoded_packet.hpp"

namespace huginn::test {

struct StreamKey {
  std::string src;  // RFC 5952 text
  std::uint16_t sport = 0;
  std::string dst;
  std::uint16_t dport = 0;
  friend auto operator<=>(const StreamKey&, const StreamKey&) = default;
};

struct CollectedHellos {
  std::vector<fingerprint::tls::ClientHello> hellos;  // in stream order
  // Outcome that ended the walk: kNeedMore at the end of the bytes, or the
  // reason the bytes after the last hello are not one.
  fingerprint::tls::ParseStatus last_status = fingerprint::tls::ParseStatus::kNeedMore;
  std::size_t first_seen = 0;  // order of the direction's first packet in the capture
};

class HelloCollector {
 public:
  void add(const packet::DecodedPacket& p) {
    auto [it, inserted] = directions_.try_emplace(
        StreamKey{p.src.to_rfc5952_string(), p.sport, p.dst.to_rfc5952_string(), p.dport});
    Direction& d = it->second;
    if (inserted) d.first_seen = directions_.size();
    if ((p.flags & packet::tcp_flags::kSyn) != 0) d.isn = p.seq;
    if (p.payload.empty()) return;
    d.segments.push_back({p.seq, std::vector<std::uint8_t>(p.payload.begin(), p.payload.end())});
  }

  // Opens and reads a whole capture; returns libpcap's error text, if any.
  std::optional<std::string> read(const std::string& path) {
    auto opened = capture::PcapSource::open_file(path);
    if (!opened) return opened.error;
    capture::CaptureStats stats;
    return capture::read_file(
        *opened.source, [this](const packet::DecodedPacket& p) { add(p); }, stats);
  }

  // Every direction whose byte stream starts with a ClientHello.
  [[nodiscard]] std::map<StreamKey, CollectedHellos> hellos() const {
    std::map<StreamKey, CollectedHellos> out;
    for (const auto& [key, d] : directions_) {
      const auto bytes = assemble(d);
      CollectedHellos c;
      c.first_seen = d.first_seen;
      std::size_t off = 0;
      for (;;) {
        const auto r = fingerprint::tls::parse_client_hello(std::span(bytes).subspan(off));
        c.last_status = r.status;
        if (r.status != fingerprint::tls::ParseStatus::kOk) break;
        c.hellos.push_back(r.hello);
        off += r.consumed;
      }
      if (!c.hellos.empty()) out.emplace(key, std::move(c));
    }
    return out;
  }

 private:
  struct Segment {
    std::uint32_t seq;
    std::vector<std::uint8_t> data;
  };
  struct Direction {
    std::optional<std::uint32_t> isn;
    std::vector<Segment> segments;
    std::size_t first_seen = 0;
  };

  static std::vector<std::uint8_t> assemble(const Direction& d) {
    if (d.segments.empty()) return {};
    const std::uint32_t base = d.isn ? *d.isn + 1 : d.segments.front().seq;
    auto segs = d.segments;
    // Offsets relative to base, mod 2^32; a segment from before base
    // (should not happen with a SYN) sorts last and is then skipped.
    std::stable_sort(segs.begin(), segs.end(), [base](const Segment& a, const Segment& b) {
      return static_cast<std::uint32_t>(a.seq - base) < static_cast<std::uint32_t>(b.seq - base);
    });
    std::vector<std::uint8_t> out;
    for (const auto& s : segs) {
      const std::uint64_t start = static_cast<std::uint32_t>(s.seq - base);
      const std::uint64_t end = start + s.data.size();
      if (start > out.size()) break;    // gap: the in-order prefix ends here
      if (end <= out.size()) continue;  // retransmission of bytes we have
      out.insert(out.end(), s.data.begin() + static_cast<std::ptrdiff_t>(out.size() - start),
                 s.data.end());
    }
    return out;
  }

  std::map<StreamKey, Direction> directions_;
};

}  // namespace huginn::test
