#include "app_traffic.hpp"

#include <algorithm>
#include <array>
#include <ctime>
#include <utility>

#include "client_hello_builder.hpp"
#include "h2_frame_builder.hpp"

namespace huginn::bench {

namespace {

using test::ClientHelloBuilder;
using test::CraftRng;
namespace h2 = fingerprint::http2;

// IANA TLS registries.
constexpr std::uint16_t kExtSni = 0x0000;
constexpr std::uint16_t kExtStatusRequest = 0x0005;
constexpr std::uint16_t kExtSct = 0x0012;
constexpr std::uint16_t kExtEncryptThenMac = 0x0016;
constexpr std::uint16_t kExtExtendedMasterSecret = 0x0017;
constexpr std::uint16_t kExtCompressCertificate = 0x001b;
constexpr std::uint16_t kExtRecordSizeLimit = 0x001c;
constexpr std::uint16_t kExtDelegatedCredentials = 0x0022;
constexpr std::uint16_t kExtSessionTicket = 0x0023;
constexpr std::uint16_t kExtPskModes = 0x002d;
constexpr std::uint16_t kExtKeyShare = 0x0033;
constexpr std::uint16_t kExtApplicationSettings = 0x44cd;
constexpr std::uint16_t kExtEch = 0xfe0d;
constexpr std::uint16_t kExtRenegotiationInfo = 0xff01;

constexpr std::uint16_t kGroupX25519 = 0x001d;
constexpr std::uint16_t kGroupSecp256r1 = 0x0017;
constexpr std::uint16_t kGroupSecp384r1 = 0x0018;
constexpr std::uint16_t kGroupX25519MlKem768 = 0x11ec;
// FIPS 203 ML-KEM-768 encapsulation key (1184) / ciphertext (1088), each
// followed by the 32-byte X25519 share (draft-kwiatkowski-tls-ecdhe-mlkem).
constexpr std::size_t kMlKemClientShare = 1184 + 32;
constexpr std::size_t kMlKemServerShare = 1088 + 32;

// RFC 8701 §2: 0x0a0a, 0x1a1a, ..., 0xfafa.
std::uint16_t grease(CraftRng& rng) {
  const auto n = static_cast<std::uint16_t>(rng.uniform(0, 15));
  return static_cast<std::uint16_t>((n << 12) | 0x0a00 | (n << 4) | 0x0a);
}

void put16(Bytes& b, std::size_t v) { ClientHelloBuilder::put16(b, v); }

void append(Bytes& b, const Bytes& more) { b.insert(b.end(), more.begin(), more.end()); }

void append_random(Bytes& b, std::size_t n, CraftRng& rng) {
  std::uint64_t x = rng.next() | 1;
  for (std::size_t i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    b.push_back(static_cast<std::uint8_t>(x));
  }
}

// RFC 8446 §4.2.8 KeyShareClientHello: (group, key_exchange) entries.
Bytes key_share_body(const std::vector<std::pair<std::uint16_t, std::size_t>>& shares,
                     CraftRng& rng) {
  Bytes entries;
  for (const auto& [group, len] : shares) {
    put16(entries, group);
    put16(entries, len);
    append_random(entries, len, rng);
  }
  return ClientHelloBuilder::with_len16(entries);
}

// draft-ietf-tls-esni §5: an outer ECHClientHello with a random config id,
// encapsulated key and payload, as clients send when they have no ECH
// config (GREASE ECH).
Bytes grease_ech_body(CraftRng& rng) {
  Bytes b{0x00};     // outer
  put16(b, 0x0001);  // HKDF-SHA256
  put16(b, 0x0001);  // AES-128-GCM
  b.push_back(static_cast<std::uint8_t>(rng.uniform(0, 255)));
  put16(b, 32);
  append_random(b, 32, rng);
  const std::size_t payload = 144 + 32 * rng.uniform(0, 3);
  put16(b, payload);
  append_random(b, payload, rng);
  return b;
}

Bytes alpn_list(bool offer_h2) {
  std::vector<std::string> names;
  if (offer_h2) names.emplace_back("h2");
  names.emplace_back("http/1.1");
  Bytes list;
  for (const auto& n : names) {
    list.push_back(static_cast<std::uint8_t>(n.size()));
    list.insert(list.end(), n.begin(), n.end());
  }
  return ClientHelloBuilder::with_len16(list);
}

Bytes chromium_hello(std::string_view sni, bool offer_h2, CraftRng& rng) {
  const std::uint16_t g_cipher = grease(rng);
  const std::uint16_t g_first = grease(rng);
  std::uint16_t g_last = grease(rng);
  if (g_last == g_first) g_last ^= 0x1010;  // two GREASE extensions must differ
  const std::uint16_t g_group = grease(rng);
  const std::uint16_t g_version = grease(rng);

  // Everything between the leading and trailing GREASE extension is
  // permuted per connection (Chromium's extension shuffling).
  std::vector<std::pair<std::uint16_t, Bytes>> middle;
  Bytes sni_entry{0};  // RFC 6066 §3 host_name
  put16(sni_entry, sni.size());
  sni_entry.insert(sni_entry.end(), sni.begin(), sni.end());
  middle.emplace_back(kExtSni, ClientHelloBuilder::with_len16(sni_entry));
  middle.emplace_back(kExtExtendedMasterSecret, Bytes{});
  middle.emplace_back(kExtRenegotiationInfo, Bytes{0});
  middle.emplace_back(0x000a, ClientHelloBuilder::u16_list({g_group, kGroupX25519MlKem768,
                                                            kGroupX25519, kGroupSecp256r1,
                                                            kGroupSecp384r1}));
  middle.emplace_back(0x000b, Bytes{1, 0});
  middle.emplace_back(kExtSessionTicket, Bytes{});
  middle.emplace_back(0x0010, alpn_list(offer_h2));
  middle.emplace_back(kExtStatusRequest, Bytes{1, 0, 0, 0, 0});
  middle.emplace_back(0x000d, ClientHelloBuilder::u16_list({0x0403, 0x0804, 0x0401, 0x0503,
                                                            0x0805, 0x0501, 0x0806, 0x0601}));
  middle.emplace_back(kExtSct, Bytes{});
  middle.emplace_back(kExtKeyShare,
                      key_share_body({{g_group, 1}, {kGroupX25519MlKem768, kMlKemClientShare},
                                      {kGroupX25519, 32}},
                                     rng));
  middle.emplace_back(kExtPskModes, Bytes{1, 1});
  {
    Bytes v{6};
    put16(v, g_version);
    put16(v, 0x0304);
    put16(v, 0x0303);
    middle.emplace_back(0x002b, v);
  }
  middle.emplace_back(kExtCompressCertificate, Bytes{2, 0, 2});  // brotli
  if (offer_h2) {
    Bytes alps;
    put16(alps, 3);
    alps.insert(alps.end(), {2, 'h', '2'});
    middle.emplace_back(kExtApplicationSettings, alps);
  }
  middle.emplace_back(kExtEch, grease_ech_body(rng));
  for (std::size_t i = middle.size(); i > 1; --i)
    std::swap(middle[i - 1], middle[rng.uniform(0, static_cast<std::uint32_t>(i - 1))]);

  ClientHelloBuilder b;
  b.ciphers({g_cipher, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8,
             0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035});
  b.extension(g_first);
  for (auto& [type, body] : middle) b.extension(type, std::move(body));
  b.extension(g_last, Bytes{0});
  return b.build();
}

Bytes firefox_hello(std::string_view sni, bool offer_h2, CraftRng& rng) {
  ClientHelloBuilder b;
  b.ciphers({0x1301, 0x1303, 0x1302, 0xc02b, 0xc02f, 0xcca9, 0xcca8, 0xc02c, 0xc030, 0xc00a,
             0xc009, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035});
  b.sni(sni)
      .extension(kExtExtendedMasterSecret)
      .extension(kExtRenegotiationInfo, Bytes{0})
      .supported_groups({kGroupX25519, kGroupSecp256r1, kGroupSecp384r1, 0x0019, 0x0100, 0x0101})
      .ec_point_formats({0})
      .extension(kExtSessionTicket)
      .extension(0x0010, alpn_list(offer_h2))
      .extension(kExtStatusRequest, Bytes{1, 0, 0, 0, 0})
      .extension(kExtDelegatedCredentials, ClientHelloBuilder::u16_list({0x0403, 0x0503, 0x0603,
                                                                        0x0203}))
      .extension(kExtKeyShare, key_share_body({{kGroupX25519, 32}, {kGroupSecp256r1, 65}}, rng))
      .supported_versions({0x0304, 0x0303})
      .signature_algorithms({0x0403, 0x0503, 0x0603, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501,
                             0x0601, 0x0203, 0x0201})
      .extension(kExtPskModes, Bytes{1, 1})
      .extension(kExtRecordSizeLimit, Bytes{0x40, 0x01})
      .extension(kExtCompressCertificate, Bytes{6, 0, 1, 0, 2, 0, 3})
      .extension(kExtEch, grease_ech_body(rng));
  return b.build();
}

Bytes openssl_hello(std::string_view sni, bool offer_h2, CraftRng& rng) {
  ClientHelloBuilder b;
  b.ciphers({0x1302, 0x1303, 0x1301, 0xc02c, 0xc030, 0x009f, 0xcca9, 0xcca8, 0xccaa, 0xc02b,
             0xc02f, 0x009e, 0xc024, 0xc028, 0x006b, 0xc023, 0xc027, 0x0067, 0xc00a, 0xc014,
             0x0039, 0xc009, 0xc013, 0x0033, 0x009d, 0x009c, 0x003d, 0x003c, 0x0035, 0x002f,
             0x00ff});
  b.sni(sni)
      .ec_point_formats({0, 1, 2})
      .supported_groups({kGroupX25519, kGroupSecp256r1, 0x001e, 0x0019, kGroupSecp384r1, 0x0100,
                         0x0101, 0x0102, 0x0103, 0x0104})
      .extension(kExtSessionTicket)
      .extension(0x0010, alpn_list(offer_h2))
      .extension(kExtEncryptThenMac)
      .extension(kExtExtendedMasterSecret)
      .signature_algorithms({0x0403, 0x0503, 0x0603, 0x0807, 0x0808, 0x081a, 0x081b, 0x081c,
                             0x0809, 0x080a, 0x080b, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501,
                             0x0601, 0x0303, 0x0301, 0x0302, 0x0402, 0x0502, 0x0602})
      .supported_versions({0x0304, 0x0303})
      .extension(kExtPskModes, Bytes{1, 1})
      .extension(kExtKeyShare, key_share_body({{kGroupX25519, 32}}, rng));
  return b.build();
}

constexpr std::string_view kChromiumUa =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36";
constexpr std::string_view kFirefoxUa =
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
constexpr std::string_view kCurlUa = "curl/7.88.1";
constexpr std::string_view kWgetUa = "Wget/1.21.3";

constexpr std::string_view kLorem =
    "<p>Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor "
    "incididunt ut labore et dolore magna aliqua.</p>\n";

std::string body_text(std::size_t len) {
  std::string s;
  s.reserve(len);
  while (s.size() < len) s.append(kLorem.substr(0, std::min(kLorem.size(), len - s.size())));
  return s;
}

std::string etag(std::int64_t unix_s, std::size_t len) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "\"%llx-%zx\"", static_cast<unsigned long long>(unix_s) & 0xffffff,
                len);
  return buf;
}

}  // namespace

