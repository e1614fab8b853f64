// huginn_craft_http_corpus: writes a capture with one HTTP exchange built to
// match each [http:request] and [http:response] signature of a p0f.fp, plus
// a JSON-lines manifest naming the line each exchange was built for.
//
//   huginn_craft_http_corpus [-f P0F_FP] OUT.pcap MANIFEST.jsonl
//
// Every case is a full TCP connection (SYN, SYN+ACK, ACK, request,
// response) between a fresh client and a fresh server, so p0f creates the
// flow and per-host HTTP history does not link cases. A request signature
// gets a request listing its horder headers in order (optional ones on
// alternate cases), with the required value substrings, a User-Agent that
// contains expsw, and none of the habsent headers; a response signature gets
// the same treatment after a plain request. Some cases vary the User-Agent's
// OS or add Via / X-Forwarded-For, and a final group sends two responses from
// one server whose Date goes backwards, to exercise the HTTP host-change
// reasons. check_crafted_http.py holds p0f and us to identical logs.
#include <cstdint>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "huginn/db/p0f_db_parser.hpp"
#include "pcap_writer.hpp"
#include "tcp_packet_builder.hpp"
#include "test_paths.hpp"

namespace {

using huginn::db::HttpSigRecord;
namespace t = huginn::test;

constexpr std::int64_t kStartUs = 1'700'000'000'000'000;  // 2023-11-14 22:13:20 UTC
constexpr std::int64_t kStepUs = 1000;

int usage() {
  std::cerr << "usage: huginn_craft_http_corpus [-f P0F_FP] OUT.pcap MANIFEST.jsonl\n";
  return 2;
}

// A header value that contains `want` (the signature's required substring)
// and reads like a real one.
std::string value_for(const std::string& name, const std::optional<std::string>& want,
                      const std::string& expsw, const std::string& os_hint) {
  std::string v;
  if (name == "Host") {
    v = "example.com";
  } else if (name == "User-Agent" || name == "Server") {
    v = "Mozilla/5.0 (" + os_hint + ") " + (expsw.empty() ? "TestAgent/1.0" : expsw + "1.0");
  } else if (name == "Date") {
    v = "Tue, 14 Nov 2023 22:13:20 GMT";
  } else {
    v = "x";
  }
  if (want && v.find(*want) == std::string::npos) v = *want + (v == "x" ? "" : " " + v);
  return v;
}

// Headers for `rec` in wire form; `with_optional` decides whether "?"
// headers are sent.
std::string headers_for(const HttpSigRecord& rec, bool with_optional, const std::string& os_hint) {
  std::string out;
  for (const auto& h : rec.sig.horder) {
    if (h.optional && !with_optional) continue;
    out += h.name + ": " + value_for(h.name, h.value, rec.sig.expsw, os_hint) + "\r\n";
  }
  return out;
}

bool lists(const HttpSigRecord& rec, const std::string& name) {
  for (const auto& h : rec.sig.horder) {
    if (h.name == name) return true;
  }
  for (const auto& n : rec.sig.habsent) {
    if (n == name) return true;
  }
  return false;
}

class Corpus {
 public:
  Corpus(t::PcapWriter& pcap, std::ofstream& manifest) : pcap_(pcap), manifest_(manifest) {}

