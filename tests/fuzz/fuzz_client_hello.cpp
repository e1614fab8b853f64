// Fuzz target for fingerprint::tls::parse_client_hello() and compute_ja4():
// the input is the client's first bytes of a TCP stream. Hellos are read
// one after another, as a flow does after a HelloRetryRequest. Invariants
// checked on every input:
//  - malformed results carry a counter name; ok results consume at least
//    one record header and no more than the input;
//  - an ok result does not depend on bytes after `consumed` (the same
//    prefix parses to the same hello);
//  - every JA4 form has the fixed shape (ja4 is 36 characters).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "huginn/fingerprint/tls/client_hello.hpp"
#include "huginn/fingerprint/tls/ja4.hpp"

namespace {

namespace tls = huginn::fingerprint::tls;

void check(bool ok) {
  if (!ok) std::abort();
}

void check_ja4(const tls::Ja4& j) {
  check(j.ja4.size() == 36 && j.ja4_o.size() == 36);
  check(j.ja4[10] == '_' && j.ja4[23] == '_');
  check(j.ja4_r.compare(0, 10, j.ja4, 0, 10) == 0);
  check(j.ja4_ro.compare(0, 10, j.ja4, 0, 10) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::uint8_t> rest(data, size);
  // A few hellos at most: each consumes at least one record.
  for (int round = 0; round < 4; ++round) {
    const auto r = tls::parse_client_hello(rest);
    if (r.status == tls::ParseStatus::kMalformed) {
      check(!tls::reason_name(r.reason).empty());
      break;
    }
    check(r.reason == tls::MalformedReason::kNone);
    if (r.status == tls::ParseStatus::kNeedMore) break;

    check(r.consumed >= 5 && r.consumed <= rest.size());
    const auto again = tls::parse_client_hello(rest.first(r.consumed));
    check(again.status == tls::ParseStatus::kOk && again.consumed == r.consumed);
    check(again.hello.extensions == r.hello.extensions &&
          again.hello.cipher_suites == r.hello.cipher_suites);

    check_ja4(tls::compute_ja4(r.hello));
    check_ja4(tls::compute_ja4(r.hello, 't', tls::AlpnRule::kLegacyNines));
    check_ja4(tls::compute_ja4_stable(r.hello));
    rest = rest.subspan(r.consumed);
  }
  return 0;
}
