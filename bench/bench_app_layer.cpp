// Microbenchmarks of the application-layer fingerprints on the payloads the
// app benchmark capture carries (bench/app_traffic): what one HTTPS, h2c or
// HTTP/1.1 conversation costs beyond its TCP packets.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>
#include <vector>

#include "app_traffic.hpp"
#include "huginn/fingerprint/http/http1_parser.hpp"
#include "huginn/fingerprint/http2/client_fingerprint.hpp"
#include "huginn/fingerprint/http2/frame_reader.hpp"
#include "huginn/fingerprint/tls/client_hello.hpp"
#include "huginn/fingerprint/tls/ja4.hpp"

namespace {

namespace app = huginn::bench;
namespace tls = huginn::fingerprint::tls;
namespace h2 = huginn::fingerprint::http2;
namespace http = huginn::fingerprint::http;

app::Bytes hello_of(app::Persona persona) {
  huginn::test::CraftRng rng(7);
  return app::client_hello(persona, "www.example.com", true, rng);
}

void run_client_hello(benchmark::State& state, app::Persona persona) {
  const app::Bytes bytes = hello_of(persona);
  for (auto _ : state) {
    auto parsed = tls::parse_client_hello(bytes);
    if (parsed.status != tls::ParseStatus::kOk) {
      state.SkipWithError("ClientHello did not parse");
      break;
    }
    benchmark::DoNotOptimize(parsed);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes.size()));
}

void run_ja4(benchmark::State& state, app::Persona persona) {
  const auto parsed = tls::parse_client_hello(hello_of(persona));
  if (parsed.status != tls::ParseStatus::kOk) {
    state.SkipWithError("ClientHello did not parse");
    return;
  }
  for (auto _ : state) {
    auto ja4 = tls::compute_ja4(parsed.hello);
    benchmark::DoNotOptimize(ja4);
  }
  state.SetItemsProcessed(state.iterations());
}

// A Chromium-like hello: ~1.8 KB with GREASE and an X25519MLKEM768 share.
void BM_ParseClientHelloChromium(benchmark::State& state) {
  run_client_hello(state, app::Persona::kChromium);
}
BENCHMARK(BM_ParseClientHelloChromium);

void BM_ParseClientHelloCurl(benchmark::State& state) {
  run_client_hello(state, app::Persona::kCurl);
}
BENCHMARK(BM_ParseClientHelloCurl);

void BM_ComputeJa4Chromium(benchmark::State& state) { run_ja4(state, app::Persona::kChromium); }
BENCHMARK(BM_ComputeJa4Chromium);

void BM_ComputeJa4Firefox(benchmark::State& state) { run_ja4(state, app::Persona::kFirefox); }
BENCHMARK(BM_ComputeJa4Firefox);

// Both steps, as the analyzer runs them per ClientHello.
void BM_ClientHelloToJa4Chromium(benchmark::State& state) {
  const app::Bytes bytes = hello_of(app::Persona::kChromium);
  for (auto _ : state) {
    const auto parsed = tls::parse_client_hello(bytes);
    auto ja4 = tls::compute_ja4(parsed.hello);
    benchmark::DoNotOptimize(ja4);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ClientHelloToJa4Chromium);

// h2c prior knowledge: preface, SETTINGS, WINDOW_UPDATE, HEADERS (HPACK).
void BM_Http2ClientFingerprintChromium(benchmark::State& state) {
  const app::Bytes bytes =
      app::h2c_client_opening(app::Persona::kChromium, "www.example.com", "/index.html");
  for (auto _ : state) {
    const auto read = h2::read_client_frames(bytes);
    if (read.status != h2::ReadStatus::kOk) {
      state.SkipWithError("h2 opening did not read");
      break;
    }
    auto fp = h2::compute_client_fingerprint(read.frames);
    auto akamai = h2::format_akamai(fp);
    benchmark::DoNotOptimize(akamai);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes.size()));
}
BENCHMARK(BM_Http2ClientFingerprintChromium);

void run_http1(benchmark::State& state, app::Persona persona) {
  const std::string text =
      app::http1_request(persona, "www.example.com", "/index.html", "en-US,en;q=0.9");
  const std::vector<std::uint8_t> bytes(text.begin(), text.end());
  http::Http1Message msg;
  for (auto _ : state) {
    const auto r = http::parse_http1_request(bytes, false, msg);
    if (r.status != http::ParseStatus::kOk) {
      state.SkipWithError("request did not parse");
      break;
    }
    benchmark::DoNotOptimize(msg);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes.size()));
}

void BM_ParseHttp1RequestChromium(benchmark::State& state) {
  run_http1(state, app::Persona::kChromium);
}
BENCHMARK(BM_ParseHttp1RequestChromium);

void BM_ParseHttp1RequestCurl(benchmark::State& state) { run_http1(state, app::Persona::kCurl); }
BENCHMARK(BM_ParseHttp1RequestCurl);

}  // namespace