Bytes client_hello(Persona persona, std::string_view sni, bool offer_h2, CraftRng& rng) {
  switch (persona) {
    case Persona::kChromium: return chromium_hello(sni, offer_h2, rng);
    case Persona::kFirefox: return firefox_hello(sni, offer_h2, rng);
    case Persona::kCurl:
    case Persona::kWget: return openssl_hello(sni, offer_h2, rng);
  }
  return {};
}

Bytes server_tls_flight(bool pq, std::size_t encrypted_len, CraftRng& rng) {
  // RFC 8446 §4.1.3 ServerHello.
  Bytes hello;
  put16(hello, 0x0303);
  append_random(hello, 32, rng);
  hello.push_back(32);  // legacy_session_id_echo
  append_random(hello, 32, rng);
  put16(hello, 0x1301);
  hello.push_back(0);
  Bytes exts;
  put16(exts, 0x002b);
  put16(exts, 2);
  put16(exts, 0x0304);
  const std::size_t share = pq ? kMlKemServerShare : 32;
  put16(exts, kExtKeyShare);
  put16(exts, 4 + share);
  put16(exts, pq ? kGroupX25519MlKem768 : kGroupX25519);
  put16(exts, share);
  append_random(exts, share, rng);
  put16(hello, exts.size());
  append(hello, exts);

  Bytes out = ClientHelloBuilder::records(22, ClientHelloBuilder::handshake_message(2, hello),
                                          {}, 0x0303);
  append(out, ClientHelloBuilder::change_cipher_spec());
  append(out, tls_app_data(encrypted_len, rng));
  return out;
}

