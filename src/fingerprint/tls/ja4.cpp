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

std::vector<std::uint16_t> without_grease(const std::vector<std::uint16_t>& v) {
  std::vector<std::uint16_t> out;
  out.reserve(v.size());
  for (auto x : v)
    if (!is_grease(x)) out.push_back(x);
  return out;
}

void append_hex4(std::string& s, std::uint16_t v) {
  s += kHexDigits[(v >> 12) & 0xf];
  s += kHexDigits[(v >> 8) & 0xf];
  s += kHexDigits[(v >> 4) & 0xf];
  s += kHexDigits[v & 0xf];
}

std::string join_hex(std::span<const std::uint16_t> v) {
  std::string s;
  s.reserve(v.size() * 5);
  for (std::size_t i = 0; i < v.size(); ++i) {
    if (i != 0) s += ',';
    append_hex4(s, v[i]);
  }
  return s;
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
    const auto versions = without_grease(h.supported_versions);
    if (!versions.empty()) return *std::max_element(versions.begin(), versions.end());
  }
  return h.legacy_version;
}

Ja4 compute(const ClientHello& h, char transport, AlpnRule alpn_rule,
            std::span<const std::uint16_t> excluded) {
  const auto ciphers = without_grease(h.cipher_suites);
  std::vector<std::uint16_t> exts;
  exts.reserve(h.extensions.size());
  for (auto e : h.extensions)
    if (!is_grease(e) && std::find(excluded.begin(), excluded.end(), e) == excluded.end())
      exts.push_back(e);
  // Signature algorithms count only when the extension is present; the
  // list is empty otherwise anyway.
  const auto sigs = without_grease(h.signature_algorithms);

  std::string a;
  a += transport;
  a += ja4_version_code(ja4_version(h));
  a += h.has_extension(ext::kServerName) ? 'd' : 'i';
  append_count(a, ciphers.size());
  append_count(a, exts.size());
  a += format_ja4_alpn(h.alpn.empty() ? std::string_view{} : std::string_view{h.alpn.front()},
                       alpn_rule);

  auto sorted_ciphers = ciphers;
  std::sort(sorted_ciphers.begin(), sorted_ciphers.end());
  std::vector<std::uint16_t> sorted_exts;
  sorted_exts.reserve(exts.size());
  for (auto e : exts)
    if (e != ext::kServerName && e != ext::kAlpn) sorted_exts.push_back(e);
  std::sort(sorted_exts.begin(), sorted_exts.end());

  const std::string sig_text = join_hex(sigs);
  const auto ext_text = [&](std::span<const std::uint16_t> list) {
    std::string s = join_hex(list);
    if (!sig_text.empty()) {
      s += '_';
      s += sig_text;
    }
    return s;
  };
  const std::string b_sorted = join_hex(sorted_ciphers);
  const std::string b_orig = join_hex(ciphers);
  const std::string c_sorted = ext_text(sorted_exts);
  const std::string c_orig = ext_text(exts);
  // The spec sets a part to zeros when its list (ciphers; extensions) is
  // empty, rather than hashing the empty string.
  const auto hash_or_zero = [](bool empty, const std::string& text) {
    return empty ? std::string(kEmptyHash) : ja4_hash12(text);
  };

  Ja4 out;
  out.ja4 = a + '_' + hash_or_zero(sorted_ciphers.empty(), b_sorted) + '_' +
            hash_or_zero(sorted_exts.empty(), c_sorted);
  out.ja4_r = a + '_' + b_sorted + '_' + c_sorted;
  out.ja4_o =
      a + '_' + hash_or_zero(ciphers.empty(), b_orig) + '_' + hash_or_zero(exts.empty(), c_orig);
  out.ja4_ro = a + '_' + b_orig + '_' + c_orig;
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

}  // namespace

std::string ja4_hash12(std::string_view text) {
  if (text.empty()) return std::string(kEmptyHash);
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int md_len = 0;
  // SHA-256 fails only on allocation failure inside OpenSSL; the zero hash
  // then marks the part as unavailable.
  if (!sha256(text, md.data(), &md_len) || md_len < 6) return std::string(kEmptyHash);
  std::string out;
  out.reserve(12);
  for (std::size_t i = 0; i < 6; ++i) {
    out += kHexDigits[md[i] >> 4];
    out += kHexDigits[md[i] & 0xf];
  }
  return out;
}

Ja4 compute_ja4(const ClientHello& hello, char transport, AlpnRule alpn_rule) {
  return compute(hello, transport, alpn_rule, {});
}

Ja4 compute_ja4_stable(const ClientHello& hello, char transport, AlpnRule alpn_rule) {
  return compute(hello, transport, alpn_rule, kStableExcludedExtensions);
}

}  // namespace huginn::fingerprint::tls
