#pragma once
// The TLS certificate the server presents: loaded from the configured
// files, or a self-signed one generated once into the state directory and
// reused on later starts. OpenSSL stays out of this header.
#include <filesystem>
#include <optional>
#include <string>

namespace huginn::server {

struct TlsIdentity {
  std::filesystem::path cert_file;
  std::filesystem::path key_file;
  bool generated = false;   // created by this call (first start)
  std::string sha256_fingerprint;  // "AB:CD:..." over the DER certificate
};

// Generates an EC P-256 key and a self-signed certificate (SAN DNS:localhost,
// IP:127.0.0.1, IP:::1, valid one year) as PEM files. The key file is
// created 0600; an existing file is never overwritten. Returns an error
// sentence, or nullopt on success.
std::optional<std::string> generate_self_signed(const std::filesystem::path& cert_file,
                                                const std::filesystem::path& key_file);

// The identity to use: the given files (checked: readable, PEM, key matches
// the certificate), else state_dir/tls/{cert,key}.pem, generated when absent
// (directories 0700). Returns nullopt and sets `error` on failure.
std::optional<TlsIdentity> resolve_tls_identity(const std::optional<std::filesystem::path>& cert_file,
                                                const std::optional<std::filesystem::path>& key_file,
                                                const std::filesystem::path& state_dir,
                                                std::string* error);

// SHA-256 over the DER form of the first certificate in `cert_file`.
std::optional<std::string> certificate_fingerprint(const std::filesystem::path& cert_file,
                                                   std::string* error);

}  // namespace huginn::server
