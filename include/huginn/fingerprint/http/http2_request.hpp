#pragma once
// An HTTP/2 request's header list seen as the HTTP/1 request p0f would
// fingerprint, so HTTP/2 clients get a p0f request signature
// ("ver:horder:habsent:expsw", p0f README "HTTP signatures") comparable
// with their HTTP/1 one. The mapping (docs/http2-fingerprint.md, "p0f HTTP
// signature"):
//  - ver is "*". p0f's ver is 0 (HTTP/1.0) or 1 (HTTP/1.1), and p0f.fp's
//    loader accepts only 0, 1 and * there; "2" would make the line
//    unloadable as a database signature. "*" (any version) keeps it
//    loadable and cannot be mistaken for an HTTP/1.x observation, which
//    always says 0 or 1.
//  - :authority becomes "Host", at its position in the list (HTTP/1
//    clients also send Host first; RFC 9113 §8.3.1 makes :authority the
//    Host equivalent). Other pseudo-headers (:method, :scheme, :path,
//    :protocol) have no HTTP/1 header and are dropped.
//  - Names are given HTTP/1 capitalisation. HTTP/2 requires lowercase
//    names (RFC 9113 §8.2.1) but p0f compares names case-sensitively, and
//    p0f.fp spells them as HTTP/1 clients do ("User-Agent",
//    "Accept-Language"); lowercase names would all be "unknown" and every
//    expected header "absent". Each '-'-separated word is capitalised,
//    except the few names usually written otherwise (DNT, TE, ETag,
//    WWW-Authenticate).
//  - Repeated "cookie" fields (split crumbs, RFC 9113 §8.2.3) are one
//    Cookie header, as an HTTP/1 client sends them, at the first one's
//    position.
//  - user-agent becomes User-Agent and so the software part (expsw).
//  - Fields whose names are not of p0f's form ([A-Za-z0-9_-], at most
//    kMaxHeaderName bytes; p0f rejects such an HTTP/1 request) are left
//    out, so that no name can break the signature's ',' and ':' fields.
//  - At most kMaxHeaders headers are kept (p0f rejects an HTTP/1 request
//    with more; for HTTP/2 the first ones still tell the client).
// The method is not checked: p0f fingerprints only GET and HEAD requests,
// but a client's first HTTP/2 request is what there is to fingerprint.
//
// Pure; no database: which names p0f knows is the caller's predicate.
#include <span>
#include <string>
#include <string_view>

#include "huginn/fingerprint/http/http1_parser.hpp"
#include "huginn/fingerprint/http/http_signature.hpp"

namespace huginn::fingerprint::http {

// The HTTP/1 spelling of a lowercase HTTP/2 field name ("accept-language"
// -> "Accept-Language", "dnt" -> "DNT"). Other bytes are kept as they are.
[[nodiscard]] std::string http1_header_name(std::string_view h2_name);

// The request an HTTP/1.1 client would have sent with these fields (HTTP/2
// names and values, wire order, pseudo-headers included): http_ver 1,
// method and path from :method and :path, headers mapped as above.
[[nodiscard]] Http1Message http1_view_of_http2_request(std::span<const Http1Header> fields);

// format_http_raw_sig() of compute_http_signature(msg) with ver "*": the
// text form of an http1_view_of_http2_request() result.
[[nodiscard]] std::string format_http2_raw_sig(const Http1Message& msg, const HeaderKnown& known);

}  // namespace huginn::fingerprint::http
