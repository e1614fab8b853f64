#include "tcp_packet_builder.hpp"

#include <stdexcept>
#include <string>

namespace huginn::test {
namespace {

constexpr std::uint8_t kProtoTcp = 6;
constexpr std::uint8_t kIp6HopByHop = 0;
constexpr std::size_t kMaxTcpOptionBytes = 40;  // data offset is 4 bits of words

void put16(std::vector<std::uint8_t>& out, std::size_t at, std::uint16_t v) {
  out[at] = static_cast<std::uint8_t>(v >> 8);
  out[at + 1] = static_cast<std::uint8_t>(v);
}
void push16(std::vector<std::uint8_t>& out, std::uint16_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}
void push32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  push16(out, static_cast<std::uint16_t>(v >> 16));
  push16(out, static_cast<std::uint16_t>(v));
}

// RFC 1071 one's-complement sum over 16-bit big-endian words.
std::uint32_t sum_words(const std::uint8_t* p, std::size_t n, std::uint32_t acc) {
  for (std::size_t i = 0; i + 1 < n; i += 2) acc += (std::uint32_t{p[i]} << 8) | p[i + 1];
  if (n & 1) acc += std::uint32_t{p[n - 1]} << 8;
  return acc;
}
std::uint16_t fold(std::uint32_t acc) {
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return static_cast<std::uint16_t>(~acc);
}

std::size_t addr_len(const packet::IpAddress& a) {
  return a.version == packet::IpVersion::v4 ? 4 : 16;
}

}  // namespace

packet::IpAddress parse_ip(std::string_view text) {
  if (auto a = packet::IpAddress::parse(text)) return *a;
  throw std::invalid_argument("not an IP address: " + std::string(text));
}

TcpPacketBuilder TcpPacketBuilder::syn_ack_for(const TcpPacketBuilder& request) {
  TcpPacketBuilder b;
  b.src_ = request.dst_;
  b.dst_ = request.src_;
  b.sport_ = request.dport_;
  b.dport_ = request.sport_;
  b.flags_ = tcp_flag::kSyn | tcp_flag::kAck;
  b.ack_ = request.seq_ + 1 + static_cast<std::uint32_t>(request.payload_.size());
  b.src_mac_ = request.dst_mac_;
  b.dst_mac_ = request.src_mac_;
  b.vlan_ = request.vlan_;
  return b;
}

TcpPacketBuilder& TcpPacketBuilder::ipv4(std::string_view src, std::string_view dst) {
  return addresses(parse_ip(src), parse_ip(dst));
}
TcpPacketBuilder& TcpPacketBuilder::ipv6(std::string_view src, std::string_view dst) {
  return addresses(parse_ip(src), parse_ip(dst));
}
TcpPacketBuilder& TcpPacketBuilder::addresses(const packet::IpAddress& src,
                                              const packet::IpAddress& dst) {
  if (src.version != dst.version) throw std::invalid_argument("mixed IPv4/IPv6 addresses");
  src_ = src;
  dst_ = dst;
  return *this;
}

TcpPacketBuilder& TcpPacketBuilder::ip_options_len(std::uint8_t len) {
  if (len % 4 != 0 || len > 40) throw std::invalid_argument("IPv4 options: multiple of 4, <= 40");
  ip_opt_len_ = len;
  return *this;
}

TcpPacketBuilder& TcpPacketBuilder::ipv6_hop_by_hop(std::size_t bytes) {
  if (bytes % 8 != 0 || bytes > 2048) throw std::invalid_argument("hop-by-hop: multiple of 8");
  hop_by_hop_len_ = bytes;
  return *this;
}

