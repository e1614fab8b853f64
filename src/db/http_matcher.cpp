#include "huginn/db/http_matcher.hpp"

#include <algorithm>
#include <array>

namespace huginn::db {

namespace {

namespace fh = fingerprint::http;

// p0f compares with strstr(): the observed side ends at its first NUL.
bool contains(std::string_view haystack, std::string_view needle) {
  return fh::c_string_view(haystack).find(needle) != std::string_view::npos;
}

// Whether `id` is among the observed header ids.
bool has_id(std::span<const HttpMatcher::HeaderId> ids, HttpMatcher::HeaderId id) {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

bool dishonest(const HttpSigRecord& rec, const fh::HttpSignature& ts) {
  return !rec.sig.expsw.empty() && ts.sw && !contains(*ts.sw, rec.sig.expsw);
}

}  // namespace

HttpMatcher::HttpMatcher(const P0fDb& db) {
  const auto intern = [this](std::string_view name) {
    // Ids stay below kUnknownHeader: names come from a file in memory.
    ids_.try_emplace(std::string(name), static_cast<HeaderId>(ids_.size()));
  };
  for (std::string_view n : fh::builtin_header_names()) intern(n);
  for (const auto* section : {&db.http_request, &db.http_response}) {
    for (const HttpSigRecord& rec : *section) {
      for (const auto& h : rec.sig.horder) intern(h.name);
      for (const auto& n : rec.sig.habsent) intern(n);
    }
  }
  request_ = compile(db.http_request);
  response_ = compile(db.http_response);
  for (const auto& [keyword, name] : db.ua_os) {
    if (const auto id = find_name_id(db, name)) ua_os_.emplace_back(keyword, *id);
  }
}

void HttpMatcher::add_to_mask(IdMask& mask, HeaderId id) {
  if (id < kMaskIds) mask[id / 64] |= std::uint64_t{1} << (id % 64);
}

HttpMatcher::HeaderId HttpMatcher::header_id(std::string_view name) const {
  const auto it = ids_.find(name);
  return it == ids_.end() ? kUnknownHeader : it->second;
}

std::vector<HttpMatcher::CompiledRecord> HttpMatcher::compile(
    const std::vector<HttpSigRecord>& section) const {
  std::vector<CompiledRecord> out;
  out.reserve(section.size());
  for (const HttpSigRecord& rec : section) {
    CompiledRecord c;
    c.record = &rec;
    for (const HttpHeaderPattern& h : rec.sig.horder) {
      c.horder.push_back({header_id(h.name), h.optional, h.value ? &*h.value : nullptr});
      if (!h.optional) add_to_mask(c.required, c.horder.back().id);
    }
    for (const std::string& n : rec.sig.habsent) {
      c.habsent.push_back(header_id(n));
      add_to_mask(c.absent, c.habsent.back());
    }
    out.push_back(std::move(c));
  }
  return out;
}

bool HttpMatcher::matches(const CompiledRecord& rec, const fh::HttpSignature& ts,
                          std::span<const HeaderId> ids, const IdMask& present) {
  const HttpSigPattern& rs = rec.record->sig;
  if (rs.http_ver && *rs.http_ver != ts.http_ver) return false;
  for (std::size_t w = 0; w < present.size(); ++w) {
    if (((rec.required[w] & ~present[w]) | (rec.absent[w] & present[w])) != 0) return false;
  }
  // Walk the record's headers; each must be found at or after the position
  // where the previous one was found. An optional header that is not found
  // there is acceptable only if it occurs nowhere (not out of order).
  std::size_t at = 0;
  for (const HeaderRule& want : rec.horder) {
    std::size_t i = at;
    while (i < ids.size() && ids[i] != want.id) ++i;
    if (i == ids.size()) {
      if (!want.optional || has_id(ids, want.id)) return false;
      continue;
    }
    if (want.value != nullptr) {
      // An empty observed value is p0f's "no value", which never matches.
      const std::string& got = ts.headers[i].value;
      if (got.empty() || !contains(got, *want.value)) return false;
    }
    at = i + 1;
  }
  return std::none_of(rec.habsent.begin(), rec.habsent.end(),
                      [&](HeaderId id) { return has_id(ids, id); });
}

HttpMatch HttpMatcher::match(const fh::HttpSignature& sig) const {
  // Each observed name is looked up once; the records then compare ids.
  // The parser keeps at most kMaxHeaders, so the array normally suffices.
  const std::size_t n = sig.headers.size();
  std::array<HeaderId, fh::kMaxHeaders> small{};
  std::vector<HeaderId> large;
  std::span<const HeaderId> ids;
  if (n <= small.size()) {
    for (std::size_t i = 0; i < n; ++i) small[i] = header_id(sig.headers[i].name);
    ids = std::span<const HeaderId>(small.data(), n);
  } else {
    large.reserve(n);
    for (const auto& h : sig.headers) large.push_back(header_id(h.name));
    ids = large;
  }

  IdMask present{};
  for (const HeaderId id : ids) add_to_mask(present, id);

  const auto& records = sig.request ? request_ : response_;
  const HttpSigRecord* generic = nullptr;
  for (const CompiledRecord& rec : records) {
    if (!matches(rec, sig, ids, present)) continue;
    if (!rec.record->label->generic) return {rec.record, dishonest(*rec.record, sig)};
    if (generic == nullptr) generic = rec.record;
  }
  if (generic == nullptr) return {};
  return {generic, dishonest(*generic, sig)};
}

bool HttpMatcher::is_known_header(std::string_view name) const {
  return ids_.find(name) != ids_.end();
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
