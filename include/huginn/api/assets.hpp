#pragma once
// The dashboard (web/) and docs/openapi.json, compiled into the binary by
// cmake/EmbedAssets.cmake: a fixed table path -> bytes, content type and a
// strong ETag computed at build time. Requests are matched against the
// table's exact paths, so no request ever builds a filesystem path.
#include <cstddef>
#include <span>
#include <string_view>

namespace huginn::api {

struct Asset {
  std::string_view path;          // URL path, e.g. "/app.js"
  std::string_view content_type;  // with charset for text types
  std::string_view etag;          // strong validator: "\"<sha256 prefix>\""
  std::string_view body;          // the file's bytes (static storage)
};

// Every embedded asset.
[[nodiscard]] std::span<const Asset> embedded_assets();
// The asset at exactly `path`, or nullptr.
[[nodiscard]] const Asset* find_asset(std::string_view path);

}  // namespace huginn::api
