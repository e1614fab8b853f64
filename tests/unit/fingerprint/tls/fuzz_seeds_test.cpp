// The fuzz_client_hello seed corpus is generated here from the builder, so
// each seed is described by code. UPDATE_FUZZ_SEEDS=1 rewrites the files in
// tests/fuzz/corpus/fuzz_client_hello/; otherwise the test checks that
// every seed on disk is what the builder makes and parses as its name says.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

#include "client_hello_builder.hpp"
#include "huginn/fingerprint/tls/client_hello.hpp"
#include "test_paths.hpp"

namespace huginn::fingerprint::tls {
namespace {

using test::ClientHelloBuilder;
using Bytes = std::vector<std::uint8_t>;

struct Seed {
  Bytes bytes;
  ParseStatus status;  // of the first parse
};

Bytes cat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

ClientHelloBuilder browser_like() {
  ClientHelloBuilder b;
  b.ciphers({0x6a6a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013,
             0xc014, 0x009c, 0x009d, 0x002f, 0x0035})
      .extension(0x2a2a)
      .sni("www.example.com")
      .extension(0x0017)
      .extension(0xff01, {0})
      .supported_groups({0x8a8a, 0x11ec, 0x001d, 0x0017, 0x0018})
      .ec_point_formats({0})
      .extension(0x0023)
      .alpn({"h2", "http/1.1"})
      .extension(0x0005, {1, 0, 0, 0, 0})
      .signature_algorithms({0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601})
      .extension(0x0012)
      .extension(0x0033, {0, 0})
      .extension(0x002d, {1, 1})
      .supported_versions({0x4a4a, 0x0304, 0x0303})
      .extension(0x001b, {2, 0, 2})
      .extension(0xfafa, {0});
  return b;
}

std::map<std::string, Seed> seeds() {
  std::map<std::string, Seed> s;
  s["valid_sni"] = {ClientHelloBuilder{}.sni("example.com").build(), ParseStatus::kOk};
  s["browser_like_grease"] = {browser_like().build(), ParseStatus::kOk};
  s["no_extensions"] = {ClientHelloBuilder{}.legacy_version(0x0301).omit_extension_block().build(),
                        ParseStatus::kOk};
  s["empty_cipher_list"] = {ClientHelloBuilder{}.ciphers({}).build(), ParseStatus::kOk};
  s["non_ascii_alpn"] = {
      ClientHelloBuilder{}.alpn({std::string("\xba\xad", 2), "http/1.1"}).build(),
      ParseStatus::kOk};
  s["multi_record"] = {browser_like().record_sizes({3, 60, 1}).build(), ParseStatus::kOk};
  s["pq_large_hello"] = {ClientHelloBuilder{}
                             .sni("pq.example")
                             .extension(0x0033, Bytes(1222, 0x5a))
                             .record_sizes({1000})
                             .build(),
                         ParseStatus::kOk};
  s["second_hello_after_ccs"] = {cat(cat(ClientHelloBuilder{}.supported_groups({0x001d}).build(),
                                         ClientHelloBuilder::change_cipher_spec()),
                                     ClientHelloBuilder{}.supported_groups({0x0017}).build()),
                                 ParseStatus::kOk};
  s["resumption_psk"] = {
      ClientHelloBuilder{}.extension(0x002a).extension(0x0029, {0, 0, 0, 0}).build(),
      ParseStatus::kOk};
  {
    const auto full = browser_like().build();
    s["truncated"] = {Bytes(full.begin(), full.begin() + 100), ParseStatus::kNeedMore};
  }
  s["sslv2_hello"] = {Bytes{0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15, 0x00, 0x00, 0x00,
                            0x10, 0x07, 0x00, 0xc0, 0x05, 0x00, 0x80, 0x03, 0x00, 0x80},
                      ParseStatus::kMalformed};
  s["huge_length"] = {Bytes{22, 3, 1, 0x40, 0x00, 1, 0xff, 0xff, 0xff}, ParseStatus::kMalformed};
  s["record_too_large"] = {Bytes{22, 3, 1, 0xff, 0xff, 1, 0, 0, 40}, ParseStatus::kMalformed};
  s["not_tls_http"] = {Bytes{'G', 'E', 'T', ' ', '/', ' ', 'H', 'T', 'T', 'P', '/', '1', '.', '1'},
                       ParseStatus::kMalformed};
  {
    auto b = ClientHelloBuilder{}.extension(0x0017, {1, 2}).body();
    b[b.size() - 3] = 9;
    s["extension_overrun"] = {
        ClientHelloBuilder::records(22, ClientHelloBuilder::handshake_message(1, b)),
        ParseStatus::kMalformed};
  }
  s["alpn_inner_overrun"] = {ClientHelloBuilder{}.extension(0x0010, {0, 3, 7, 'h', '2'}).build(),
                             ParseStatus::kMalformed};
  return s;
}

std::filesystem::path corpus_dir() {
  return test::source_dir() / "tests" / "fuzz" / "corpus" / "fuzz_client_hello";
}

TEST(FuzzSeeds, SeedsParseAsNamed) {
  for (const auto& [name, seed] : seeds())
    EXPECT_EQ(parse_client_hello(seed.bytes).status, seed.status) << name;
}

TEST(FuzzSeeds, CorpusOnDiskMatchesBuilder) {
  const char* update = std::getenv("UPDATE_FUZZ_SEEDS");
  const bool write = update && std::string(update) == "1";
  if (write) std::filesystem::create_directories(corpus_dir());
  for (const auto& [name, seed] : seeds()) {
    const auto path = corpus_dir() / name;
    if (write) {
      std::ofstream out(path, std::ios::binary | std::ios::trunc);
      out.write(reinterpret_cast<const char*>(seed.bytes.data()),
                static_cast<std::streamsize>(seed.bytes.size()));
      ASSERT_TRUE(out.good()) << path;
      continue;
    }
    std::ifstream in(path, std::ios::binary);
    ASSERT_TRUE(in) << path << " missing; run with UPDATE_FUZZ_SEEDS=1";
    const Bytes on_disk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(on_disk, seed.bytes) << name << " differs from the builder; UPDATE_FUZZ_SEEDS=1";
  }
}

}  // namespace
}  // namespace huginn::fingerprint::tls
