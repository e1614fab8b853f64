// Fuzz target for fingerprint::http2: the input is the client->server bytes
// of a TCP stream, read with read_client_frames() and fingerprinted with
// compute_client_fingerprint() whatever the read status (a flow may end at
// any point). Invariants checked on every input:
//  - a malformed result has a counter name; nothing consumes past the input;
//    the frame list respects max_frames;
//  - a decision made on a prefix stands: if the first half of the input is
//    already malformed, the whole input is malformed for the same reason;
//    an ok result reads the same from just its consumed bytes;
//  - the fingerprint has four '|'-separated fields and respects the caps.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "huginn/fingerprint/http2/client_fingerprint.hpp"
#include "huginn/fingerprint/http2/frame_reader.hpp"

namespace {

namespace h2 = huginn::fingerprint::http2;

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::uint8_t> in(data, size);
  const h2::ReaderLimits limits;
  const auto r = h2::read_client_frames(in, limits);
  check(r.consumed <= size);
  check(r.frames.size() <= limits.max_frames + 1);  // + the Upgrade SETTINGS
  if (r.status == h2::ReadStatus::kMalformed) {
    check(!h2::reason_name(r.reason).empty());
  } else {
    check(r.reason == h2::MalformedReason::kNone);
  }
  if (r.status == h2::ReadStatus::kOk) {
    const auto again = h2::read_client_frames(in.first(r.consumed), limits);
    check(again.status == h2::ReadStatus::kOk && again.frames.size() == r.frames.size());
  }
  const auto half = h2::read_client_frames(in.first(size / 2), limits);
  if (half.status == h2::ReadStatus::kMalformed) {
    check(r.status == h2::ReadStatus::kMalformed && r.reason == half.reason);
  }
  for (const auto& f : r.frames) {
    check(f.payload.size() == f.length && f.length <= limits.max_frame_payload);
  }

  const h2::FingerprintLimits fl;
  const auto fp = h2::compute_client_fingerprint(r.frames, fl);
  const std::string akamai = h2::format_akamai(fp);
  check(std::count(akamai.begin(), akamai.end(), '|') == 3);
  check(fp.priority_frames.size() <= fl.max_priority_frames);
  check(fp.priority_frames_total >= fp.priority_frames.size());
  check(fp.headers.fields.size() <= fl.headers.max_fields);
  for (const auto& f : fp.headers.fields) {
    check(f.name.size() <= fl.headers.max_name_length && f.value.size() <= fl.headers.max_value_length);
  }
  if (fp.headers.status == h2::HeaderStatus::kAbsent) check(fp.pseudo_header_order.empty());
  return 0;
}
