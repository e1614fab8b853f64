#include "huginn/db/http_matcher.hpp"

#include <algorithm>

namespace huginn::db {

namespace {

namespace fh = fingerprint::http;

// p0f compares with strstr(): the observed side ends at its first NUL.
bool contains(std::string_view haystack, std::string_view needle) {
  return fh::c_string_view(haystack).find(needle) != std::string_view::npos;
}

bool header_present(const fh::HttpSignature& sig, std::string_view name) {
  return std::any_of(sig.headers.begin(), sig.headers.end(),
                     [&](const fh::Http1Header& h) { return h.name == name; });
}

bool matches(const HttpSigPattern& rs, const fh::HttpSignature& ts) {
  if (rs.http_ver && *rs.http_ver != ts.http_ver) return false;
  // Walk the record's headers; each must be found at or after the position
  // where the previous one was found. An optional header that is not found
  // there is acceptable only if it occurs nowhere (not out of order).
  std::size_t at = 0;
  for (const HttpHeaderPattern& want : rs.horder) {
    std::size_t i = at;
    while (i < ts.headers.size() && ts.headers[i].name != want.name) ++i;
    if (i == ts.headers.size()) {
      if (!want.optional || header_present(ts, want.name)) return false;
      continue;
    }
    if (want.value) {
      // An empty observed value is p0f's "no value", which never matches.
      const std::string& got = ts.headers[i].value;
      if (got.empty() || !contains(got, *want.value)) return false;
    }
    at = i + 1;
  }
  return std::none_of(rs.habsent.begin(), rs.habsent.end(),
                      [&](const std::string& name) { return header_present(ts, name); });
}

bool dishonest(const HttpSigRecord& rec, const fh::HttpSignature& ts) {
  return !rec.sig.expsw.empty() && ts.sw && !contains(*ts.sw, rec.sig.expsw);
}

}  // namespace

HttpMatcher::HttpMatcher(const P0fDb& db) : db_(db) {
  for (std::string_view n : fh::builtin_header_names()) known_.emplace(n);
  for (const auto* section : {&db.http_request, &db.http_response}) {
    for (const HttpSigRecord& rec : *section) {
      for (const auto& h : rec.sig.horder) known_.insert(h.name);
      for (const auto& n : rec.sig.habsent) known_.insert(n);
    }
  }
  for (const auto& [keyword, name] : db.ua_os) {
    if (const auto id = find_name_id(db, name)) ua_os_.emplace_back(keyword, *id);
  }
}

HttpMatch HttpMatcher::match(const fh::HttpSignature& sig) const {
  const auto& records = sig.request ? db_.http_request : db_.http_response;
  const HttpSigRecord* generic = nullptr;
  for (const HttpSigRecord& rec : records) {
    if (!matches(rec.sig, sig)) continue;
    if (!rec.label->generic) return {&rec, dishonest(rec, sig)};
    if (generic == nullptr) generic = &rec;
  }
  if (generic == nullptr) return {};
  return {generic, dishonest(*generic, sig)};
}

bool HttpMatcher::is_known_header(std::string_view name) const {
  return known_.find(std::string(name)) != known_.end();
}

fh::HeaderKnown HttpMatcher::known_header_predicate() const {
  return [this](std::string_view name) { return is_known_header(name); };
}

std::optional<std::uint32_t> HttpMatcher::ua_os_name_id(std::string_view user_agent) const {
  for (const auto& [keyword, id] : ua_os_) {
    if (contains(user_agent, keyword)) return id;
  }
  return std::nullopt;
}

}  // namespace huginn::db
