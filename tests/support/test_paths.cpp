#include "test_paths.hpp"

#include <cstdlib>

namespace huginn::test {

std::filesystem::path source_dir() { return HUGINN_SOURCE_DIR; }

std::filesystem::path shared_dir() {
  if (const char* env = std::getenv("HUGINN_SHARED_DIR"); env && *env) return env;
  return HUGINN_SHARED_DIR;
}

std::filesystem::path testdata_capture(const std::string& name) {
  return shared_dir() / "testdata" / "captures" / name;
}

std::filesystem::path p0f_fp_path() {
  if (const char* env = std::getenv("HUGINN_P0F_FP"); env && *env) return env;
  return "/etc/p0f/p0f.fp";
}

}  // namespace huginn::test
