#include "huginn/fingerprint/http/language.hpp"

#include <algorithm>
#include <array>
#include <iterator>

namespace huginn::fingerprint::http {

namespace {

struct LanguageEntry {
  std::string_view code;
  std::string_view name;
};

// Sorted by code for binary search. The same ISO 639-1 set p0f 3.09b knows.
constexpr LanguageEntry kLanguages[] = {
    {"aa", "Afar"}, {"ab", "Abkhazian"}, {"ae", "Avestan"}, {"af", "Afrikaans"},
    {"ak", "Akan"}, {"am", "Amharic"}, {"an", "Aragonese"}, {"ar", "Arabic"},
    {"as", "Assamese"}, {"av", "Avaric"}, {"ay", "Aymara"}, {"az", "Azerbaijani"},
    {"ba", "Bashkir"}, {"be", "Belarusian"}, {"bg", "Bulgarian"}, {"bh", "Bihari"},
    {"bi", "Bislama"}, {"bm", "Bambara"}, {"bn", "Bengali"}, {"bo", "Tibetan"},
    {"br", "Breton"}, {"bs", "Bosnian"}, {"ca", "Catalan"}, {"ce", "Chechen"},
    {"ch", "Chamorro"}, {"co", "Corsican"}, {"cr", "Cree"}, {"cs", "Czech"},
    {"cu", "Church Slavic"}, {"cv", "Chuvash"}, {"cy", "Welsh"}, {"da", "Danish"},
    {"de", "German"}, {"dv", "Dhivehi"}, {"dz", "Dzongkha"}, {"ee", "Ewe"},
    {"el", "Modern Greek"}, {"en", "English"}, {"eo", "Esperanto"}, {"es", "Spanish"},
    {"et", "Estonian"}, {"eu", "Basque"}, {"fa", "Persian"}, {"ff", "Fulah"},
    {"fi", "Finnish"}, {"fj", "Fijian"}, {"fo", "Faroese"}, {"fr", "French"},
    {"fy", "Western Frisian"}, {"ga", "Irish"}, {"gd", "Scottish Gaelic"}, {"gl", "Galician"},
    {"gn", "Guarani"}, {"gu", "Gujarati"}, {"gv", "Manx"}, {"ha", "Hausa"}, {"he", "Hebrew"},
    {"hi", "Hindi"}, {"ho", "Hiri Motu"}, {"hr", "Croatian"}, {"ht", "Haitian"},
    {"hu", "Hungarian"}, {"hy", "Armenian"}, {"hz", "Herero"}, {"ia", "Interlingua"},
    {"id", "Indonesian"}, {"ie", "Interlingue"}, {"ig", "Igbo"}, {"ii", "Sichuan Yi"},
    {"ik", "Inupiaq"}, {"io", "Ido"}, {"is", "Icelandic"}, {"it", "Italian"},
    {"iu", "Inuktitut"}, {"ja", "Japanese"}, {"jv", "Javanese"}, {"ka", "Georgian"},
    {"kg", "Kongo"}, {"ki", "Kikuyu"}, {"kj", "Kuanyama"}, {"kk", "Kazakh"},
    {"kl", "Kalaallisut"}, {"km", "Central Khmer"}, {"kn", "Kannada"}, {"ko", "Korean"},
    {"kr", "Kanuri"}, {"ks", "Kashmiri"}, {"ku", "Kurdish"}, {"kv", "Komi"}, {"kw", "Cornish"},
    {"ky", "Kirghiz"}, {"la", "Latin"}, {"lb", "Luxembourgish"}, {"lg", "Ganda"},
    {"li", "Limburgan"}, {"ln", "Lingala"}, {"lo", "Lao"}, {"lt", "Lithuanian"},
    {"lu", "Luba-Katanga"}, {"lv", "Latvian"}, {"mg", "Malagasy"}, {"mh", "Marshallese"},
    {"mi", "Maori"}, {"mk", "Macedonian"}, {"ml", "Malayalam"}, {"mn", "Mongolian"},
    {"mr", "Marathi"}, {"ms", "Malay"}, {"mt", "Maltese"}, {"my", "Burmese"}, {"na", "Nauru"},
    {"nb", "Norwegian Bokmal"}, {"nd", "North Ndebele"}, {"ne", "Nepali"}, {"ng", "Ndonga"},
    {"nl", "Dutch"}, {"nn", "Norwegian Nynorsk"}, {"no", "Norwegian"}, {"nr", "South Ndebele"},
    {"nv", "Navajo"}, {"ny", "Nyanja"}, {"oc", "Occitan"}, {"oj", "Ojibwa"}, {"om", "Oromo"},
    {"or", "Oriya"}, {"os", "Ossetian"}, {"pa", "Panjabi"}, {"pi", "Pali"}, {"pl", "Polish"},
    {"ps", "Pushto"}, {"pt", "Portuguese"}, {"qu", "Quechua"}, {"rm", "Romansh"},
    {"rn", "Rundi"}, {"ro", "Romanian"}, {"ru", "Russian"}, {"rw", "Kinyarwanda"},
    {"sa", "Sanskrit"}, {"sc", "Sardinian"}, {"sd", "Sindhi"}, {"se", "Northern Sami"},
    {"sg", "Sango"}, {"sh", "Serbo-Croatian"}, {"si", "Sinhala"}, {"sk", "Slovak"},
    {"sl", "Slovenian"}, {"sm", "Samoan"}, {"sn", "Shona"}, {"so", "Somali"},
    {"sq", "Albanian"}, {"sr", "Serbian"}, {"ss", "Swati"}, {"st", "Southern Sotho"},
    {"su", "Sundanese"}, {"sv", "Swedish"}, {"sw", "Swahili"}, {"ta", "Tamil"},
    {"te", "Telugu"}, {"tg", "Tajik"}, {"th", "Thai"}, {"ti", "Tigrinya"}, {"tk", "Turkmen"},
    {"tl", "Tagalog"}, {"tn", "Tswana"}, {"to", "Tonga"}, {"tr", "Turkish"}, {"ts", "Tsonga"},
    {"tt", "Tatar"}, {"tw", "Twi"}, {"ty", "Tahitian"}, {"ug", "Uighur"}, {"uk", "Ukrainian"},
    {"ur", "Urdu"}, {"uz", "Uzbek"}, {"ve", "Venda"}, {"vi", "Vietnamese"}, {"vo", "Volapuk"},
    {"wa", "Walloon"}, {"wo", "Wolof"}, {"xh", "Xhosa"}, {"yi", "Yiddish"}, {"yo", "Yoruba"},
    {"za", "Zhuang"}, {"zh", "Chinese"}, {"zu", "Zulu"},
};

static_assert(std::is_sorted(std::begin(kLanguages), std::end(kLanguages),
                             [](const LanguageEntry& a, const LanguageEntry& b) {
                               return a.code < b.code;
                             }));

bool is_ascii_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

}  // namespace

std::optional<std::string_view> language_name(std::string_view code) {
  const auto it = std::lower_bound(
      std::begin(kLanguages), std::end(kLanguages), code,
      [](const LanguageEntry& e, std::string_view c) { return e.code < c; });
  if (it == std::end(kLanguages) || it->code != code) return std::nullopt;
  return it->name;
}

Language classify_accept_language(std::optional<std::string_view> value) {
  // p0f looks only at the first two bytes, and only when a third letter
  // does not follow ("en-US" and "en" qualify; "eng" and "e" do not). An
  // embedded NUL ends the value as far as p0f's C string is concerned.
  if (!value) return {};
  const std::string_view v = value->substr(0, value->find('\0'));
  if (v.size() < 2 || !is_ascii_alpha(v[0]) || !is_ascii_alpha(v[1])) return {};
  if (v.size() > 2 && is_ascii_alpha(v[2])) return {};
  const auto name = language_name(v.substr(0, 2));
  if (!name) return {LanguageVerdict::kUnknown, {}};
  return {LanguageVerdict::kKnown, *name};
}

}  // namespace huginn::fingerprint::http
