#pragma once
// Debian's p0f.fp (test::p0f_fp_path()), loaded once per test binary and
// kept for its lifetime; null when it is missing or does not load, so a
// test can skip instead of failing on a machine without p0f.
#include "huginn/db/p0f_db.hpp"

namespace huginn::test {

const db::P0fDb* real_p0f_db();

}  // namespace huginn::test