  // One connection: handshake, request, optional responses, each string
  // one segment.
  void exchange(const std::string& request, const std::vector<std::string>& responses,
                const nlohmann::json& meta, std::uint32_t client_ip, std::uint32_t server_ip,
                std::uint16_t sport) {
    exchange(std::vector<std::string>{request}, responses, meta, client_ip, server_ip, sport);
  }
  void exchange(const std::vector<std::string>& requests, const std::vector<std::string>& responses,
                const nlohmann::json& meta, std::uint32_t client_ip, std::uint32_t server_ip,
                std::uint16_t sport) {
    const std::string cli = ip_text(client_ip);
    const std::string srv = ip_text(server_ip);
    auto base = [&](bool from_client) {
      t::TcpPacketBuilder b;
      if (from_client) {
        b.ipv4(cli, srv).ports(sport, 80);
      } else {
        b.ipv4(srv, cli).ports(80, sport);
      }
      b.ttl(64).df(true).window(64240);
      return b;
    };
    const std::uint32_t cisn = 1000;
    const std::uint32_t sisn = 5000;
    auto syn = base(true).flags(t::tcp_flag::kSyn).seq(cisn);
    syn.opt_mss(1460).opt_sok().opt_ts(100, 0).opt_nop().opt_ws(7);
    write(syn);
    auto sa = base(false).flags(t::tcp_flag::kSyn | t::tcp_flag::kAck).seq(sisn).ack(cisn + 1);
    sa.opt_mss(1460).opt_sok().opt_ts(200, 100).opt_nop().opt_ws(7);
    write(sa);
    write(base(true).flags(t::tcp_flag::kAck).seq(cisn + 1).ack(sisn + 1));
    std::uint32_t cseq = cisn + 1;
    for (const auto& r : requests) {
      write(base(true).flags(t::tcp_flag::kAck | t::tcp_flag::kPsh).seq(cseq).ack(sisn + 1).payload(r));
      cseq += static_cast<std::uint32_t>(r.size());
    }
    std::uint32_t sseq = sisn + 1;
    for (const auto& r : responses) {
      write(base(false).flags(t::tcp_flag::kAck | t::tcp_flag::kPsh).seq(sseq).ack(cseq).payload(r));
      sseq += static_cast<std::uint32_t>(r.size());
    }
    nlohmann::json m = meta;
    m["cli"] = cli + "/" + std::to_string(sport);
    m["srv"] = srv + "/80";
    manifest_ << m.dump() << "\n";
  }

  bool ok() const { return ok_; }
  // Advances the capture clock (seconds), for Date checks.
  void sleep_s(std::int64_t s) { now_ += s * 1'000'000; }

 private:
  static std::string ip_text(std::uint32_t ip) {
    return std::to_string(ip >> 24) + "." + std::to_string((ip >> 16) & 0xff) + "." +
           std::to_string((ip >> 8) & 0xff) + "." + std::to_string(ip & 0xff);
  }
  void write(const t::TcpPacketBuilder& b) {
    if (!pcap_.write(now_, b.build_ethernet())) ok_ = false;
    now_ += kStepUs;
  }

  t::PcapWriter& pcap_;
  std::ofstream& manifest_;
  std::int64_t now_ = kStartUs;
  bool ok_ = true;
};

const char* kOsHints[] = {"X11; Linux x86_64", "Windows NT 10.0; Win64; x64",
                          "Macintosh; Intel Mac OS X 10_15_7", "iPhone; CPU iPhone OS 17_0"};

}  // namespace

