#include "huginn/fingerprint/tls/ja4.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <memory>
#include <span>
#include <vector>

#include "huginn/fingerprint/tls/grease.hpp"

namespace huginn::fingerprint::tls {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr std::string_view kEmptyHash = "000000000000";
constexpr std::size_t kMaxCount = 99;  // JA4: counts above 99 print as 99

// "v1,v2,...": sized once, then written in place.
void append_join_hex(std::string& s, std::span<const std::uint16_t> v) {
  if (v.empty()) return;
  const std::size_t at = s.size();
  s.resize(at + 5 * v.size() - 1);
  char* p = s.data() + at;
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i != 0) *p++ = ',';
    const std::uint16_t x = v[i];
    *p++ = kHexDigits[(x >> 12) & 0xf];
    *p++ = kHexDigits[(x >> 8) & 0xf];
    *p++ = kHexDigits[(x >> 4) & 0xf];
    *p++ = kHexDigits[x & 0xf];
  }
}

void append_count(std::string& s, std::size_t n) {
  n = std::min(n, kMaxCount);
  s += static_cast<char>('0' + n / 10);
  s += static_cast<char>('0' + n % 10);
}

bool is_ascii_alnum(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

// JA4 "version": the highest non-GREASE supported_versions entry when the
// extension is present, else ClientHello.legacy_version. The record-layer
// version is ignored. A supported_versions list holding only GREASE has no
// highest entry; the legacy version is used then.
std::uint16_t ja4_version(const ClientHello& h) {
  if (h.has_extension(ext::kSupportedVersions)) {
    bool any = false;
    std::uint16_t best = 0;
    for (const auto v : h.supported_versions) {
      if (is_grease(v)) continue;
      best = any ? std::max(best, v) : v;
      any = true;
    }
    if (any) return best;
  }
  return h.legacy_version;
}

void append_hash12(std::string& out, std::string_view text);

// The lists and texts one fingerprint is built from. Reused across calls on
// a thread, so that steady state allocates only the result strings.
struct Scratch {
  std::vector<std::uint16_t> ciphers;         // wire order, no GREASE
  std::vector<std::uint16_t> exts;            // wire order, no GREASE or excluded
  std::vector<std::uint16_t> sorted_ciphers;
  std::vector<std::uint16_t> sorted_exts;     // without SNI and ALPN
  std::vector<std::uint16_t> sig_list;        // signature algorithms, no GREASE
  std::string a;                              // ja4_a
  std::string sigs;                           // "s1,s2,..." (wire order, no GREASE)
  std::string text;                           // one list text being hashed or printed
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

// Fills the scratch lists and ja4_a for `h` without the `excluded`
// extension types.
void prepare(Scratch& s, const ClientHello& h, char transport, AlpnRule alpn_rule,
             std::span<const std::uint16_t> excluded) {
  s.ciphers.clear();
  for (const auto c : h.cipher_suites)
    if (!is_grease(c)) s.ciphers.push_back(c);
  s.exts.clear();
  for (const auto e : h.extensions)
    if (!is_grease(e) && std::find(excluded.begin(), excluded.end(), e) == excluded.end())
      s.exts.push_back(e);
  // Signature algorithms count only when the extension is present; the
  // list is empty otherwise anyway.
  s.sig_list.clear();
  for (const auto a : h.signature_algorithms)
    if (!is_grease(a)) s.sig_list.push_back(a);
  s.sigs.clear();
  append_join_hex(s.sigs, s.sig_list);

  s.a.clear();
  s.a += transport;
  s.a += ja4_version_code(ja4_version(h));
  s.a += h.has_extension(ext::kServerName) ? 'd' : 'i';
  append_count(s.a, s.ciphers.size());
  append_count(s.a, s.exts.size());
  s.a += format_ja4_alpn(h.alpn.empty() ? std::string_view{} : std::string_view{h.alpn.front()},
                         alpn_rule);

  s.sorted_ciphers.assign(s.ciphers.begin(), s.ciphers.end());
  std::sort(s.sorted_ciphers.begin(), s.sorted_ciphers.end());
  s.sorted_exts.clear();
  for (const auto e : s.exts)
    if (e != ext::kServerName && e != ext::kAlpn) s.sorted_exts.push_back(e);
  std::sort(s.sorted_exts.begin(), s.sorted_exts.end());
}

// "c1,c2,..." of `ciphers` into s.text.
void cipher_text(Scratch& s, std::span<const std::uint16_t> ciphers) {
  s.text.clear();
  append_join_hex(s.text, ciphers);
}
// "e1,e2,..._s1,s2,..." of `exts` into s.text ("_" and the signature
// algorithms only when there are any).
void extension_text(Scratch& s, std::span<const std::uint16_t> exts) {
  s.text.clear();
  append_join_hex(s.text, exts);
  if (!s.sigs.empty()) {
    s.text += '_';
    s.text += s.sigs;
  }
}

// The spec sets a part to zeros when its list (ciphers; extensions) is
// empty, rather than hashing the empty string.
void append_hash_or_zero(std::string& out, bool empty, std::string_view text) {
  if (empty) {
    out += kEmptyHash;
  } else {
    append_hash12(out, text);
  }
}

// a _ hash(b) _ hash(c), over the sorted (or wire-order) lists.
void append_hashed(std::string& out, Scratch& s, bool sorted) {
  const auto& ciphers = sorted ? s.sorted_ciphers : s.ciphers;
  const auto& exts = sorted ? s.sorted_exts : s.exts;
  out.reserve(s.a.size() + 2 + 2 * kEmptyHash.size());
  out += s.a;
  out += '_';
  cipher_text(s, ciphers);
  append_hash_or_zero(out, ciphers.empty(), s.text);
  out += '_';
  extension_text(s, exts);
  append_hash_or_zero(out, exts.empty(), s.text);
}

// a _ b _ c with the lists printed.
void append_raw(std::string& out, Scratch& s, bool sorted) {
  const auto& ciphers = sorted ? s.sorted_ciphers : s.ciphers;
  const auto& exts = sorted ? s.sorted_exts : s.exts;
  out.reserve(s.a.size() + 2 + 5 * (ciphers.size() + exts.size()) + s.sigs.size() + 1);
  out += s.a;
  out += '_';
  append_join_hex(out, ciphers);
  out += '_';
  extension_text(s, exts);
  out += s.text;
}

// The four forms from prepared scratch lists.
void append_forms(Ja4& out, Scratch& s) {
  append_hashed(out.ja4, s, /*sorted=*/true);
  append_raw(out.ja4_r, s, /*sorted=*/true);
  append_hashed(out.ja4_o, s, /*sorted=*/false);
  append_raw(out.ja4_ro, s, /*sorted=*/false);
}

Ja4 compute(const ClientHello& h, char transport, AlpnRule alpn_rule,
            std::span<const std::uint16_t> excluded) {
  Scratch& s = scratch();
  prepare(s, h, transport, alpn_rule, excluded);
  Ja4 out;
  append_forms(out, s);
  return out;
}

}  // namespace

std::string_view ja4_version_code(std::uint16_t version) {
  switch (version) {
    case 0x0304: return "13";
    case 0x0303: return "12";
    case 0x0302: return "11";
    case 0x0301: return "10";
    case 0x0300: return "s3";
    case 0x0002: return "s2";
    case 0xfeff: return "d1";
    case 0xfefd: return "d2";
    case 0xfefc: return "d3";
    default: return "00";
  }
}

std::string format_ja4_alpn(std::string_view first_value, AlpnRule rule) {
  if (first_value.empty()) return "00";
  const auto first = static_cast<unsigned char>(first_value.front());
  const auto last = static_cast<unsigned char>(first_value.back());
  if (is_ascii_alnum(first) && is_ascii_alnum(last))
    return {static_cast<char>(first), static_cast<char>(last)};
  if (rule == AlpnRule::kLegacyNines) {
    return {is_ascii_alnum(first) ? static_cast<char>(first) : '9',
            is_ascii_alnum(last) ? static_cast<char>(last) : '9'};
  }
  // First and last characters of the hex form of the whole value: the high
  // nibble of the first byte and the low nibble of the last.
  return {kHexDigits[first >> 4], kHexDigits[last & 0xf]};
}

namespace {

// SHA-256, fetched from the provider once per process and with one digest
// context per thread: OpenSSL 3's EVP_Digest(EVP_sha256()) does an implicit
// fetch and allocates a context on every call, which was ~6% of analyze on
// a TLS-heavy capture. The context is freed when its thread exits.
bool sha256(std::string_view text, unsigned char* md, unsigned int* md_len) {
  struct MdFree {
    void operator()(EVP_MD* m) const { EVP_MD_free(m); }
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  };
  static const std::unique_ptr<EVP_MD, MdFree> sha(EVP_MD_fetch(nullptr, "SHA256", nullptr));
  thread_local const std::unique_ptr<EVP_MD_CTX, MdFree> ctx(EVP_MD_CTX_new());
  return sha && ctx && EVP_DigestInit_ex(ctx.get(), sha.get(), nullptr) == 1 &&
         EVP_DigestUpdate(ctx.get(), text.data(), text.size()) == 1 &&
         EVP_DigestFinal_ex(ctx.get(), md, md_len) == 1;
}

void append_hash12(std::string& out, std::string_view text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int md_len = 0;
  // SHA-256 fails only on allocation failure inside OpenSSL; the zero hash
  // then marks the part as unavailable.
  if (text.empty() || !sha256(text, md.data(), &md_len) || md_len < 6) {
    out += kEmptyHash;
    return;
  }
  char hex[12];
  for (std::size_t i = 0; i < 6; ++i) {
    hex[2 * i] = kHexDigits[md[i] >> 4];
    hex[2 * i + 1] = kHexDigits[md[i] & 0xf];
  }
  out.append(hex, sizeof hex);
}

}  // namespace

std::string ja4_hash12(std::string_view text) {
  std::string out;
  append_hash12(out, text);
  return out;
}

Ja4 compute_ja4(const ClientHello& hello, char transport, AlpnRule alpn_rule) {
  return compute(hello, transport, alpn_rule, {});
}

Ja4 compute_ja4_stable(const ClientHello& hello, char transport, AlpnRule alpn_rule) {
  return compute(hello, transport, alpn_rule, kStableExcludedExtensions);
}

Ja4WithStable compute_ja4_with_stable(const ClientHello& hello, char transport,
                                      AlpnRule alpn_rule) {
  Scratch& s = scratch();
  prepare(s, hello, transport, alpn_rule, {});
  Ja4WithStable out;
  append_forms(out.ja4, s);

  const auto excluded = std::span<const std::uint16_t>(kStableExcludedExtensions);
  const bool any_excluded = std::any_of(hello.extensions.begin(), hello.extensions.end(), [&](auto e) {
    return std::find(excluded.begin(), excluded.end(), e) != excluded.end();
  });
  if (!any_excluded) {
    // Nothing to leave out: the same lists, so the same fingerprint.
    out.stable = out.ja4.ja4;
    return out;
  }
  // ja4_b depends on the cipher suites only, which the stable form keeps.
  const std::string_view cipher_hash =
      std::string_view(out.ja4.ja4).substr(s.a.size() + 1, kEmptyHash.size());
  prepare(s, hello, transport, alpn_rule, excluded);
  out.stable.reserve(s.a.size() + 2 + 2 * kEmptyHash.size());
  out.stable += s.a;
  out.stable += '_';
  out.stable += cipher_hash;
  out.stable += '_';
  extension_text(s, s.sorted_exts);
  append_hash_or_zero(out.stable, s.sorted_exts.empty(), s.text);
  return out;
}

}  // namespace huginn::fingerprint::tls
