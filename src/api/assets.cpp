#include "huginn/api/assets.hpp"

namespace huginn::api {

const Asset* find_asset(std::string_view path) {
  // A handful of entries: a scan beats hashing.
  for (const Asset& a : embedded_assets()) {
    if (a.path == path) return &a;
  }
  return nullptr;
}

}  // namespace huginn::api
