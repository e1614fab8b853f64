#pragma once
// JSON string escaping (RFC 8259 §7) for untrusted bytes, shared by every
// module that writes JSON text by hand (the JSONL writer, the profile
// store).
//
// The output is always valid JSON whatever the input: '"', '\' and
// control characters are escaped (the short forms \b \f \n \r \t, else
// \u00xx), DEL and '/' are copied, and every broken UTF-8 sequence (RFC
// 3629 §4: no overlong forms, no surrogates, nothing above U+10FFFF)
// becomes one U+FFFD, the byte that broke it being read afresh. These are
// exactly the bytes nlohmann::json's dump(-1, ' ', false,
// error_handler_t::replace) writes, which logs already written depend on
// (tests/unit/util/json_escape_test.cpp compares the two).
//
// `Out` is any byte sink with `out += char` and `out.append(const char*,
// std::size_t)`: std::string, or the JSONL writer's own buffer.
#include <cstddef>
#include <string>
#include <string_view>

namespace huginn::util {

namespace json_escape_detail {

inline constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

// Bytes copied as they are: printable ASCII and DEL, except '"' and '\'.
constexpr bool plain_ascii(unsigned char b) { return b >= 0x20 && b < 0x80 && b != '"' && b != '\\'; }

// Index of the first byte at or after `i` that plain_ascii() rejects, or
// s.size().
[[nodiscard]] std::size_t plain_run_end(std::string_view s, std::size_t i);

// Length of the well-formed UTF-8 sequence starting at s[i] (a byte >=
// 0x80), or 0 when none starts there; `bad_at` is then the offset of the
// first byte that breaks it, or the remaining length when the string ends
// inside the sequence.
[[nodiscard]] std::size_t utf8_sequence(std::string_view s, std::size_t i, std::size_t& bad_at);

// The escape of an ASCII byte that plain_ascii() rejects, written to `buf`.
[[nodiscard]] std::string_view escape_ascii(unsigned char b, char (&buf)[6]);

}  // namespace json_escape_detail

// Appends `s` as a quoted JSON string.
template <typename Out>
void append_json_string(Out& out, std::string_view s) {
  namespace d = json_escape_detail;
  out += '"';
  std::size_t i = 0;
  while (i < s.size()) {
    const std::size_t run = d::plain_run_end(s, i);
    out.append(s.data() + i, run - i);
    i = run;
    if (i == s.size()) break;
    const auto b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      char buf[6];
      const std::string_view esc = d::escape_ascii(b, buf);
      out.append(esc.data(), esc.size());
      ++i;
      continue;
    }
    std::size_t bad_at = 0;
    const std::size_t len = d::utf8_sequence(s, i, bad_at);
    if (len != 0) {
      out.append(s.data() + i, len);
      i += len;
    } else {
      // One U+FFFD for the broken prefix; the byte that broke it starts
      // afresh (it may be valid on its own), unless it was the lead byte.
      out.append(d::kReplacement.data(), d::kReplacement.size());
      i += bad_at == 0 ? 1 : bad_at;
    }
  }
  out += '"';
}

// Appends bytes known to be ISO 8859-1 (HTTP/1 header values, RFC 9110
// §5.5) as a quoted JSON string: each byte >= 0x80 is its code point in
// UTF-8, so nothing is replaced.
template <typename Out>
void append_json_latin1_string(Out& out, std::string_view bytes) {
  namespace d = json_escape_detail;
  out += '"';
  for (const char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    if (d::plain_ascii(b)) {
      out += c;
    } else if (b < 0x80) {
      char buf[6];
      const std::string_view esc = d::escape_ascii(b, buf);
      out.append(esc.data(), esc.size());
    } else {
      const char utf8[2] = {static_cast<char>(0xc0 | (b >> 6)), static_cast<char>(0x80 | (b & 0x3f))};
      out.append(utf8, 2);
    }
  }
  out += '"';
}

// Whether append_json_string() would copy `s` unchanged between quotes.
[[nodiscard]] inline bool json_plain(std::string_view s) {
  return json_escape_detail::plain_run_end(s, 0) == s.size();
}

}  // namespace huginn::util
