#include "huginn/fingerprint/http2/client_fingerprint.hpp"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "huginn/util/byte_reader.hpp"

namespace huginn::fingerprint::http2 {
namespace {

char pseudo_letter(std::string_view name) {
  if (name == ":method") return 'm';
  if (name == ":authority") return 'a';
  if (name == ":scheme") return 's';
  if (name == ":path") return 'p';
  return '?';
}

void append_priority(std::string& out, const PrioritySpec& p) {
  out += std::to_string(p.stream_id);
  out += ':';
  out += p.exclusive ? '1' : '0';
  out += ':';
  out += std::to_string(p.dependency);
  out += ':';
  out += std::to_string(p.weight);
}

}  // namespace

std::optional<std::string_view> ClientFingerprint::header(std::string_view name) const {
  for (const auto& f : headers.fields) {
    if (f.name == name) return std::string_view(f.value);
  }
  return std::nullopt;
}

void ClientFingerprintBuilder::add_frame(const Frame& frame) {
  if (done_) return;
  if (block_open_) {
    // The reader rejects anything else inside a block (RFC 9113 §6.10); a
    // caller that passes some other frame ends the block where it is.
    if (frame.type != frame_type::kContinuation || frame.stream_id != *fp_.headers_stream_id) {
      finish_block();
      return;
    }
    if (block_.size() + frame.payload.size() > limits_.max_header_block) {
      fp_.header_block_too_large = true;
    } else {
      block_.insert(block_.end(), frame.payload.begin(), frame.payload.end());
    }
    if ((frame.flags & frame_flag::kEndHeaders) != 0) finish_block();
    return;
  }
  switch (frame.type) {
    case frame_type::kSettings: {
      if ((frame.flags & frame_flag::kAck) != 0 || fp_.settings_seen) return;
      std::vector<Setting> settings;
      settings.reserve(frame.payload.size() / 6);
      util::ByteReader r(frame.payload);
      // A trailing partial entry (not a multiple of 6, RFC 9113 §6.5) is
      // dropped; the reader has already refused such a frame.
      while (r.remaining() >= 6) settings.push_back(Setting{*r.be16(), *r.be32()});
      add_settings(settings, frame.from_upgrade_header);
      return;
    }
    case frame_type::kWindowUpdate:
      if (auto inc = decode_window_update(frame)) add_window_update(frame.stream_id, *inc);
      return;
    case frame_type::kPriority:
      if (auto p = decode_priority(frame)) add_priority(*p);
      return;
    case frame_type::kHeaders: {
      auto split = split_headers_payload(frame);
      if (!split) return;
      fp_.headers_stream_id = frame.stream_id;
      fp_.headers_priority = split->priority;
      block_.clear();
      if (split->fragment.size() > limits_.max_header_block) {
        fp_.header_block_too_large = true;
      } else {
        block_.assign(split->fragment.begin(), split->fragment.end());
      }
      block_open_ = true;
      if ((frame.flags & frame_flag::kEndHeaders) != 0) finish_block();
      return;
    }
    default:
      return;
  }
}

void ClientFingerprintBuilder::add_settings(std::span<const Setting> settings, bool from_upgrade) {
  if (done_ || fp_.settings_seen) return;
  fp_.settings_seen = true;
  fp_.settings_from_upgrade = from_upgrade;
  fp_.settings.assign(settings.begin(), settings.end());
  fp_.grease_settings = 0;
  for (const auto& s : settings) fp_.grease_settings += is_grease_setting(s.id) ? 1 : 0;
}

void ClientFingerprintBuilder::add_window_update(std::uint32_t stream_id, std::uint32_t increment) {
  if (done_ || stream_id != 0) return;
  ++fp_.window_updates;
  if (!fp_.window_update) fp_.window_update = increment;
}

void ClientFingerprintBuilder::add_priority(const PrioritySpec& priority) {
  if (done_) return;
  ++fp_.priority_frames_total;
  if (fp_.priority_frames.size() < limits_.max_priority_frames) fp_.priority_frames.push_back(priority);
}

void ClientFingerprintBuilder::add_headers(std::uint32_t stream_id,
                                           const std::optional<PrioritySpec>& priority,
                                           std::span<const HeaderField> fields) {
  if (done_) return;
  fp_.headers_stream_id = stream_id;
  fp_.headers_priority = priority;
  HeaderBlock block;
  block.status = HeaderStatus::kOk;
  std::size_t list_size = 0;
  for (const auto& f : fields) {
    if (!append_header_field(block, f.name, f.value, limits_.headers, list_size)) break;
  }
  set_headers(std::move(block));
}

void ClientFingerprintBuilder::finish_block() {
  block_open_ = false;
  if (fp_.header_block_too_large) {
    // Nothing was decoded: a block cut short cannot be decoded correctly
    // (HPACK representations may reference entries added earlier in it).
    HeaderBlock truncated;
    truncated.status = HeaderStatus::kTruncated;
    set_headers(std::move(truncated));
  } else {
    set_headers(decode_header_block(block_, limits_.headers));
  }
  std::vector<std::uint8_t>().swap(block_);  // release the buffer
}

void ClientFingerprintBuilder::set_headers(HeaderBlock block) {
  fp_.headers = std::move(block);
  fp_.pseudo_header_order = format_pseudo_header_order(fp_.headers.fields);
  done_ = true;
}

ClientFingerprint compute_client_fingerprint(std::span<const Frame> frames,
                                             const FingerprintLimits& limits) {
  ClientFingerprintBuilder b(limits);
  for (const auto& f : frames) {
    if (b.done()) break;
    b.add_frame(f);
  }
  return b.fingerprint();
}

std::string format_pseudo_header_order(std::span<const HeaderField> fields) {
  std::string out;
  for (const auto& f : fields) {
    if (f.name.empty() || f.name.front() != ':') continue;
    if (!out.empty()) out += ',';
    out += pseudo_letter(f.name);
  }
  return out;
}

std::string format_headers_priority(const ClientFingerprint& fp) {
  std::string out;
  if (fp.headers_priority) append_priority(out, *fp.headers_priority);
  return out;
}

std::string format_akamai(const ClientFingerprint& fp) {
  std::string out;
  bool first = true;
  for (const auto& s : fp.settings) {
    if (is_grease_setting(s.id)) continue;
    if (!first) out += ';';
    first = false;
    out += std::to_string(s.id);
    out += ':';
    out += std::to_string(s.value);
  }
  out += '|';
  out += fp.window_update ? std::to_string(*fp.window_update) : std::string("00");
  out += '|';
  if (fp.priority_frames.empty()) {
    out += '0';
  } else {
    for (std::size_t i = 0; i < fp.priority_frames.size(); ++i) {
      if (i != 0) out += ',';
      append_priority(out, fp.priority_frames[i]);
    }
    if (fp.priority_frames_total > fp.priority_frames.size()) {
      out += ",+";
      out += std::to_string(fp.priority_frames_total - fp.priority_frames.size());
    }
  }
  out += '|';
  out += fp.pseudo_header_order;
  return out;
}

}  // namespace huginn::fingerprint::http2