TcpPacketBuilder& TcpPacketBuilder::opt_eol(std::size_t pad, std::uint8_t pad_byte,
                                            bool all_pad_nonzero) {
  options_.push_back(0);
  for (std::size_t i = 0; i < pad; ++i)
    options_.push_back((i == 0 || all_pad_nonzero) ? pad_byte : 0);
  return *this;
}
TcpPacketBuilder& TcpPacketBuilder::opt_nop() {
  options_.push_back(1);
  return *this;
}
TcpPacketBuilder& TcpPacketBuilder::opt_mss(std::uint16_t mss) {
  options_.insert(options_.end(), {2, 4});
  push16(options_, mss);
  return *this;
}
TcpPacketBuilder& TcpPacketBuilder::opt_ws(std::uint8_t shift) {
  options_.insert(options_.end(), {3, 3, shift});
  return *this;
}
TcpPacketBuilder& TcpPacketBuilder::opt_sok() {
  options_.insert(options_.end(), {4, 2});
  return *this;
}
TcpPacketBuilder& TcpPacketBuilder::opt_sack(
    std::span<const std::pair<std::uint32_t, std::uint32_t>> blocks) {
  options_.push_back(5);
  options_.push_back(static_cast<std::uint8_t>(2 + 8 * blocks.size()));
  for (const auto& [l, r] : blocks) {
    push32(options_, l);
    push32(options_, r);
  }
  return *this;
}
TcpPacketBuilder& TcpPacketBuilder::opt_sack1(std::uint32_t left, std::uint32_t right) {
  const std::pair<std::uint32_t, std::uint32_t> block{left, right};
  return opt_sack(std::span(&block, 1));
}
TcpPacketBuilder& TcpPacketBuilder::opt_ts(std::uint32_t tsval, std::uint32_t tsecr) {
  options_.insert(options_.end(), {8, 10});
  push32(options_, tsval);
  push32(options_, tsecr);
  return *this;
}
TcpPacketBuilder& TcpPacketBuilder::opt_unknown(std::uint8_t kind,
                                                std::span<const std::uint8_t> data) {
  options_.push_back(kind);
  options_.push_back(static_cast<std::uint8_t>(2 + data.size()));
  options_.insert(options_.end(), data.begin(), data.end());
  return *this;
}
TcpPacketBuilder& TcpPacketBuilder::opt_raw(std::span<const std::uint8_t> bytes) {
  options_.insert(options_.end(), bytes.begin(), bytes.end());
  return *this;
}

std::size_t TcpPacketBuilder::tcp_header_len() const {
  return 20 + (options_.size() + 3) / 4 * 4;
}

std::size_t TcpPacketBuilder::ip_header_len() const {
  return is_ipv6() ? 40 : 20 + std::size_t{ip_opt_len_};
}

