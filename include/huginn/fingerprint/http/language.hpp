#pragma once
// ISO 639-1 two-letter language codes and their English names, as p0f 3.09b
// reports the language of an Accept-Language header (p0f README, "lang").
#include <optional>
#include <string_view>

namespace huginn::fingerprint::http {

// The English name of a lower-case ISO 639-1 code ("en" -> "English");
// nullopt for codes not in the table (upper case is not folded, as in p0f).
[[nodiscard]] std::optional<std::string_view> language_name(std::string_view code);

// p0f's "lang=" value for an Accept-Language header value:
//   kNone    - no header, or the value does not start with exactly two
//              ASCII letters ("none");
//   kUnknown - two letters that are not a known code (p0f prints "???");
//   kKnown   - `name` holds the language name.
enum class LanguageVerdict : unsigned char { kNone, kUnknown, kKnown };
struct Language {
  LanguageVerdict verdict = LanguageVerdict::kNone;
  std::string_view name;  // static storage; set for kKnown only
};
[[nodiscard]] Language classify_accept_language(std::optional<std::string_view> value);

}  // namespace huginn::fingerprint::http
