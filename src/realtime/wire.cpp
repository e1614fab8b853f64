#include "realtime/wire.hpp"

#include <nlohmann/json.hpp>

namespace huginn::realtime::detail {

namespace {

void scrub_line_breaks(std::string& out, std::size_t from) {
  for (std::size_t i = from; i < out.size(); ++i) {
    if (out[i] == '\n' || out[i] == '\r') out[i] = ' ';
  }
}

void append_sse_head(std::string& out, std::string_view event, std::optional<std::uint64_t> id) {
  out += "event: ";
  out += event;
  out += '\n';
  if (id) {
    out += "id: ";
    out += std::to_string(*id);
    out += '\n';
  }
  out += "data: ";
}

// Data: std::string_view or store::JsonText (append_one_line overloads).
template <typename Data>
void ws_event(std::string& out, std::string_view event, std::optional<std::uint64_t> id, const Data& data) {
  out += "{\"event\":\"";
  out += event;
  out += '"';
  if (id) {
    out += ",\"id\":";
    out += std::to_string(*id);
  }
  out += ",\"data\":";
  append_one_line(out, data);
  out += "}\n";
}

}  // namespace

void append_one_line(std::string& out, std::string_view json) {
  const std::size_t start = out.size();
  out.append(json);
  scrub_line_breaks(out, start);
}

void append_one_line(std::string& out, const store::JsonText& json) {
  const std::size_t start = out.size();
  json.append_to(out);
  scrub_line_breaks(out, start);
}

void append_sse_event(std::string& out, std::string_view event, std::optional<std::uint64_t> id,
                      std::string_view data) {
  append_sse_head(out, event, id);
  append_one_line(out, data);
  out += "\n\n";
}

void append_sse_event(std::string& out, std::string_view event, std::optional<std::uint64_t> id,
                      const store::JsonText& data) {
  append_sse_head(out, event, id);
  append_one_line(out, data);
  out += "\n\n";
}

void append_ws_event(std::string& out, std::string_view event, std::optional<std::uint64_t> id,
                     std::string_view data) {
  ws_event(out, event, id, data);
}

void append_ws_event(std::string& out, std::string_view event, std::optional<std::uint64_t> id,
                     const store::JsonText& data) {
  ws_event(out, event, id, data);
}

void append_change_event(std::string& out, bool ws, store::EventType type, std::string_view ip, std::uint64_t seq,
                         const store::ProfileRevision* profile) {
  const std::string_view name = sse_event_name(type);
  if (profile != nullptr) {
    ws ? ws_event(out, name, seq, profile->json) : append_sse_event(out, name, seq, profile->json);
  } else {
    const std::string data = removal_json(ip, seq);
    ws ? ws_event(out, name, seq, std::string_view(data)) : append_sse_event(out, name, seq, data);
  }
}

std::string json_quote(std::string_view text) {
  return nlohmann::json(std::string(text)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string removal_json(std::string_view ip, std::uint64_t seq) {
  return "{\"ip\":" + json_quote(ip) + ",\"seq\":" + std::to_string(seq) + "}";
}

std::string_view sse_event_name(store::EventType type) {
  switch (type) {
    case store::EventType::kCreated:
    case store::EventType::kUpdated: return "profile";
    case store::EventType::kExpired: return "expired";
    case store::EventType::kDeleted: return "deleted";
  }
  return "profile";
}

void append_ndjson_event(std::string& out, store::EventType type, std::string_view ip, std::uint64_t seq,
                         const store::ProfileRevision* profile, bool with_profile) {
  out += "{\"type\":\"";
  out += sse_event_name(type);
  out += "\",\"ip\":";
  out += json_quote(ip);
  out += ",\"seq\":";
  out += std::to_string(seq);
  if (profile != nullptr && with_profile) {
    out += ",\"profile\":";
    append_one_line(out, profile->json);
  }
  out += "}\n";
}

}  // namespace huginn::realtime::detail
