#include "huginn/fingerprint/http2/header_block.hpp"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <memory>

namespace huginn::fingerprint::http2 {
namespace {

// RFC 9113 §6.5.2: each field counts its name and value octets plus 32.
constexpr std::size_t kFieldOverhead = 32;

struct InflaterDeleter {
  void operator()(nghttp2_hd_inflater* p) const { nghttp2_hd_inflate_del(p); }
};

std::string_view as_text(const std::uint8_t* p, std::size_t n) {
  return n == 0 ? std::string_view{} : std::string_view(reinterpret_cast<const char*>(p), n);
}

}  // namespace

bool append_header_field(HeaderBlock& block, std::string_view name, std::string_view value,
                         const HeaderLimits& limits, std::size_t& list_size) {
  list_size += name.size() + value.size() + kFieldOverhead;
  if (block.fields.size() >= limits.max_fields || list_size > limits.max_list_size) {
    block.status = HeaderStatus::kTruncated;
    return false;
  }
  HeaderField f;
  f.name.assign(name.substr(0, limits.max_name_length));
  f.value.assign(value.substr(0, limits.max_value_length));
  f.name_truncated = name.size() > limits.max_name_length;
  f.value_truncated = value.size() > limits.max_value_length;
  block.fields.push_back(std::move(f));
  return true;
}

HeaderBlock decode_header_block(std::span<const std::uint8_t> block, const HeaderLimits& limits) {
  HeaderBlock out;
  out.status = HeaderStatus::kOk;
  nghttp2_hd_inflater* raw = nullptr;
  if (nghttp2_hd_inflate_new(&raw) != 0) {
    out.status = HeaderStatus::kHpackError;
    return out;
  }
  const std::unique_ptr<nghttp2_hd_inflater, InflaterDeleter> inflater(raw);
  if (nghttp2_hd_inflate_change_table_size(raw, limits.max_table_size) != 0) {
    out.status = HeaderStatus::kHpackError;
    return out;
  }
  // nghttp2 reads `in` only within `left`; a non-null pointer is passed
  // even for an empty block.
  static constexpr std::uint8_t kEmpty = 0;
  const std::uint8_t* in = block.empty() ? &kEmpty : block.data();
  std::size_t left = block.size();
  std::size_t list_size = 0;
  while (true) {
    nghttp2_nv nv{};
    int flags = 0;
    // in_final = 1: the whole block is here, so running out of input inside
    // a field is an error rather than a wait.
    const auto rv = nghttp2_hd_inflate_hd2(raw, &nv, &flags, in, left, 1);
    if (rv < 0) {
      out.status = HeaderStatus::kHpackError;
      break;
    }
    const auto used = static_cast<std::size_t>(rv);
    in += used;
    left -= used;
    if ((flags & NGHTTP2_HD_INFLATE_EMIT) != 0 &&
        !append_header_field(out, as_text(nv.name, nv.namelen), as_text(nv.value, nv.valuelen),
                             limits, list_size)) {
      break;
    }
    if ((flags & NGHTTP2_HD_INFLATE_FINAL) != 0) {
      nghttp2_hd_inflate_end_headers(raw);
      break;
    }
    // No field and no progress: the block ended inside a representation.
    if ((flags & NGHTTP2_HD_INFLATE_EMIT) == 0 && used == 0) {
      out.status = HeaderStatus::kHpackError;
      break;
    }
  }
  return out;
}

}  // namespace huginn::fingerprint::http2
