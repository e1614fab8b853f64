#include "realtime/request_params.hpp"

#include <array>
#include <cctype>
#include <charconv>

#include "huginn/packet/ip_address.hpp"

namespace huginn::realtime::detail {
namespace {

// RFC 3986 §2.1 percent-decoding, with the form-encoding '+' (WHATWG URL
// §5.1 application/x-www-form-urlencoded parser) that URLSearchParams uses.
std::optional<std::string> decode_component(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      if (i + 2 >= in.size()) return std::nullopt;  // needs two hex digits
      const char* digits = in.data() + i + 1;
      if (!std::isxdigit(static_cast<unsigned char>(digits[0])) ||
          !std::isxdigit(static_cast<unsigned char>(digits[1]))) {
        return std::nullopt;  // from_chars alone would accept a sign
      }
      unsigned byte = 0;
      std::from_chars(digits, digits + 2, byte, 16);
      out += static_cast<char>(byte);
      i += 2;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::optional<std::uint64_t> parse_seq(std::string_view text) {
  if (text.empty() || text.size() > 20) return std::nullopt;
  std::uint64_t v = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return v;
}

std::optional<std::string> normalise_ip(std::string_view text) {
  auto ip = packet::IpAddress::parse(text);
  if (!ip) return std::nullopt;
  return ip->unmapped().to_rfc5952_string();
}

std::optional<StreamParams> parse_stream_params(std::string_view query, std::string_view resume_name,
                                                ParamError& error) {
  StreamParams p;
  bool seen_ip = false, seen_os = false, seen_ja4 = false, seen_resume = false;
  std::size_t count = 0;
  while (!query.empty()) {
    const std::size_t amp = query.find('&');
    const std::string_view piece = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (piece.empty()) continue;
    if (++count > kMaxQueryParams) {
      error = {"", "more than " + std::to_string(kMaxQueryParams) + " query parameters"};
      return std::nullopt;
    }
    const std::size_t eq = piece.find('=');
    const auto name = decode_component(piece.substr(0, eq));
    const auto value = decode_component(eq == std::string_view::npos ? std::string_view{} : piece.substr(eq + 1));
    if (!name || !value) {
      error = {name ? *name : "", "malformed percent-encoding"};
      return std::nullopt;
    }
    if (value->size() > kMaxParamBytes) {
      error = {*name, "value longer than " + std::to_string(kMaxParamBytes) + " bytes"};
      return std::nullopt;
    }
    auto once = [&](bool& seen) {
      if (seen) {
        error = {*name, "parameter given twice"};
        return false;
      }
      seen = true;
      if (value->empty()) {
        error = {*name, "empty value"};
        return false;
      }
      return true;
    };
    if (*name == "ip") {
      if (!once(seen_ip)) return std::nullopt;
      p.filter.ip = normalise_ip(*value);
      if (!p.filter.ip) {
        error = {"ip", "not an IPv4 or IPv6 address"};
        return std::nullopt;
      }
    } else if (*name == "os") {
      if (!once(seen_os)) return std::nullopt;
      p.filter.os = *value;
    } else if (*name == "ja4") {
      if (!once(seen_ja4)) return std::nullopt;
      p.filter.ja4 = *value;
    } else if (*name == resume_name) {
      if (!once(seen_resume)) return std::nullopt;
      p.resume = parse_seq(*value);
      if (!p.resume) {
        error = {*name, "not a sequence number"};
        return std::nullopt;
      }
    } else {
      error = {*name, "unknown query parameter"};
      return std::nullopt;
    }
  }
  return p;
}

}  // namespace huginn::realtime::detail
