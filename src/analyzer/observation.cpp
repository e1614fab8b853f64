#include "huginn/analyzer/observation.hpp"

namespace huginn::analyzer {

std::string_view p0f_module_name(ObservationKind kind) {
  switch (kind) {
    case ObservationKind::kSyn: return "syn";
    case ObservationKind::kSynAck: return "syn+ack";
    case ObservationKind::kSendsynProbe: return "sendsyn probe";
    case ObservationKind::kSendsynResponse: return "sendsyn response";
    case ObservationKind::kMtu: return "mtu";
    case ObservationKind::kUptime: return "uptime";
    case ObservationKind::kHostChange: return "host change";
    case ObservationKind::kIpSharing: return "ip sharing";
    case ObservationKind::kHttpRequest: return "http request";
    case ObservationKind::kHttpResponse: return "http response";
    case ObservationKind::kTlsClient: return "tls";
    case ObservationKind::kHttp2Client: return "http2";
  }
  return "?";
}

std::string_view jsonl_kind_name(ObservationKind kind) {
  switch (kind) {
    case ObservationKind::kSyn: return "syn";
    case ObservationKind::kSynAck: return "syn+ack";
    case ObservationKind::kSendsynProbe: return "sendsyn_probe";
    case ObservationKind::kSendsynResponse: return "sendsyn_response";
    case ObservationKind::kMtu: return "mtu";
    case ObservationKind::kUptime: return "uptime";
    case ObservationKind::kHostChange: return "host_change";
    case ObservationKind::kIpSharing: return "ip_sharing";
    case ObservationKind::kHttpRequest: return "http_request";
    case ObservationKind::kHttpResponse: return "http_response";
    case ObservationKind::kTlsClient: return "tls_client";
    case ObservationKind::kHttp2Client: return "http2_client";
  }
  return "?";
}

std::string format_nat_reasons(std::uint16_t reasons) {
  // p0f's order (process.c add_nat_score), which is not bit order.
  static constexpr struct {
    std::uint16_t bit;
    const char* word;
  } kWords[] = {
      {kNatAppSig, "app_vs_os"}, {kNatOsSig, "os_diff"},   {kNatUnkDiff, "sig_diff"},
      {kNatToUnk, "x_known"},    {kNatTs, "tstamp"},       {kNatTtl, "ttl"},
      {kNatPort, "port"},        {kNatMss, "mtu"},         {kNatFuzzy, "fuzzy"},
      {kNatAppVia, "via"},       {kNatAppDate, "date"},    {kNatAppLb, "srv_sig_lb"},
      {kNatAppUa, "ua_vs_os"},
  };
  std::string out;
  for (const auto& w : kWords) {
    if ((reasons & w.bit) == 0) continue;
    if (!out.empty()) out += ' ';
    out += w.word;
  }
  return out;
}

}  // namespace huginn::analyzer