int main(int argc, char** argv) {
  std::string fp_path = huginn::test::p0f_fp_path().string();
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "-f" && i + 1 < argc) {
      fp_path = argv[++i];
    } else if (!a.empty() && a[0] == '-') {
      return usage();
    } else {
      positional.push_back(a);
    }
  }
  if (positional.size() != 2) return usage();

  auto loaded = huginn::db::load_p0f_db(fp_path);
  if (const auto* err = std::get_if<huginn::db::DbError>(&loaded)) {
    std::cerr << "huginn_craft_http_corpus: " << err->to_string() << "\n";
    return 1;
  }
  const huginn::db::P0fDb& db = std::get<huginn::db::P0fDb>(loaded);

  t::PcapWriter pcap;
  if (!pcap.open(positional[0], t::LinkType::kEthernet)) {
    std::cerr << "huginn_craft_http_corpus: " << pcap.error() << "\n";
    return 1;
  }
  std::ofstream manifest(positional[1]);
  Corpus corpus(pcap, manifest);

  std::uint32_t next_host = (10u << 24) | (1u << 16);  // 10.1.0.0 upwards
  std::uint16_t sport = 20000;
  auto fresh = [&]() { return ++next_host; };
  const std::string plain_request =
      "GET / HTTP/1.1\r\nHost: example.com\r\nUser-Agent: curl/8.0\r\nAccept: */*\r\n\r\n";

  int n = 0;
  for (const auto& rec : db.http_request) {
    const bool with_optional = (n % 2) == 0;
    const std::string os = kOsHints[n % 4];
    const std::string ver = rec.sig.http_ver.value_or(1) == 1 ? "1.1" : "1.0";
    std::string req = (n % 5 == 4 ? "HEAD" : "GET") + std::string(" /index.html HTTP/") + ver +
                      "\r\n" + headers_for(rec, with_optional, os);
    if (!lists(rec, "User-Agent") && !rec.sig.expsw.empty()) {
      req += "User-Agent: " + value_for("User-Agent", std::nullopt, rec.sig.expsw, os) + "\r\n";
    }
    req += "\r\n";
    const std::string resp = "HTTP/1.1 200 OK\r\nServer: nginx/1.0\r\nContent-Length: 0\r\n\r\n";
    const std::uint32_t cli = fresh();
    const std::uint32_t srv = fresh();
    corpus.exchange(req, {resp},
                    {{"section", "http:request"}, {"line", rec.line_no},
                     {"label", db.names[rec.label->name_id] +
                                   (rec.label->flavor.empty() ? "" : " " + rec.label->flavor)}},
                    cli, srv, sport++);
    ++n;
  }
  for (const auto& rec : db.http_response) {
    const bool with_optional = (n % 2) == 0;
    const std::string ver = rec.sig.http_ver.value_or(1) == 1 ? "1.1" : "1.0";
    std::string resp = "HTTP/" + ver + " 200 OK\r\n" + headers_for(rec, with_optional, "Unix");
    if (!lists(rec, "Server") && !rec.sig.expsw.empty()) {
      resp += "Server: " + rec.sig.expsw + "/1.0\r\n";
    }
    resp += "\r\n";
    const std::uint32_t cli = fresh();
    const std::uint32_t srv = fresh();
    corpus.exchange(plain_request, {resp},
                    {{"section", "http:response"}, {"line", rec.line_no},
                     {"label", db.names[rec.label->name_id] +
                                   (rec.label->flavor.empty() ? "" : " " + rec.label->flavor)}},
                    cli, srv, sport++);
    ++n;
  }

  // Host-change reasons HTTP adds: proxies, and a server Date that goes back.
  {
    const std::uint32_t cli = fresh();
    const std::uint32_t srv = fresh();
    corpus.exchange("GET / HTTP/1.1\r\nHost: a\r\nVia: 1.1 proxy\r\nUser-Agent: curl/8.0\r\n\r\n",
                    {"HTTP/1.1 200 OK\r\nX-Forwarded-For: 10.9.9.9\r\nServer: x\r\n\r\n"},
                    {{"section", "via"}}, cli, srv, sport++);
  }
  {
    const std::uint32_t cli = fresh();
    const std::uint32_t srv = fresh();
    const std::string dates[] = {"Tue, 14 Nov 2023 22:13:20 GMT", "Tue, 14 Nov 2023 22:13:25 GMT",
                                 "Tue, 14 Nov 2023 21:13:25 GMT", "Wed, 15 Nov 2023 22:13:25 GMT",
                                 "garbage"};
    for (const auto& d : dates) {
      corpus.sleep_s(5);
      corpus.exchange(plain_request,
                      {"HTTP/1.1 200 OK\r\nDate: " + d + "\r\nServer: Apache\r\n\r\n"},
                      {{"section", "date"}, {"date", d}}, cli, srv, sport++);
    }
  }

  // Parser edges p0f decides in its own way: segmentation (p0f re-reads a
  // "status line" in every response segment), line endings, limits,
  // methods, languages, and bytes p0f filters from raw_sig.
  {
    const std::string ua = "User-Agent: Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0\r\n";
    const std::string resp = "HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/html\r\n"
                             "Date: Tue, 14 Nov 2023 22:13:20 GMT\r\nConnection: close\r\n\r\n";
    std::string many = "GET / HTTP/1.1\r\n";
    for (int i = 0; i < 33; ++i) many += "X-H" + std::to_string(i) + ": v\r\n";
    many += "\r\n";
    const std::vector<std::pair<std::string, std::vector<std::string>>> requests = {
        {"split_request", {"GET /a HTTP/1.1\r\nHost: e\r\nUser-", "Agent: curl/8\r\nAccept: */*\r\n", "\r\n"}},
        {"split_request_line", {"GET /very/long/path/", "index.html HTTP/1.1\r\nHost: e\r\n\r\n"}},
        {"lf_only", {"GET / HTTP/1.1\nHost: e\nAccept-Language: en-US,en;q=0.5\n\n"}},
        {"http10", {"GET / HTTP/1.0\r\nHost: e\r\n" + ua + "\r\n"}},
        {"http19", {"GET / HTTP/1.9\r\nHost: e\r\n\r\n"}},
        {"post", {"POST / HTTP/1.1\r\nHost: e\r\nContent-Length: 0\r\n\r\n"}},
        {"options", {"OPTIONS * HTTP/1.1\r\nHost: e\r\n\r\n"}},
        {"lang_upper", {"GET / HTTP/1.1\r\nHost: e\r\nAccept-Language: EN\r\n\r\n"}},
        {"lang_unknown", {"GET / HTTP/1.1\r\nHost: e\r\nAccept-Language: xx-YY\r\n\r\n"}},
        {"lang_three", {"GET / HTTP/1.1\r\nHost: e\r\nAccept-Language: eng\r\n\r\n"}},
        {"lang_pl", {"GET / HTTP/1.1\r\nHost: e\r\nAccept-Language: pl\r\n\r\n"}},
        {"pipe_values", {"GET / HTTP/1.1\r\nHost: e\r\nAccept: a|b]c\r\nX-Odd: a|b]c\r\n\r\n"}},
        {"binary_value", {"GET / HTTP/1.1\r\nHost: e\r\nX-Bin: a" + std::string(1, '\x01') + "b" +
                          std::string(1, '\xff') + "\r\nUser-Agent: x" + std::string(1, '\0') +
                          "y\r\n\r\n"}},
        {"empty_values", {"GET / HTTP/1.1\r\nHost:\r\nUser-Agent: \r\nAccept:\t*/*\r\n\r\n"}},
        {"case_names", {"GET / HTTP/1.1\r\nhost: e\r\nuser-agent: Firefox/1\r\nACCEPT: */*\r\n\r\n"}},
        {"too_many_headers", {many}},
        {"long_name", {"GET / HTTP/1.1\r\n" + std::string(40, 'N') + ": v\r\n\r\n"}},
        {"long_value", {"GET / HTTP/1.1\r\nX: " + std::string(1100, 'v') + "\r\nHost: e\r\n\r\n"}},
        {"bad_header", {"GET / HTTP/1.1\r\nHost e\r\n\r\n"}},
        {"binary_request_line", {"GET /\x01 HTTP/1.1\r\nHost: e\r\n\r\n"}},
        {"short_line", {"GET / HTTP/1\r\n\r\nxxxx"}},
        {"long_show", {"GET / HTTP/1.1\r\nAccept: " + std::string(300, 'a') + "\r\n" +
                       "User-Agent: " + std::string(300, 'u') + "\r\n\r\n"}},
    };
    for (const auto& [name, segs] : requests) {
      corpus.exchange(segs, {resp}, {{"section", "edge"}, {"case", name}}, fresh(), fresh(), sport++);
    }
    const std::string req = "GET / HTTP/1.1\r\nHost: e\r\n" + ua + "\r\n";
    const std::vector<std::pair<std::string, std::vector<std::string>>> responses = {
        {"split_response_2", {"HTTP/1.1 200 OK\r\nServer: a\r\n", "Date: x\r\nContent-Type: t\r\nVary: v\r\n\r\n"}},
        {"split_response_3", {"HTTP/1.1 200 OK\r\nServer: a\r\n", "Content-Type: t\r\n", "ETag: e\r\nX: y\r\n\r\n"}},
        {"split_status", {"HTTP/1.1 200 O", "K\r\nServer: a\r\nX: y\r\n\r\n"}},
        {"split_before_blank", {"HTTP/1.1 200 OK\r\nServer: a\r\n", "\r\nbody-line: x\r\n\r\n"}},
        {"response_http10", {"HTTP/1.0 404 Not Found\r\nServer: Apache/2\r\n\r\n"}},
        {"response_not_http", {"SSH-2.0-OpenSSH_9.0\r\n\r\n"}},
        {"response_via", {"HTTP/1.1 200 OK\r\nVia: 1.1 cache\r\nServer: a\r\n\r\n"}},
        {"response_pipe", {"HTTP/1.1 200 OK\r\nServer: a|b\r\nContent-Type: x|y\r\nX-Y: p|q\r\n\r\n"}},
    };
    for (const auto& [name, segs] : responses) {
      corpus.exchange({req}, segs, {{"section", "edge"}, {"case", name}}, fresh(), fresh(), sport++);
    }
  }

  if (!corpus.ok() || !pcap.close()) {
    std::cerr << "huginn_craft_http_corpus: write failed: " << pcap.error() << "\n";
    return 1;
  }
  std::cerr << "huginn_craft_http_corpus: " << n << " signature cases\n";
  return 0;
}
