// Whole-text fuzzing of the p0f.fp loader. Beyond "no crash", a database
// that loads must satisfy the invariants matchers rely on; a violation traps
// so the fuzzer records the input.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "huginn/db/p0f_db_parser.hpp"

namespace {

using huginn::db::Label;
using huginn::db::P0fDb;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

bool label_in_db(const P0fDb& db, const Label* label) {
  return label != nullptr && label >= db.labels.data() && label < db.labels.data() + db.labels.size();
}

template <typename Records>
void check_records(const P0fDb& db, const Records& records) {
  std::uint32_t prev_line = 0;
  for (const auto& r : records) {
    check(label_in_db(db, r.label));
    check(r.label->name_id < db.names.size());
    check(r.line_no > prev_line);  // file order
    prev_line = r.line_no;
    check(!huginn::db::label_display(db, *r.label).empty());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto result = huginn::db::parse_p0f_db(text, "fuzz.fp");
  if (auto* err = std::get_if<huginn::db::DbError>(&result)) {
    check(err->line >= 1 && !err->message.empty());
    return 0;
  }
  // Matchers keep pointers into a moved-into database.
  const P0fDb db = std::move(std::get<P0fDb>(result));
  for (std::size_t i = 0; i < db.labels.size(); ++i) {
    const Label& l = db.labels[i];
    check(l.label_id == i + 1);
    check(l.name_id < db.names.size());
    check(!l.class_id || *l.class_id < db.classes.size());
    check(l.sys.size() == l.sys_text.size());
    for (const auto& s : l.sys) check(s.id < (s.is_class ? db.classes.size() : db.names.size()));
  }
  check_records(db, db.tcp_request);
  check_records(db, db.tcp_response);
  check_records(db, db.http_request);
  check_records(db, db.http_response);
  for (const auto& r : db.tcp_request) {
    check(r.sig.ittl >= 1);
    check(r.sig.olayout.size() <= huginn::limits::kMaxTcpOptions);
  }
  for (const auto& r : db.http_request) check(r.sig.horder.size() <= 32 && r.sig.habsent.size() <= 32);
  return 0;
}
