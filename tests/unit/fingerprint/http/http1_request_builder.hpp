#pragma once
// Builds HTTP/1.x request and response header blocks for tests, so each
// test states the message it is about instead of a byte dump.
#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace huginn::test {

class Http1RequestBuilder {
 public:
  Http1RequestBuilder& method(std::string m) { method_ = std::move(m); return *this; }
  Http1RequestBuilder& path(std::string p) { path_ = std::move(p); return *this; }
  Http1RequestBuilder& version(std::string v) { version_ = std::move(v); return *this; }
  // Line ending for every line, "\r\n" by default ("\n" is accepted too).
  Http1RequestBuilder& eol(std::string e) { eol_ = std::move(e); return *this; }
  // "Name: value"; an empty value gives "Name:".
  Http1RequestBuilder& header(std::string name, std::string value) {
    lines_.push_back(value.empty() ? name + ":" : name + ": " + value);
    return *this;
  }
  // A header line exactly as given.
  Http1RequestBuilder& raw_line(std::string line) { lines_.push_back(std::move(line)); return *this; }
  // Bytes after the empty line.
  Http1RequestBuilder& body(std::string b) { body_ = std::move(b); return *this; }
  // Leave out the empty line that ends the block.
  Http1RequestBuilder& unterminated() { terminated_ = false; return *this; }

  [[nodiscard]] std::string text() const {
    std::string out = method_ + " " + path_ + " HTTP/" + version_ + eol_;
    for (const auto& l : lines_) out += l + eol_;
    if (terminated_) out += eol_ + body_;
    return out;
  }
  [[nodiscard]] std::vector<std::uint8_t> bytes() const {
    const std::string t = text();
    return {t.begin(), t.end()};
  }

 private:
  std::string method_ = "GET";
  std::string path_ = "/";
  std::string version_ = "1.1";
  std::string eol_ = "\r\n";
  std::vector<std::string> lines_;
  std::string body_;
  bool terminated_ = true;
};

class Http1ResponseBuilder {
 public:
  Http1ResponseBuilder& status(std::string s) { status_ = std::move(s); return *this; }
  Http1ResponseBuilder& header(std::string name, std::string value) {
    lines_.push_back(name + ": " + value);
    return *this;
  }
  [[nodiscard]] std::string text() const {
    std::string out = status_ + "\r\n";
    for (const auto& l : lines_) out += l + "\r\n";
    return out + "\r\n";
  }
  [[nodiscard]] std::vector<std::uint8_t> bytes() const {
    const std::string t = text();
    return {t.begin(), t.end()};
  }

 private:
  std::string status_ = "HTTP/1.1 200 OK";
  std::vector<std::string> lines_;
};

inline std::span<const std::uint8_t> as_bytes(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

}  // namespace huginn::test