Bytes client_tls_finish(std::size_t request_len, CraftRng& rng) {
  Bytes out = ClientHelloBuilder::change_cipher_spec();
  append(out, tls_app_data(53, rng));
  append(out, tls_app_data(request_len, rng));
  return out;
}

Bytes tls_app_data(std::size_t len, CraftRng& rng) {
  // RFC 8446 §5.2: a record carries at most 2^14 + 256 bytes of ciphertext.
  constexpr std::size_t kMaxRecord = 16384 + 17;
  Bytes out;
  out.reserve(len + 5 * (len / kMaxRecord + 1));
  while (len > 0) {
    const std::size_t n = std::min(len, kMaxRecord);
    out.insert(out.end(), {23, 0x03, 0x03});
    put16(out, n);
    append_random(out, n, rng);
    len -= n;
  }
  return out;
}

std::string http1_request(Persona persona, std::string_view host, std::string_view path,
                          std::string_view lang) {
  std::vector<std::pair<std::string_view, std::string_view>> h;
  switch (persona) {
    case Persona::kChromium:
      h = {{"Host", host},
           {"Connection", "keep-alive"},
           {"Upgrade-Insecure-Requests", "1"},
           {"User-Agent", kChromiumUa},
           {"Accept",
            "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
            "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"},
           {"Accept-Encoding", "gzip, deflate"},
           {"Accept-Language", lang}};
      break;
    case Persona::kFirefox:
      h = {{"Host", host},
           {"User-Agent", kFirefoxUa},
           {"Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"},
           {"Accept-Language", lang},
           {"Accept-Encoding", "gzip, deflate"},
           {"Connection", "keep-alive"},
           {"Upgrade-Insecure-Requests", "1"},
           {"Priority", "u=0, i"}};
      break;
    case Persona::kCurl:
      h = {{"Host", host}, {"User-Agent", kCurlUa}, {"Accept", "*/*"}};
      break;
    case Persona::kWget:
      h = {{"Host", host},
           {"User-Agent", kWgetUa},
           {"Accept", "*/*"},
           {"Accept-Encoding", "identity"},
           {"Connection", "Keep-Alive"}};
      break;
  }
  std::string out = "GET ";
  out.append(path).append(" HTTP/1.1\r\n");
  for (const auto& [name, value] : h) {
    if (name == "Accept-Language" && value.empty()) continue;
    out.append(name).append(": ").append(value).append("\r\n");
  }
  return out.append("\r\n");
}

