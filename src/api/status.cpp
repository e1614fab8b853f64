#include "huginn/api/status.hpp"

namespace huginn::api {

const char* capture_state_name(CaptureState state) {
  switch (state) {
    case CaptureState::kRunning: return "running";
    case CaptureState::kFinished: return "finished";
    case CaptureState::kUnavailable: return "unavailable";
    case CaptureState::kDisabled: return "disabled";
  }
  return "unknown";
}

}  // namespace huginn::api
