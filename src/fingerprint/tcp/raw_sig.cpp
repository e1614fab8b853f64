#include "huginn/fingerprint/tcp/raw_sig.hpp"

#include <charconv>
#include <cstdio>

#include "huginn/fingerprint/tcp/ttl.hpp"
#include "huginn/fingerprint/tcp/win_multi.hpp"
#include "huginn/util/limits.hpp"

namespace huginn::fingerprint::tcp {

namespace {

void append_uint(std::string& out, std::uint32_t v) {
  char buf[16];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
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

}  // namespace

void append_olayout(std::string& out, const TcpSignature& sig) {
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

void append_quirks(std::string& out, std::uint32_t quirks) {
  bool first = true;
  for (const auto& q : kQuirkNames) {
    if ((quirks & q.bit) == 0) continue;
    if (!first) out += ',';
    out += q.name;
    first = false;
  }
}

std::string format_raw_sig(const TcpSignature& sig, std::uint16_t syn_mss) {
  std::string out;
  out.reserve(96);
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
    out += wm.use_mtu ? "mtu*" : "mss*";
    append_uint(out, static_cast<std::uint32_t>(wm.multi));
  } else {
    append_uint(out, sig.win);
  }
  out += ',';
  append_uint(out, sig.wscale);
  out += ':';
  append_olayout(out, sig);
  out += ':';
  append_quirks(out, sig.quirks);
  out += sig.payload ? ":+" : ":0";
  return out;
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
