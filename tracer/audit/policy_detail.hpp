// Internal to hytrace_audit_policy: JSON text to a value within hard
// limits, and typed reading of that value where every problem is reported
// with its JSON path (policy_json.cc); the hytrace section's reader
// (policy_hytrace.cc). Not installed: nlohmann's types stay out of
// policy.hpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "tracer/audit/policy.hpp"

namespace hytrace::audit::detail {

using Json = nlohmann::json;

// `text` as JSON, with at most kMaxJsonDepth levels and kMaxJsonValues
// values and no key twice in an object. Throws PolicyError: "line L,
// column C: ..." for bad JSON, the JSON path for the rest.
Json parse_bounded(std::string_view text);

// `text` in double quotes, printable ASCII only (other bytes as \xNN,
// quotes and backslashes escaped), cut to about 64 characters.
std::string in_quotes(std::string_view text);

// "PATH: what", or `what` alone for the top; a path longer than 240
// characters loses its middle to "...".
std::string message_at(const std::string& path, std::string_view what);

// A value of the document and its JSON path ("" for the top).
class Node {
 public:
  Node(const Json& value, std::string path) : value_(&value), path_(std::move(path)) {}

  const std::string& path() const { return path_; }
  const Json& json() const { return *value_; }

  // Throws PolicyError "PATH: what".
  [[noreturn]] void fail(std::string_view what) const;

  // Fails unless an object whose keys are all in `known`.
  void expect_keys(std::initializer_list<std::string_view> known) const;
  // The object's member `key`; nullopt when absent or null (null stands
  // for absent, as in Go's encoding/json, which Docker reads with).
  std::optional<Node> field(std::string_view key) const;
  // field(), failing "missing" when absent.
  Node required(std::string_view key) const;

  // Fail with "expected ..." when of another type.
  std::string string() const;
  uint64_t unsigned_number() const;
  // The items of an array, failing when there are more than `max`
  // ("more than MAX NOUN").
  std::vector<Node> items(size_t max, std::string_view noun) const;
  // An array of strings, each at most `max_bytes` long.
  std::vector<std::string> strings(size_t max, std::string_view noun, size_t max_bytes) const;

 private:
  const Json* value_;
  std::string path_;
};

// `path` extended by an object key or an array index.
std::string path_of_key(const std::string& path, std::string_view key);
std::string path_of_index(const std::string& path, size_t index);

// The top-level "hytrace" object.
HytraceSection parse_hytrace_section(const Node& node);

}  // namespace hytrace::audit::detail
