#pragma once
// Where tests find their inputs. Captures live in ../shared/testdata beside
// the repository (never copied in); the p0f database is Debian's.
#include <filesystem>
#include <string>

namespace huginn::test {

std::filesystem::path source_dir();
// HUGINN_SHARED_DIR overrides the default ../shared beside the source tree.
std::filesystem::path shared_dir();
std::filesystem::path testdata_capture(const std::string& name);
// HUGINN_P0F_FP overrides /etc/p0f/p0f.fp.
std::filesystem::path p0f_fp_path();

}  // namespace huginn::test
