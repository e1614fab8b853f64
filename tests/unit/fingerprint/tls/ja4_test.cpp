#include "huginn/fingerprint/tls/ja4.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "client_hello_builder.hpp"

namespace huginn::fingerprint::tls {
namespace {

using test::ClientHelloBuilder;

ClientHello parsed(const ClientHelloBuilder& b) {
  const auto r = parse_client_hello(b.build());
  EXPECT_EQ(r.status, ParseStatus::kOk) << reason_name(r.reason);
  return r.hello;
}

// The example ClientHello of the JA4 specification (a Chrome hello), with
// GREASE values added in every list where browsers put them.
ClientHelloBuilder spec_example() {
  ClientHelloBuilder b;
  b.ciphers({0x8a8a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013,
             0xc014, 0x009c, 0x009d, 0x002f, 0x0035})
      .extension(0x1a1a)
      .extension(0x001b, {2, 0, 2})
      .sni("example.com")
      .extension(0x0033, {0, 0})
      .alpn({"h2", "http/1.1"})
      .extension(0x4469, {0, 3, 2, 'h', '2'})
      .extension(0x0017)
      .extension(0x002d, {1, 1})
      .signature_algorithms({0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601})
      .extension(0x0005, {1, 0, 0, 0, 0})
      .extension(0x0023)
      .extension(0x0012)
      .supported_versions({0x7a7a, 0x0304, 0x0303})
      .extension(0xff01, {0})
      .ec_point_formats({0})
      .supported_groups({0x3a3a, 0x001d, 0x0017, 0x0018})
      .padding(10)
      .extension(0x2a2a, {0});
  return b;
}

TEST(Ja4, SpecificationExampleAllFourForms) {
  const auto j = compute_ja4(parsed(spec_example()));
  EXPECT_EQ(j.ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");
  EXPECT_EQ(j.ja4_o, "t13d1516h2_acb858a92679_18f69afefd3d");
  EXPECT_EQ(j.ja4_r,
            "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_"
            "0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_"
            "0403,0804,0401,0503,0805,0501,0806,0601");
  EXPECT_EQ(j.ja4_ro,
            "t13d1516h2_1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,c014,009c,009d,002f,0035_"
            "001b,0000,0033,0010,4469,0017,002d,000d,0005,0023,0012,002b,ff01,000b,000a,0015_"
            "0403,0804,0401,0503,0805,0501,0806,0601");
}

TEST(Ja4, Hash12MatchesSpecificationValues) {
  EXPECT_EQ(
      ja4_hash12("002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9"),
      "8daaf6152771");
  // No signature algorithms: the string ends without "_".
  EXPECT_EQ(ja4_hash12("0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01"),
            "6d807ffa2a79");
  EXPECT_EQ(ja4_hash12(""), "000000000000");
}

TEST(Ja4, TransportCharacterIsPrintedAsGiven) {
  EXPECT_EQ(compute_ja4(parsed(spec_example()), 'q').ja4.front(), 'q');
}

TEST(Ja4, GreaseIsIgnoredEverywhere) {
  const auto plain = compute_ja4(parsed(ClientHelloBuilder{}
                                            .ciphers({0x1301, 0x1302})
                                            .extension(0x0017)
                                            .signature_algorithms({0x0403})
                                            .supported_versions({0x0304})));
  const auto greased = compute_ja4(parsed(ClientHelloBuilder{}
                                              .ciphers({0x0a0a, 0x1301, 0xfafa, 0x1302})
                                              .extension(0xdada)
                                              .extension(0x0017)
                                              .signature_algorithms({0x0403, 0x6a6a})
                                              .supported_versions({0xeaea, 0x0304})
                                              .extension(0x9a9a, {0})));
  EXPECT_EQ(plain.ja4, greased.ja4);
  EXPECT_EQ(plain.ja4_r, greased.ja4_r);
  EXPECT_EQ(plain.ja4_ro, greased.ja4_ro);
  EXPECT_EQ(greased.ja4_ro, "t13i020300_1301,1302_0017,000d,002b_0403");
}

TEST(Ja4, VersionFromHighestSupportedVersionNotFirst) {
  // Wire order low-to-high still yields 13; GREASE is skipped.
  EXPECT_EQ(compute_ja4(parsed(ClientHelloBuilder{}.supported_versions({0x0303, 0x2a2a, 0x0304})))
                .ja4.substr(0, 3),
            "t13");
}

TEST(Ja4, VersionFallsBackToLegacyVersionIgnoringRecordVersion) {
  const auto j =
      compute_ja4(parsed(ClientHelloBuilder{}.record_version(0x0300).legacy_version(0x0302)));
  EXPECT_EQ(j.ja4.substr(0, 3), "t11");
  // A supported_versions list of GREASE only has no highest real entry.
  EXPECT_EQ(
      compute_ja4(parsed(ClientHelloBuilder{}.legacy_version(0x0303).supported_versions({0x1a1a})))
          .ja4.substr(0, 3),
      "t12");
}

TEST(Ja4, VersionCodes) {
  EXPECT_EQ(ja4_version_code(0x0304), "13");
  EXPECT_EQ(ja4_version_code(0x0303), "12");
  EXPECT_EQ(ja4_version_code(0x0302), "11");
  EXPECT_EQ(ja4_version_code(0x0301), "10");
  EXPECT_EQ(ja4_version_code(0x0300), "s3");
  EXPECT_EQ(ja4_version_code(0x0002), "s2");
  EXPECT_EQ(ja4_version_code(0xfeff), "d1");
  EXPECT_EQ(ja4_version_code(0xfefd), "d2");
  EXPECT_EQ(ja4_version_code(0xfefc), "d3");
  EXPECT_EQ(ja4_version_code(0x0305), "00");
  EXPECT_EQ(ja4_version_code(0x7f1c), "00");  // TLS 1.3 draft 28
}

TEST(Ja4, SniPresentIsDomainAbsentIsIp) {
  EXPECT_EQ(compute_ja4(parsed(ClientHelloBuilder{}.sni("a.example"))).ja4[3], 'd');
  EXPECT_EQ(compute_ja4(parsed(ClientHelloBuilder{})).ja4[3], 'i');
}

TEST(Ja4, AlpnFirstAndLastCharacterOfFirstValue) {
  EXPECT_EQ(format_ja4_alpn("h2"), "h2");
  EXPECT_EQ(format_ja4_alpn("http/1.1"), "h1");
  EXPECT_EQ(format_ja4_alpn("h3"), "h3");
  EXPECT_EQ(format_ja4_alpn("x"), "xx");  // single character is both
  EXPECT_EQ(format_ja4_alpn(""), "00");
  EXPECT_EQ(compute_ja4(parsed(ClientHelloBuilder{}.alpn({"http/1.1", "h2"}))).ja4.substr(8, 2),
            "h1");
}

TEST(Ja4, AlpnAbsentOrEmptyGivesZeros) {
  EXPECT_EQ(compute_ja4(parsed(ClientHelloBuilder{})).ja4.substr(8, 2), "00");
  // Extension present with an empty list.
  EXPECT_EQ(compute_ja4(parsed(ClientHelloBuilder{}.extension(0x0010, {0, 0}))).ja4.substr(8, 2),
            "00");
  // First value empty (invalid per RFC 7301, defined by JA4).
  EXPECT_EQ(compute_ja4(parsed(ClientHelloBuilder{}.alpn({"", "h2"}))).ja4.substr(8, 2), "00");
}

TEST(Ja4, AlpnNonAlphanumericUsesHexOfWholeValue) {
  // The specification's examples.
  EXPECT_EQ(format_ja4_alpn("\xab"), "ab");
  EXPECT_EQ(format_ja4_alpn("\x20"), "20");
  EXPECT_EQ(format_ja4_alpn("\xab\xcd"), "ad");
  EXPECT_EQ(format_ja4_alpn("\x20\x61"), "21");
  EXPECT_EQ(format_ja4_alpn("\x30\xab"), "3b");
  EXPECT_EQ(format_ja4_alpn("\x61\x20"), "60");
  EXPECT_EQ(format_ja4_alpn("\x30\x31\xab\xcd"), "3d");
  EXPECT_EQ(format_ja4_alpn("\x30\xab\xcd\x31"), "01");
  const std::string baad("\xba\xad", 2);
  EXPECT_EQ(compute_ja4(parsed(ClientHelloBuilder{}.alpn({baad, "http/1.1"}))).ja4.substr(8, 2),
            "bd");
}

TEST(Ja4, AlpnLegacyNinesRule) {
  EXPECT_EQ(format_ja4_alpn("\xba\xad", AlpnRule::kLegacyNines), "99");
  EXPECT_EQ(format_ja4_alpn("h\xff", AlpnRule::kLegacyNines), "h9");
  EXPECT_EQ(format_ja4_alpn("h2", AlpnRule::kLegacyNines), "h2");
  EXPECT_EQ(format_ja4_alpn("", AlpnRule::kLegacyNines), "00");
}

TEST(Ja4, CountsAreCappedAt99) {
  std::vector<std::uint16_t> ciphers;
  for (std::uint16_t i = 1; i <= 120; ++i) ciphers.push_back(i);
  ClientHelloBuilder b;
  b.ciphers(ciphers);
  for (std::uint16_t t = 0x0100; t < 0x0100 + 105; ++t) b.extension(t);
  const auto j = compute_ja4(parsed(b));
  EXPECT_EQ(j.ja4.substr(0, 8), "t12i9999");
  // The lists themselves are not cut.
  EXPECT_NE(j.ja4_r.find(",0078_"), std::string::npos);  // 120th cipher present
}

TEST(Ja4, CountsIncludeSniAlpnAndNonCipherValues) {
  // SCSV (0x00ff) and reserved values count as ciphers; SNI and ALPN count
  // as extensions.
  const auto j = compute_ja4(parsed(ClientHelloBuilder{}
                                        .ciphers({0x1301, 0x00ff, 0x5600, 0xfe00})
                                        .sni("x.example")
                                        .alpn({"h2"})));
  EXPECT_EQ(j.ja4.substr(0, 10), "t12d0402h2");
}

TEST(Ja4, EmptyListsHashToZeros) {
  const auto j = compute_ja4(parsed(ClientHelloBuilder{}.ciphers({}).omit_extension_block()));
  EXPECT_EQ(j.ja4, "t12i000000_000000000000_000000000000");
  EXPECT_EQ(j.ja4_o, "t12i000000_000000000000_000000000000");
  EXPECT_EQ(j.ja4_r, "t12i000000__");
  EXPECT_EQ(j.ja4_ro, "t12i000000__");
}

TEST(Ja4, OnlySniAndAlpnLeavesSortedExtensionListEmpty) {
  const auto j = compute_ja4(parsed(ClientHelloBuilder{}.sni("a.example").alpn({"h2"})));
  EXPECT_EQ(j.ja4, "t12d0102h2_" + ja4_hash12("1301") + "_000000000000");
  EXPECT_EQ(j.ja4_r, "t12d0102h2_1301_");
  // Original order keeps SNI and ALPN, so the list is not empty there.
  EXPECT_EQ(j.ja4_ro, "t12d0102h2_1301_0000,0010");
  EXPECT_EQ(j.ja4_o, "t12d0102h2_" + ja4_hash12("1301") + "_" + ja4_hash12("0000,0010"));
}

TEST(Ja4, SortedFormsSortOriginalFormsKeepWireOrder) {
  const auto j = compute_ja4(parsed(ClientHelloBuilder{}
                                        .ciphers({0xc02f, 0x1301, 0x002f})
                                        .extension(0xff01, {0})
                                        .sni("a.example")
                                        .extension(0x0017)
                                        .alpn({"h2"})
                                        .extension(0x0005, {1, 0, 0, 0, 0})));
  EXPECT_EQ(j.ja4_r, "t12d0305h2_002f,1301,c02f_0005,0017,ff01");
  EXPECT_EQ(j.ja4_ro, "t12d0305h2_c02f,1301,002f_ff01,0000,0017,0010,0005");
  EXPECT_EQ(j.ja4,
            "t12d0305h2_" + ja4_hash12("002f,1301,c02f") + "_" + ja4_hash12("0005,0017,ff01"));
  EXPECT_EQ(j.ja4_o, "t12d0305h2_" + ja4_hash12("c02f,1301,002f") + "_" +
                         ja4_hash12("ff01,0000,0017,0010,0005"));
}

TEST(Ja4, SignatureAlgorithmsKeepWireOrderAfterUnderscore) {
  const auto j = compute_ja4(parsed(
      ClientHelloBuilder{}.signature_algorithms({0x0806, 0x0403, 0x0201}).extension(0x0017)));
  EXPECT_EQ(j.ja4_r, "t12i010200_1301_000d,0017_0806,0403,0201");
  EXPECT_EQ(j.ja4_ro, "t12i010200_1301_000d,0017_0806,0403,0201");
}

TEST(Ja4Stable, FreshAndResumedHellosOfOneClientAgree) {
  // Shaped like curl/OpenSSL 3.0 as observed on loopback (docs/ja4.md): the
  // fresh hello is padded, the resumed one carries a PSK instead.
  auto common = [] {
    ClientHelloBuilder b;
    b.ciphers({0x1302, 0x1303, 0x1301, 0xc02c})
        .ec_point_formats({0, 1, 2})
        .supported_groups({0x001d, 0x0017})
        .alpn({"h2", "http/1.1"})
        .extension(0x0016)
        .extension(0x0017)
        .extension(0x0031)
        .signature_algorithms({0x0403, 0x0503})
        .supported_versions({0x0304, 0x0303})
        .extension(0x002d, {1, 1})
        .extension(0x0033, {0, 0});
    return b;
  };
  const auto fresh = parsed(common().padding(100));
  const auto resumed = parsed(common().extension(0x002a).extension(0x0029, {0, 0, 0, 0}));
  EXPECT_FALSE(fresh.resumption_attempt);
  EXPECT_TRUE(resumed.resumption_attempt);
  EXPECT_NE(compute_ja4(fresh).ja4, compute_ja4(resumed).ja4);
  const auto a = compute_ja4_stable(fresh);
  const auto b = compute_ja4_stable(resumed);
  EXPECT_EQ(a.ja4, b.ja4);
  EXPECT_EQ(a.ja4_r, b.ja4_r);
  EXPECT_EQ(a.ja4_o, b.ja4_o);
  // Left-out extensions are not counted either: 11 sent, 10 counted.
  EXPECT_EQ(a.ja4.substr(0, 10), "t13i0410h2");
  EXPECT_EQ(a.ja4_ro.find("0015"), std::string::npos);
}

TEST(Ja4Stable, EqualsJa4WhenNoUnstableExtensionIsPresent) {
  const auto h = parsed(spec_example());
  const auto plain = compute_ja4(h);
  const auto stable = compute_ja4_stable(h);
  // spec_example() carries padding (0x0015); without it they are equal.
  EXPECT_NE(plain.ja4, stable.ja4);
  const auto h2 =
      parsed(ClientHelloBuilder{}.sni("a.example").extension(0x0023).extension(0x002d, {1, 1}));
  EXPECT_EQ(compute_ja4(h2).ja4, compute_ja4_stable(h2).ja4);
  EXPECT_EQ(compute_ja4(h2).ja4_ro, compute_ja4_stable(h2).ja4_ro);
}

// compute_ja4_with_stable() is the two functions it replaces, with and
// without unstable extensions, and with GREASE, empty lists and a padding
// extension that is the only one.
TEST(Ja4Stable, WithStableEqualsBothFunctions) {
  const std::vector<ClientHello> hellos = {
      parsed(spec_example()),
      parsed(ClientHelloBuilder{}.sni("a.example").extension(0x0023).extension(0x002d, {1, 1})),
      parsed(ClientHelloBuilder{}.ciphers({0x0a0a, 0x1301}).padding(10).extension(0x002a)),
      parsed(ClientHelloBuilder{}.ciphers({}).omit_extension_block()),
      parsed(ClientHelloBuilder{}.ciphers({}).padding(3)),
  };
  for (const auto& h : hellos) {
    for (const auto rule : {AlpnRule::kSpecHex, AlpnRule::kLegacyNines}) {
      const auto both = compute_ja4_with_stable(h, 't', rule);
      const auto plain = compute_ja4(h, 't', rule);
      EXPECT_EQ(both.ja4.ja4, plain.ja4);
      EXPECT_EQ(both.ja4.ja4_r, plain.ja4_r);
      EXPECT_EQ(both.ja4.ja4_o, plain.ja4_o);
      EXPECT_EQ(both.ja4.ja4_ro, plain.ja4_ro);
      EXPECT_EQ(both.stable, compute_ja4_stable(h, 't', rule).ja4);
    }
  }
  // The cases above include both branches: stable differs from ja4 for a
  // hello with padding, and equals it for one without.
  EXPECT_NE(compute_ja4_with_stable(hellos[0]).stable, compute_ja4(hellos[0]).ja4);
  EXPECT_EQ(compute_ja4_with_stable(hellos[1]).stable, compute_ja4(hellos[1]).ja4);
}

}  // namespace
}  // namespace huginn::fingerprint::tls
