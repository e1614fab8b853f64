#pragma once
// What the server learns about its own visitors, handed on raw so that the
// same fingerprint code as the capture path reads it (analyzer/visitor_*).
// The server itself parses none of it: server/ knows no packets.
//
// Every record names the connection by its exact 4-tuple; nothing is
// joined by guessing. Callbacks run on I/O threads and must not block.
#include <cstdint>
#include <span>

#include "huginn/server/http_types.hpp"

namespace huginn::server {

struct VisitorKey {
  std::uint64_t conn_id = 0;
  SocketEndpoint client;  // the peer
  SocketEndpoint server;  // our local address
  std::int64_t ts_us = 0; // wall clock, microseconds since the Unix epoch
};

class VisitorObserver {
 public:
  virtual ~VisitorObserver() = default;
  // The client's SYN as the kernel saved it (Linux TCP_SAVE_SYN /
  // TCP_SAVED_SYN): IP header + TCP header with options, no link layer.
  virtual void on_saved_syn(const VisitorKey& key, std::span<const std::uint8_t> ip_packet) = 0;
  // The complete ClientHello handshake message (type 0x01, 4-byte header,
  // body), as the TLS stack received it.
  virtual void on_client_hello(const VisitorKey& key, std::span<const std::uint8_t> handshake) = 0;
  // The first bytes the client sent on a cleartext connection or inside
  // TLS after the handshake (HTTP/1.x request head or the HTTP/2 preface
  // and first frames), at most ServerLimits::visitor_prefix_bytes.
  virtual void on_client_prefix(const VisitorKey& key, bool tls, std::span<const std::uint8_t> bytes) = 0;
  // The connection closed; its state may be forgotten.
  virtual void on_closed(const VisitorKey& key) = 0;
};

}  // namespace huginn::server
