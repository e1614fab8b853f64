#include "real_db.hpp"

#include <memory>
#include <variant>

#include "huginn/db/p0f_db_parser.hpp"
#include "test_paths.hpp"

namespace huginn::test {

const db::P0fDb* real_p0f_db() {
  static const std::unique_ptr<const db::P0fDb> db = [] {
    auto loaded = db::load_p0f_db(p0f_fp_path().string());
    auto* d = std::get_if<db::P0fDb>(&loaded);
    return d == nullptr ? nullptr : std::make_unique<const db::P0fDb>(std::move(*d));
  }();
  return db.get();
}

}  // namespace huginn::test
