// The server's TLS identity: configured PEM files, or a self-signed EC P-256
// certificate generated once into the state directory.
#include "huginn/server/tls_identity.hpp"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <system_error>

namespace huginn::server {
namespace {

template <auto Fn>
struct Deleter {
  template <typename T>
  void operator()(T* p) const { Fn(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<X509_EXTENSION_free>>;
struct FileCloser {
  void operator()(FILE* f) const { std::fclose(f); }
};
using FilePtr = std::unique_ptr<FILE, FileCloser>;

std::string openssl_error() {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return "unknown OpenSSL error";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

bool add_ext(X509* cert, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert, cert, nullptr, nullptr, 0);
  ExtPtr ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value));
  return ext && X509_add_ext(cert, ext.get(), -1) == 1;
}

// Opens `path` for writing with `mode`, refusing to follow or replace an
// existing file (O_EXCL), so a key never lands in a file others can read.
FilePtr create_file(const std::filesystem::path& path, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return nullptr;
  FILE* f = ::fdopen(fd, "w");
  if (f == nullptr) ::close(fd);
  return FilePtr(f);
}

// Reads the first PEM object of `path` with `read` (PEM_read_X509 or
// PEM_read_PrivateKey); `what` names it in the error.
template <typename Ptr, typename Reader>
Ptr read_pem(const std::filesystem::path& path, const char* what, Reader read, std::string* error) {
  FilePtr f(std::fopen(path.c_str(), "r"));
  if (!f) {
    *error = std::string("cannot read ") + what + " " + path.string() + ": " +
             std::error_code(errno, std::generic_category()).message();
    return nullptr;
  }
  Ptr obj(read(f.get(), nullptr, nullptr, nullptr));
  if (!obj) *error = std::string(what) + " " + path.string() + " is not a PEM " + what + ": " + openssl_error();
  return obj;
}

X509Ptr read_cert(const std::filesystem::path& path, std::string* error) {
  return read_pem<X509Ptr>(path, "certificate", &PEM_read_X509, error);
}

PkeyPtr read_key(const std::filesystem::path& path, std::string* error) {
  return read_pem<PkeyPtr>(path, "private key", &PEM_read_PrivateKey, error);
}

std::string fingerprint_of(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(cert, EVP_sha256(), md, &len) != 1) return {};
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    if (i > 0) out += ':';
    out += kHex[md[i] >> 4];
    out += kHex[md[i] & 0xF];
  }
  return out;
}

}  // namespace

std::optional<std::string> generate_self_signed(const std::filesystem::path& cert_file,
                                                const std::filesystem::path& key_file) {
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return "cannot generate an EC P-256 key: " + openssl_error();
  X509Ptr cert(X509_new());
  if (!cert) return "cannot allocate a certificate: " + openssl_error();
  X509_set_version(cert.get(), 2);  // v3, for the extensions
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return "no randomness for the serial: " + openssl_error();
  serial[0] &= 0x7F;  // positive (RFC 5280 §4.1.2.2)
  std::unique_ptr<BIGNUM, Deleter<BN_free>> bn(BN_bin2bn(serial, sizeof serial, nullptr));
  BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(cert.get()));
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60 * 60);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 365L * 24 * 60 * 60);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("Huginn Network Profiler"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("localhost"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  if (!add_ext(cert.get(), NID_subject_alt_name, "DNS:localhost,IP:127.0.0.1,IP:::1") ||
      !add_ext(cert.get(), NID_basic_constraints, "critical,CA:FALSE") ||
      !add_ext(cert.get(), NID_key_usage, "critical,digitalSignature") ||
      !add_ext(cert.get(), NID_ext_key_usage, "serverAuth"))
    return "cannot add certificate extensions: " + openssl_error();
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0)
    return "cannot sign the certificate: " + openssl_error();

  FilePtr kf = create_file(key_file, 0600);
  if (!kf) {
    return "cannot create " + key_file.string() + ": " +
           std::error_code(errno, std::generic_category()).message();
  }
  if (PEM_write_PrivateKey(kf.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1 ||
      std::fflush(kf.get()) != 0)
    return "cannot write " + key_file.string() + ": " + openssl_error();
  FilePtr cf = create_file(cert_file, 0644);
  if (!cf) {
    return "cannot create " + cert_file.string() + ": " +
           std::error_code(errno, std::generic_category()).message();
  }
  if (PEM_write_X509(cf.get(), cert.get()) != 1 || std::fflush(cf.get()) != 0)
    return "cannot write " + cert_file.string() + ": " + openssl_error();
  return std::nullopt;
}

std::optional<std::string> certificate_fingerprint(const std::filesystem::path& cert_file,
                                                   std::string* error) {
  std::string err;
  X509Ptr cert = read_cert(cert_file, &err);
  if (!cert) {
    if (error != nullptr) *error = err;
    return std::nullopt;
  }
  return fingerprint_of(cert.get());
}

std::optional<TlsIdentity> resolve_tls_identity(const std::optional<std::filesystem::path>& cert_file,
                                                const std::optional<std::filesystem::path>& key_file,
                                                const std::filesystem::path& state_dir,
                                                std::string* error) {
  std::string err;
  auto fail = [&](std::string why) -> std::optional<TlsIdentity> {
    if (error != nullptr) *error = std::move(why);
    return std::nullopt;
  };
  if (cert_file.has_value() != key_file.has_value())
    return fail("give both a certificate and a private key, or neither");
  TlsIdentity id;
  if (cert_file) {
    id.cert_file = *cert_file;
    id.key_file = *key_file;
  } else {
    if (state_dir.empty()) return fail("no state directory for the generated certificate");
    const auto dir = state_dir / "tls";
    std::error_code ec;
    for (const auto& d : {state_dir, dir}) {
      if (std::filesystem::exists(d, ec)) continue;
      std::filesystem::create_directories(d, ec);
      if (ec) return fail("cannot create state directory " + d.string() + ": " + ec.message());
      std::filesystem::permissions(d, std::filesystem::perms::owner_all, ec);
    }
    id.cert_file = dir / "cert.pem";
    id.key_file = dir / "key.pem";
    const bool have_cert = std::filesystem::exists(id.cert_file, ec);
    const bool have_key = std::filesystem::exists(id.key_file, ec);
    if (have_cert != have_key) {
      return fail("state directory " + dir.string() +
                  " holds only one of cert.pem and key.pem; remove it to generate a new pair");
    }
    if (!have_cert) {
      if (auto e = generate_self_signed(id.cert_file, id.key_file)) return fail(*e);
      id.generated = true;
    }
  }
  X509Ptr cert = read_cert(id.cert_file, &err);
  if (!cert) return fail(err);
  PkeyPtr key = read_key(id.key_file, &err);
  if (!key) return fail(err);
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return fail("private key " + id.key_file.string() + " does not match certificate " +
                id.cert_file.string());
  }
  id.sha256_fingerprint = fingerprint_of(cert.get());
  return id;
}

}  // namespace huginn::server
