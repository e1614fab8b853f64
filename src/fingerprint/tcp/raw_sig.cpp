#include "huginn/fingerprint/tcp/raw_sig.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "huginn/fingerprint/tcp/ttl.hpp"
#include "huginn/fingerprint/tcp/win_multi.hpp"
#include "huginn/util/limits.hpp"

namespace huginn::fingerprint::tcp {

namespace {

// The text of one signature, built in place: a std::string append is an
// out-of-line call, and a signature is some 25 of them, once for every SYN
// and SYN+ACK. The capacity is the longest text any TcpSignature can give
// (kMaxRawSig below); appends past it are dropped rather than overflow,
// which cannot happen while that bound holds.
template <std::size_t N>
class FixedText {
 public:
  void operator+=(char c) {
    if (len_ < N) buf_[len_++] = c;
  }
  void operator+=(std::string_view s) {
    const std::size_t n = std::min(s.size(), N - len_);
    std::memcpy(buf_.data() + len_, s.data(), n);
    len_ += n;
  }
  void append_uint(std::uint32_t v) {
    char digits[10];
    const auto r = std::to_chars(digits, digits + sizeof digits, v);
    *this += std::string_view(digits, static_cast<std::size_t>(r.ptr - digits));
  }
  [[nodiscard]] std::string str() const { return std::string(buf_.data(), len_); }

 private:
  std::array<char, N> buf_{};
  std::size_t len_ = 0;
};

void append_uint(std::string& out, std::uint32_t v) {
  char buf[16];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}
template <std::size_t N>
void append_uint(FixedText<N>& out, std::uint32_t v) {
  out.append_uint(v);
}

// p0f README quirk names, in dump_sig's order.
struct QuirkName {
  std::uint32_t bit;
  const char* name;
};
constexpr QuirkName kQuirkNames[] = {
    {kQuirkDf, "df"},          {kQuirkNzId, "id+"},        {kQuirkZeroId, "id-"},
    {kQuirkEcn, "ecn"},        {kQuirkNzMbz, "0+"},        {kQuirkFlow, "flow"},
    {kQuirkZeroSeq, "seq-"},   {kQuirkNzAck, "ack+"},      {kQuirkZeroAck, "ack-"},
    {kQuirkNzUrg, "uptr+"},    {kQuirkUrg, "urgf+"},       {kQuirkPush, "pushf+"},
    {kQuirkOptZeroTs1, "ts1-"}, {kQuirkOptNzTs2, "ts2+"},  {kQuirkOptEolNz, "opt+"},
    {kQuirkOptExws, "exws"},   {kQuirkOptBad, "bad"},
};

template <typename Out>
void olayout_to(Out& out, const TcpSignature& sig) {
  for (std::size_t i = 0; i < sig.opt_cnt; ++i) {
    if (i != 0) out += ',';
    switch (sig.olayout[i]) {
      case kOptEol:
        out += "eol+";
        append_uint(out, sig.opt_eol_pad);
        break;
      case kOptNop: out += "nop"; break;
      case kOptMss: out += "mss"; break;
      case kOptWs: out += "ws"; break;
      case kOptSok: out += "sok"; break;
      case kOptSack: out += "sack"; break;
      case kOptTs: out += "ts"; break;
      default:
        out += '?';
        append_uint(out, sig.olayout[i]);
    }
  }
}

template <typename Out>
void quirks_to(Out& out, std::uint32_t quirks) {
  bool first = true;
  for (const auto& q : kQuirkNames) {
    if ((quirks & q.bit) == 0) continue;
    if (!first) out += ',';
    out += std::string_view(q.name);
    first = false;
  }
}

// The longest raw_sig: the fields before the options take at most 33
// bytes ("6:255+35:255:65535:mss*32767,255:"; olen and the scale are 8
// bits, the multiple a positive int16), each option slot at most 8
// ("eol+255," is the longest kind), then ':', every quirk name with its
// comma and ":+". Rounded up generously.
constexpr std::size_t quirk_names_bytes() {
  std::size_t n = 0;
  for (const auto& q : kQuirkNames) n += std::string_view(q.name).size() + 1;
  return n;
}
constexpr std::size_t kMaxRawSig = 64 + 8 * limits::kMaxTcpOptions + quirk_names_bytes();

}  // namespace

void append_olayout(std::string& out, const TcpSignature& sig) { olayout_to(out, sig); }

void append_quirks(std::string& out, std::uint32_t quirks) { quirks_to(out, quirks); }

std::string format_raw_sig(const TcpSignature& sig, std::uint16_t syn_mss) {
  FixedText<kMaxRawSig> out;
  append_uint(out, static_cast<std::uint32_t>(sig.ip_ver));
  out += ':';
  append_uint(out, sig.ttl);
  out += '+';
  const std::uint8_t dist = guess_dist(sig.ttl);
  if (dist > limits::kMaxDist) {
    out += '?';
  } else {
    append_uint(out, dist);
  }
  out += ':';
  append_uint(out, sig.ip_opt_len);
  out += ':';
  // A SYN+ACK echoing p0f-sendsyn's marker MSS says nothing about the
  // responder; p0f suggests a wildcard for it.
  if (sig.syn_ack && sig.mss == limits::kSpecialMss) {
    out += '*';
  } else {
    append_uint(out, sig.mss);
  }
  out += ':';
  const WinMulti wm = detect_win_multi(sig, syn_mss);
  if (wm.multi > 0) {
    out += std::string_view(wm.use_mtu ? "mtu*" : "mss*");
    append_uint(out, static_cast<std::uint32_t>(wm.multi));
  } else {
    append_uint(out, sig.win);
  }
  out += ',';
  append_uint(out, sig.wscale);
  out += ':';
  olayout_to(out, sig);
  out += ':';
  quirks_to(out, sig.quirks);
  out += std::string_view(sig.payload ? ":+" : ":0");
  return out.str();
}

std::string format_params(const ParamsInput& in) {
  std::string out;
  auto add = [&out](const char* s) {
    if (!out.empty()) out += ' ';
    out += s;
  };
  if (in.generic) add("generic");
  if (in.fuzzy) add("fuzzy");
  if (in.random_ttl) add("random_ttl");
  if (in.dist > limits::kMaxDist) add("excess_dist");
  if (in.tos != 0) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "tos:0x%02x", in.tos);
    add(buf);
  }
  return out.empty() ? std::string("none") : out;
}

}  // namespace huginn::fingerprint::tcp
