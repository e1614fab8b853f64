#include "huginn/capture/capture_stats.hpp"

namespace huginn::capture {

void CaptureStats::record(const packet::DecodeResult& r) {
  switch (r.status) {
    case packet::DecodeStatus::kOk:
      ++decoded;
      return;
    case packet::DecodeStatus::kIgnored:
      ++ignored;
      ignored_by_reason.add(r.reason);
      return;
    case packet::DecodeStatus::kMalformed:
      ++malformed;
      malformed_by_reason.add(r.reason);
      return;
  }
}

}  // namespace huginn::capture
