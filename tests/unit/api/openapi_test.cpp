// docs/openapi.json against the code: it parses, documents every route the
// Router answers with the same methods, and a profile the real store
// serialises has every field the Profile schema requires, with its type.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "api_test_util.hpp"
#include "huginn/api/assets.hpp"

namespace huginn::api::test {
namespace {

using nlohmann::json;

json load_openapi() {
  std::ifstream f(std::string(HUGINN_SOURCE_DIR) + "/docs/openapi.json");
  EXPECT_TRUE(f.good());
  std::stringstream ss;
  ss << f.rdbuf();
  return json::parse(ss.str());
}

const json& resolve(const json& doc, const json& schema) {
  if (schema.contains("$ref")) {
    std::string ref = schema["$ref"].get<std::string>();
    EXPECT_EQ(ref.rfind("#/", 0), 0u) << ref;
    return resolve(doc, doc.at(json::json_pointer(ref.substr(1))));
  }
  return schema;
}

bool type_matches(const json& value, const std::string& type) {
  if (type == "null") return value.is_null();
  if (type == "string") return value.is_string();
  if (type == "integer") return value.is_number_integer();
  if (type == "number") return value.is_number();
  if (type == "boolean") return value.is_boolean();
  if (type == "object") return value.is_object();
  if (type == "array") return value.is_array();
  ADD_FAILURE() << "unknown schema type " << type;
  return false;
}

// A small checker for the subset we use: type (string or list), required,
// properties, items, enum, allOf. Not a full JSON Schema validator.
void check(const json& doc, const json& schema_in, const json& value, const std::string& where,
           std::vector<std::string>& errors) {
  const json& schema = resolve(doc, schema_in);
  if (schema.contains("allOf")) {
    for (const auto& s : schema["allOf"]) check(doc, s, value, where, errors);
  }
  if (schema.contains("type")) {
    std::vector<std::string> types;
    if (schema["type"].is_array()) {
      for (const auto& t : schema["type"]) types.push_back(t.get<std::string>());
    } else {
      types.push_back(schema["type"].get<std::string>());
    }
    bool ok = false;
    for (const auto& t : types) ok = ok || type_matches(value, t);
    if (!ok) {
      errors.push_back(where + ": " + value.dump() + " is not " + schema["type"].dump());
      return;
    }
  }
  if (schema.contains("enum")) {
    bool found = false;
    for (const auto& e : schema["enum"]) found = found || e == value;
    if (!found) errors.push_back(where + ": " + value.dump() + " not in enum");
  }
  if (value.is_object()) {
    if (schema.contains("required")) {
      for (const auto& r : schema["required"]) {
        if (!value.contains(r.get<std::string>())) errors.push_back(where + ": missing " + r.get<std::string>());
      }
    }
    if (schema.contains("properties")) {
      for (const auto& [k, sub] : schema["properties"].items()) {
        if (value.contains(k)) check(doc, sub, value[k], where + "." + k, errors);
      }
    }
  }
  if (value.is_array() && schema.contains("items")) {
    for (std::size_t i = 0; i < value.size(); ++i) {
      check(doc, schema["items"], value[i], where + "[" + std::to_string(i) + "]", errors);
    }
  }
}

std::vector<std::string> validate(const json& doc, std::string_view schema_name, const json& value) {
  std::vector<std::string> errors;
  check(doc, doc.at("components").at("schemas").at(std::string(schema_name)), value, std::string(schema_name),
        errors);
  return errors;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += s + "\n";
  return out;
}

TEST(OpenApiTest, ParsesAsOpenApi31) {
  json doc = load_openapi();
  EXPECT_EQ(doc.at("openapi"), "3.1.0");
  EXPECT_TRUE(doc.at("info").contains("title"));
  EXPECT_TRUE(doc.at("info").contains("version"));
  // Every $ref resolves.
  std::function<void(const json&)> walk = [&](const json& j) {
    if (j.is_object()) {
      if (j.contains("$ref")) {
        std::string ref = j["$ref"].get<std::string>();
        EXPECT_NO_THROW((void)doc.at(json::json_pointer(ref.substr(1)))) << ref;
      }
      for (const auto& [k, v] : j.items()) walk(v);
    } else if (j.is_array()) {
      for (const auto& v : j) walk(v);
    }
  };
  walk(doc);
}

TEST(OpenApiTest, ServedBytesAreTheDocsFile) {
  const Asset* a = find_asset("/api/openapi.json");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(json::parse(a->body), load_openapi());
}

TEST(OpenApiTest, EveryRouteDocumentedWithItsMethods) {
  json doc = load_openapi();
  std::set<std::string> documented;
  for (const auto& [path, item] : doc.at("paths").items()) documented.insert(path);
  std::set<std::string> routed;
  for (const auto& route : Router::routes()) {
    std::string path(route.path);
    routed.insert(path);
    SCOPED_TRACE(path);
    ASSERT_TRUE(doc["paths"].contains(path));
    const json& item = doc["paths"][path];
    std::string methods(route.methods);
    for (const char* m : {"get", "delete", "post", "put", "patch"}) {
      std::string upper(m);
      for (auto& c : upper) c = static_cast<char>(c - 32);
      bool routes_it = methods.find(upper) != std::string::npos;
      EXPECT_EQ(item.contains(m), routes_it) << m;
      if (item.contains(m)) {
        EXPECT_TRUE(item[m].contains("operationId"));
        EXPECT_TRUE(item[m].at("responses").contains("405"));
      }
    }
  }
  // The real-time routes are mounted by the app (realtime/ serves them) and
  // documented in the same file.
  routed.insert("/events");
  routed.insert("/api/profiles/stream");
  routed.insert("/ws");
  EXPECT_EQ(documented, routed);
}

class OpenApiProfileTest : public ApiFixture {};

TEST_F(OpenApiProfileTest, RealProfilesConformToTheSchema) {
  json doc = load_openapi();
  fill();
  // A profile with every section the store knows of.
  auto full = v4(10, 0, 0, 77);
  store_.apply(syn(full, 5000, "Linux 3.11 and newer"));
  store_.apply(http_request(full, 5001, "curl/7.88.1"));
  store_.apply(tls(full, 5002, "t13d1516h2_8daaf6152771_02713d6af862"));
  store_.apply(http2(full, 5003, "1:65536|12517377|0|m,p,a,s"));
  auto mtu = base_obs(analyzer::ObservationKind::kMtu, full, 5004);
  mtu.mtu = 1500;
  mtu.link = "Ethernet or modem";
  store_.apply(mtu);
  auto up = base_obs(analyzer::ObservationKind::kUptime, full, 5005);
  up.uptime_min = 90;
  up.freq_hz = 1000;
  up.modulo_days = 49;
  store_.apply(up);
  store_.apply(syn(full, 5006, "Windows 7 or 8"));  // an OS change for the history

  auto p = json::parse(get("/api/profiles/10.0.0.77").body);
  EXPECT_EQ(join(validate(doc, "Profile", p)), "");
  for (const char* section : {"tcp", "http", "tls", "http2"}) EXPECT_TRUE(p.contains(section)) << section;
  EXPECT_TRUE(p["tcp"].contains("syn"));
  EXPECT_TRUE(p["tcp"].contains("mtu"));
  EXPECT_TRUE(p["tcp"].contains("uptime"));
  EXPECT_TRUE(p["http"].contains("request"));

  EXPECT_EQ(join(validate(doc, "ProfileList", json::parse(get("/api/profiles?limit=1000").body))), "");
  EXPECT_EQ(join(validate(doc, "Stats", json::parse(get("/api/stats").body))), "");
  EXPECT_EQ(join(validate(doc, "Health", json::parse(get("/api/health").body))), "");
  EXPECT_EQ(join(validate(doc, "Error", json::parse(get("/api/profiles/x").body))), "");

  // The checker itself rejects what it should.
  json broken = p;
  broken.erase("ip");
  broken["connections"] = "many";
  EXPECT_EQ(validate(doc, "Profile", broken).size(), 2u);
}

}  // namespace
}  // namespace huginn::api::test