std::size_t TcpPacketBuilder::append_ip(std::vector<std::uint8_t>& out) const {
  if (options_.size() > kMaxTcpOptionBytes) throw std::invalid_argument("TCP options > 40 bytes");
  const std::size_t start = out.size();
  const std::size_t tcp_len = tcp_header_len() + payload_.size();
  const std::uint8_t tclass = static_cast<std::uint8_t>((dscp_ << 2) | ecn_);

  std::size_t pseudo_len_field = tcp_len;
  if (!is_ipv6()) {
    const std::size_t ihl = 20 + ip_opt_len_;
    const std::size_t total = ihl + tcp_len;
    out.push_back(static_cast<std::uint8_t>(0x40 | (ihl / 4)));
    out.push_back(tclass);
    push16(out, static_cast<std::uint16_t>(total));
    push16(out, ip_id_);
    // RFC 791 flags: bit 0 reserved ("must be zero"), bit 1 DF, bit 2 MF.
    push16(out, static_cast<std::uint16_t>((mbz_ ? 0x8000 : 0) | (df_ ? 0x4000 : 0)));
    out.push_back(ttl_);
    out.push_back(kProtoTcp);
    push16(out, 0);  // checksum, filled below
    out.insert(out.end(), src_.bytes.begin(), src_.bytes.begin() + 4);
    out.insert(out.end(), dst_.bytes.begin(), dst_.bytes.begin() + 4);
    if (ip_opt_len_ > 0) {
      out.insert(out.end(), ip_opt_len_ - 1u, std::uint8_t{1});  // NOP
      out.push_back(0);                                           // EOL
    }
    put16(out, start + 10, fold(sum_words(out.data() + start, ihl, 0)));
  } else {
    const std::uint32_t vtf = (6u << 28) | (std::uint32_t{tclass} << 20) | flow_label_;
    push32(out, vtf);
    push16(out, static_cast<std::uint16_t>(hop_by_hop_len_ + tcp_len));
    out.push_back(hop_by_hop_len_ ? kIp6HopByHop : kProtoTcp);
    out.push_back(ttl_);
    out.insert(out.end(), src_.bytes.begin(), src_.bytes.end());
    out.insert(out.end(), dst_.bytes.begin(), dst_.bytes.end());
    if (hop_by_hop_len_) {
      out.push_back(kProtoTcp);
      out.push_back(static_cast<std::uint8_t>(hop_by_hop_len_ / 8 - 1));
      // RFC 8200 §4.2 PadN filling the remaining hop_by_hop_len_ - 2 bytes
      // (in chunks of at most 257 bytes: type, len <= 255, data).
      std::size_t left = hop_by_hop_len_ - 2;
      while (left > 0) {
        const std::size_t chunk = left > 257 ? 257 : left;
        if (chunk == 1) {
          out.push_back(0);  // Pad1
        } else {
          out.push_back(1);
          out.push_back(static_cast<std::uint8_t>(chunk - 2));
          out.insert(out.end(), chunk - 2, std::uint8_t{0});
        }
        left -= chunk;
      }
    }
    pseudo_len_field = tcp_len;
  }

  const std::size_t tcp_start = out.size();
  push16(out, sport_);
  push16(out, dport_);
  push32(out, seq_);
  push32(out, ack_);
  const std::uint8_t doff =
      doff_override_ ? *doff_override_ : static_cast<std::uint8_t>(tcp_header_len() / 4);
  out.push_back(static_cast<std::uint8_t>((doff << 4) | (ns_ ? 1 : 0)));
  out.push_back(flags_);
  push16(out, window_);
  push16(out, 0);  // checksum, filled below
  push16(out, urg_ptr_);
  out.insert(out.end(), options_.begin(), options_.end());
  out.insert(out.end(), tcp_header_len() - 20 - options_.size(), std::uint8_t{0});
  out.insert(out.end(), payload_.begin(), payload_.end());

  // Pseudo-header: RFC 9293 §3.1 (IPv4), RFC 8200 §8.1 (IPv6).
  std::uint32_t acc = sum_words(src_.bytes.data(), addr_len(src_), 0);
  acc = sum_words(dst_.bytes.data(), addr_len(dst_), acc);
  acc += kProtoTcp;
  acc += static_cast<std::uint32_t>(pseudo_len_field & 0xffff);
  acc += static_cast<std::uint32_t>(pseudo_len_field >> 16);
  acc = sum_words(out.data() + tcp_start, tcp_len, acc);
  put16(out, tcp_start + 16, fold(acc));
  return out.size() - start;
}

std::vector<std::uint8_t> TcpPacketBuilder::build_ip() const {
  std::vector<std::uint8_t> out;
  out.reserve(ip_header_len() + hop_by_hop_len_ + tcp_header_len() + payload_.size());
  append_ip(out);
  return out;
}

std::vector<std::uint8_t> TcpPacketBuilder::build_ethernet() const {
  std::vector<std::uint8_t> out;
  out.reserve(18 + ip_header_len() + hop_by_hop_len_ + tcp_header_len() + payload_.size());
  out.insert(out.end(), dst_mac_.begin(), dst_mac_.end());
  out.insert(out.end(), src_mac_.begin(), src_mac_.end());
  if (vlan_) {
    push16(out, 0x8100);
    push16(out, *vlan_);
  }
  push16(out, is_ipv6() ? 0x86dd : 0x0800);
  append_ip(out);
  return out;
}

}  // namespace huginn::test
