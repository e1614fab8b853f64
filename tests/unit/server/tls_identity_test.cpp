#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "huginn/server/tls_identity.hpp"

namespace fs = std::filesystem;
namespace hs = huginn::server;

namespace {

class TlsIdentityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("huginn-tls-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  static unsigned mode_of(const fs::path& p) {
    struct stat st {};
    ::stat(p.c_str(), &st);
    return st.st_mode & 0777;
  }
  fs::path dir_;
};

}  // namespace

TEST_F(TlsIdentityTest, GeneratedOnceThenReused) {
  std::string err;
  const auto first = hs::resolve_tls_identity(std::nullopt, std::nullopt, dir_, &err);
  ASSERT_TRUE(first) << err;
  EXPECT_TRUE(first->generated);
  EXPECT_EQ(first->cert_file, dir_ / "tls" / "cert.pem");
  EXPECT_EQ(mode_of(first->key_file), 0600U);
  EXPECT_EQ(mode_of(dir_ / "tls"), 0700U);
  // "AB:CD:..." : 32 bytes of SHA-256.
  EXPECT_EQ(first->sha256_fingerprint.size(), 32U * 3 - 1);

  const auto second = hs::resolve_tls_identity(std::nullopt, std::nullopt, dir_, &err);
  ASSERT_TRUE(second) << err;
  EXPECT_FALSE(second->generated);
  EXPECT_EQ(second->sha256_fingerprint, first->sha256_fingerprint);
  const auto fp = hs::certificate_fingerprint(second->cert_file, &err);
  ASSERT_TRUE(fp) << err;
  EXPECT_EQ(*fp, first->sha256_fingerprint);
}

TEST_F(TlsIdentityTest, ExplicitFilesAreChecked) {
  std::string err;
  fs::create_directories(dir_);
  ASSERT_FALSE(hs::generate_self_signed(dir_ / "a.pem", dir_ / "a.key"));
  ASSERT_FALSE(hs::generate_self_signed(dir_ / "b.pem", dir_ / "b.key"));
  const auto ok = hs::resolve_tls_identity(dir_ / "a.pem", dir_ / "a.key", dir_ / "state", &err);
  ASSERT_TRUE(ok) << err;
  EXPECT_FALSE(ok->generated);
  EXPECT_FALSE(fs::exists(dir_ / "state")) << "explicit files must not touch the state dir";

  EXPECT_FALSE(hs::resolve_tls_identity(dir_ / "a.pem", dir_ / "b.key", dir_, &err));
  EXPECT_NE(err.find("does not match"), std::string::npos) << err;

  EXPECT_FALSE(hs::resolve_tls_identity(dir_ / "none.pem", dir_ / "a.key", dir_, &err));
  EXPECT_NE(err.find("cannot read certificate"), std::string::npos) << err;

  std::ofstream(dir_ / "junk.pem") << "not a certificate\n";
  EXPECT_FALSE(hs::resolve_tls_identity(dir_ / "junk.pem", dir_ / "a.key", dir_, &err));
  EXPECT_NE(err.find("is not a PEM certificate"), std::string::npos) << err;

  EXPECT_FALSE(hs::resolve_tls_identity(dir_ / "a.pem", dir_ / "junk.pem", dir_, &err));
  EXPECT_NE(err.find("is not a PEM private key"), std::string::npos) << err;

  EXPECT_FALSE(hs::resolve_tls_identity(dir_ / "a.pem", std::nullopt, dir_, &err));
  EXPECT_NE(err.find("both"), std::string::npos) << err;
}

TEST_F(TlsIdentityTest, NeverOverwritesAKey) {
  fs::create_directories(dir_);
  std::ofstream(dir_ / "k.pem") << "keep me\n";
  const auto err = hs::generate_self_signed(dir_ / "c.pem", dir_ / "k.pem");
  ASSERT_TRUE(err);
  EXPECT_NE(err->find("cannot create"), std::string::npos) << *err;
}

TEST_F(TlsIdentityTest, HalfAPairIsAnError) {
  std::string err;
  ASSERT_TRUE(hs::resolve_tls_identity(std::nullopt, std::nullopt, dir_, &err)) << err;
  fs::remove(dir_ / "tls" / "key.pem");
  EXPECT_FALSE(hs::resolve_tls_identity(std::nullopt, std::nullopt, dir_, &err));
  EXPECT_NE(err.find("only one of"), std::string::npos) << err;
}