std::string http_date(std::int64_t unix_s) {
  const auto t = static_cast<std::time_t>(unix_s);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return buf;
}

std::string http1_response(ServerKind kind, std::int64_t unix_s, std::size_t body_len) {
  const std::string date = http_date(unix_s);
  const std::string modified = http_date(unix_s - 86'400 * 30);
  const std::string len = std::to_string(body_len);
  const std::string tag = etag(unix_s, body_len);
  std::vector<std::pair<std::string_view, std::string_view>> h;
  switch (kind) {
    case ServerKind::kNginx:
      h = {{"Server", "nginx/1.22.1"},        {"Date", date},
           {"Content-Type", "text/html"},     {"Content-Length", len},
           {"Last-Modified", modified},       {"Connection", "keep-alive"},
           {"ETag", tag},                     {"Accept-Ranges", "bytes"}};
      break;
    case ServerKind::kApache:
      h = {{"Date", date},
           {"Server", "Apache/2.4.57 (Debian)"},
           {"Last-Modified", modified},
           {"ETag", tag},
           {"Accept-Ranges", "bytes"},
           {"Content-Length", len},
           {"Vary", "Accept-Encoding"},
           {"Keep-Alive", "timeout=5, max=100"},
           {"Connection", "Keep-Alive"},
           {"Content-Type", "text/html"}};
      break;
    case ServerKind::kCaddy:
      h = {{"Accept-Ranges", "bytes"},        {"Content-Length", len},
           {"Content-Type", "text/html; charset=utf-8"},
           {"Etag", tag},                     {"Last-Modified", modified},
           {"Server", "Caddy"},               {"Date", date}};
      break;
    case ServerKind::kIis:
      h = {{"Content-Type", "text/html"},     {"Last-Modified", modified},
           {"Accept-Ranges", "bytes"},        {"ETag", tag},
           {"Server", "Microsoft-IIS/10.0"},  {"X-Powered-By", "ASP.NET"},
           {"Date", date},                    {"Content-Length", len}};
      break;
  }
  std::string out = "HTTP/1.1 200 OK\r\n";
  for (const auto& [name, value] : h) out.append(name).append(": ").append(value).append("\r\n");
  out.append("\r\n");
  return out.append(body_text(body_len));
}

Bytes h2c_client_opening(Persona persona, std::string_view authority, std::string_view path) {
  namespace st = h2::setting;
  using h2::Setting;
  std::vector<Setting> settings;
  std::uint32_t increment = 0;
  std::vector<std::string_view> order;  // pseudo-header order
  std::string_view ua;
  switch (persona) {
    case Persona::kChromium:
      settings = {{st::kHeaderTableSize, 65536}, {st::kEnablePush, 0},
                  {st::kInitialWindowSize, 6291456}, {st::kMaxHeaderListSize, 262144}};
      increment = 15663105;
      order = {":method", ":authority", ":scheme", ":path"};
      ua = kChromiumUa;
      break;
    case Persona::kFirefox:
      settings = {{st::kHeaderTableSize, 65536}, {st::kEnablePush, 0},
                  {st::kInitialWindowSize, 131072}, {st::kMaxFrameSize, 16384}};
      increment = 12517377;
      order = {":method", ":path", ":authority", ":scheme"};
      ua = kFirefoxUa;
      break;
    case Persona::kCurl:
    case Persona::kWget:
      settings = {{st::kMaxConcurrentStreams, 100}, {st::kInitialWindowSize, 10485760},
                  {st::kEnablePush, 0}};
      increment = 1048510465;
      order = {":method", ":path", ":scheme", ":authority"};
      ua = kCurlUa;
      break;
  }
  h2::test::Fields fields;
  for (const auto name : order) {
    std::string_view value = name == ":method"      ? "GET"
                             : name == ":authority" ? authority
                             : name == ":scheme"    ? "http"
                                                    : path;
    fields.emplace_back(std::string(name), std::string(value));
  }
  fields.emplace_back("user-agent", std::string(ua));
  fields.emplace_back("accept", persona == Persona::kChromium || persona == Persona::kFirefox
                                    ? "text/html,application/xhtml+xml,*/*;q=0.8"
                                    : "*/*");
  if (persona == Persona::kChromium || persona == Persona::kFirefox) {
    fields.emplace_back("accept-encoding", "gzip, deflate");
    fields.emplace_back("accept-language", "en-US,en;q=0.9");
  }
  const Bytes block = h2::test::hpack(fields);

  h2::test::StreamBuilder s;
  s.preface().settings(settings).window_update(0, increment);
  auto opts = h2::test::StreamBuilder::HeadersOptions{};
  if (persona == Persona::kChromium) {
    h2::PrioritySpec prio;  // exclusive on stream 0, weight 256
    prio.stream_id = 1;
    prio.exclusive = true;
    prio.weight = 256;
    opts.priority = prio;
  }
  s.headers(1, block, opts);
  return s.bytes();
}

Bytes h2c_server_reply(std::size_t body_len, CraftRng& rng) {
  namespace st = h2::setting;
  h2::test::StreamBuilder s;
  s.settings({{st::kMaxConcurrentStreams, 128}, {st::kInitialWindowSize, 65536},
              {st::kMaxFrameSize, 16777215}})
      .settings_ack();
  const Bytes block = h2::test::hpack({{":status", "200"},
                                       {"server", "nginx/1.22.1"},
                                       {"content-type", "text/html"},
                                       {"content-length", std::to_string(body_len)}});
  auto opts = h2::test::StreamBuilder::HeadersOptions{};
  opts.end_stream = body_len == 0;
  s.headers(1, block, opts);
  constexpr std::size_t kMaxFrame = 16384;  // RFC 9113 §4.2 default
  while (body_len > 0) {
    const std::size_t n = std::min(body_len, kMaxFrame);
    body_len -= n;
    const Bytes data = random_bytes(n, rng);
    s.frame(h2::frame_type::kData, body_len == 0 ? h2::frame_flag::kEndStream : 0, 1, data);
  }
  return s.bytes();
}

Bytes h2_settings_ack() { return h2::test::StreamBuilder{}.settings_ack().bytes(); }

std::string ssh_banner(bool server, CraftRng& rng) {
  static constexpr std::array<std::string_view, 3> kClients = {
      "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3", "SSH-2.0-OpenSSH_9.6", "SSH-2.0-PuTTY_Release_0.80"};
  static constexpr std::array<std::string_view, 2> kServers = {
      "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3", "SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.10"};
  const std::string_view s = server ? kServers[rng.uniform(0, kServers.size() - 1)]
                                    : kClients[rng.uniform(0, kClients.size() - 1)];
  return std::string(s) + "\r\n";
}

Bytes random_bytes(std::size_t len, CraftRng& rng) {
  Bytes b;
  b.reserve(len);
  append_random(b, len, rng);
  return b;
}

}  // namespace huginn::bench
