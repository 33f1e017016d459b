// Bounded JSON reading for the policy loader (policy_detail.hpp).
#include <algorithm>
#include <utility>

#include "tracer/audit/policy_detail.hpp"

namespace hytrace::audit::detail {
namespace {

bool is_identifier(std::string_view key) {
  if (key.empty() || (key[0] >= '0' && key[0] <= '9')) return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// `text` with every byte outside printable ASCII as \xNN, cut after
// `max` bytes of input with "...".
std::string printable(std::string_view text, size_t max, bool escape_quotes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (i == max) {
      out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c >= 0x7f) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else if (escape_quotes && (c == '"' || c == '\\')) {
      out += '\\';
      out += static_cast<char>(c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

constexpr size_t kMaxPathInMessage = 240;

// Builds the document from nlohmann's SAX events, refusing what is too
// deep, too big or ambiguous (a key twice) before it is stored.
class BoundedBuilder final : public nlohmann::json_sax<Json> {
 public:
  BoundedBuilder(std::string_view text, Json& root) : text_(text), root_(root) {}
  const std::string& error() const { return error_; }

  bool null() override { return add(Json(nullptr)); }
  bool boolean(bool value) override { return add(Json(value)); }
  bool number_integer(Json::number_integer_t value) override { return add(Json(value)); }
  bool number_unsigned(Json::number_unsigned_t value) override { return add(Json(value)); }
  bool number_float(Json::number_float_t value, const Json::string_t&) override {
    return add(Json(value));
  }
  bool string(Json::string_t& value) override { return add(Json(std::move(value))); }
  bool binary(Json::binary_t& value) override { return add(Json::binary(std::move(value))); }
  bool start_object(std::size_t) override { return open(Json::object()); }
  bool start_array(std::size_t) override { return open(Json::array()); }
  bool end_object() override { return close(); }
  bool end_array() override { return close(); }

  bool key(Json::string_t& key) override {
    Frame& top = frames_.back();
    if (top.container->contains(key)) {
      error_ = message_at(path_of_key(path_of_top(), key), "duplicate key");
      return false;
    }
    top.key = std::move(key);
    return true;
  }

  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    error_ = where(position) + ": " + printable(what_of(ex.what()), 200, false);
    return false;
  }

 private:
  struct Frame {
    Json* container;
    std::string key;  // objects: the member being read
  };

  // Where the next value goes, stored there; returns it.
  Json* place(Json&& value) {
    if (frames_.empty()) {
      root_ = std::move(value);
      return &root_;
    }
    Frame& top = frames_.back();
    if (top.container->is_array()) {
      top.container->push_back(std::move(value));
      return &top.container->back();
    }
    auto& members = top.container->get_ref<Json::object_t&>();
    return &members.emplace(top.key, std::move(value)).first->second;
  }

  bool counted() {
    if (++values_ <= kMaxJsonValues) return true;
    error_ = "more than " + std::to_string(kMaxJsonValues) + " JSON values";
    return false;
  }

  bool add(Json&& value) {
    if (!counted()) return false;
    place(std::move(value));
    return true;
  }

  bool open(Json&& container) {
    if (!counted()) return false;
    if (frames_.size() + 1 > kMaxJsonDepth) {
      error_ = message_at(path_of_next(),
                          "nested deeper than " + std::to_string(kMaxJsonDepth) + " levels");
      return false;
    }
    frames_.push_back({place(std::move(container)), {}});
    return true;
  }

  bool close() {
    frames_.pop_back();
    return true;
  }

  // The path of the innermost open container.
  std::string path_of_top() const {
    std::string path;
    for (size_t i = 1; i < frames_.size(); ++i) path = step(path, frames_[i - 1], false);
    return path;
  }

  // The path of the value that comes next.
  std::string path_of_next() const {
    return frames_.empty() ? std::string() : step(path_of_top(), frames_.back(), true);
  }

  // Into the child of `frame` being read (`next`: the one to come).
  static std::string step(const std::string& path, const Frame& frame, bool next) {
    if (frame.container->is_object()) return path_of_key(path, frame.key);
    const size_t size = frame.container->size();
    return path_of_index(path, next ? size : size - 1);
  }

  // "line L, column C" of the byte before `position`, where nlohmann
  // stopped (it counts the same way).
  std::string where(size_t position) const {
    const std::string_view before = text_.substr(0, std::min(position, text_.size()));
    const size_t line = 1 + static_cast<size_t>(std::count(before.begin(), before.end(), '\n'));
    const size_t line_start = before.rfind('\n');
    const size_t column = line_start == std::string_view::npos ? before.size() : before.size() - line_start - 1;
    return "line " + std::to_string(line) + ", column " + std::to_string(std::max<size_t>(column, 1));
  }

  // nlohmann's message without "[json.exception.parse_error.101] parse
  // error at line L, column C: ".
  static std::string_view what_of(std::string_view what) {
    if (what.substr(0, 1) == "[") {
      const size_t end = what.find("] ");
      if (end != std::string_view::npos) what.remove_prefix(end + 2);
    }
    if (what.substr(0, 12) == "parse error ") {
      const size_t colon = what.find(": ");
      if (colon != std::string_view::npos) what.remove_prefix(colon + 2);
    }
    return what;
  }

  std::string_view text_;
  Json& root_;
  std::vector<Frame> frames_;
  size_t values_ = 0;
  std::string error_;
};

}  // namespace

Json parse_bounded(std::string_view text) {
  Json root;
  BoundedBuilder builder(text, root);
  if (!Json::sax_parse(text.begin(), text.end(), &builder)) {
    throw PolicyError(builder.error().empty() ? "invalid JSON" : builder.error());
  }
  return root;
}

std::string message_at(const std::string& path, std::string_view what) {
  if (path.empty()) return std::string(what);
  if (path.size() <= kMaxPathInMessage) return path + ": " + std::string(what);
  const size_t head = kMaxPathInMessage / 3;
  const size_t tail = kMaxPathInMessage - head;
  return path.substr(0, head) + "..." + path.substr(path.size() - tail) + ": " + std::string(what);
}

std::string in_quotes(std::string_view text) { return '"' + printable(text, 64, true) + '"'; }

std::string path_of_key(const std::string& path, std::string_view key) {
  if (!is_identifier(key)) return path + "[" + in_quotes(key) + "]";
  return path.empty() ? std::string(key) : path + "." + std::string(key);
}

std::string path_of_index(const std::string& path, size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

void Node::fail(std::string_view what) const {
  throw PolicyError(message_at(path_, what));
}

void Node::expect_keys(std::initializer_list<std::string_view> known) const {
  if (!value_->is_object()) fail("expected an object");
  for (const auto& [key, value] : value_->items()) {
    if (std::find(known.begin(), known.end(), key) == known.end()) {
      fail("unknown key " + in_quotes(key));
    }
  }
}

std::optional<Node> Node::field(std::string_view key) const {
  if (!value_->is_object()) fail("expected an object");
  const auto it = value_->find(key);
  if (it == value_->end() || it->is_null()) return std::nullopt;
  return Node(*it, path_of_key(path_, key));
}

Node Node::required(std::string_view key) const {
  std::optional<Node> node = field(key);
  if (!node) throw PolicyError(message_at(path_of_key(path_, key), "missing"));
  return *node;
}

std::string Node::string() const {
  if (!value_->is_string()) fail("expected a string");
  return value_->get<std::string>();
}

uint64_t Node::unsigned_number() const {
  if (!value_->is_number_unsigned()) fail("expected an unsigned integer");
  return value_->get<uint64_t>();
}

std::vector<Node> Node::items(size_t max, std::string_view noun) const {
  if (!value_->is_array()) fail("expected an array");
  if (value_->size() > max) fail("more than " + std::to_string(max) + " " + std::string(noun));
  std::vector<Node> nodes;
  nodes.reserve(value_->size());
  for (size_t i = 0; i < value_->size(); ++i) nodes.emplace_back((*value_)[i], path_of_index(path_, i));
  return nodes;
}

std::vector<std::string> Node::strings(size_t max, std::string_view noun, size_t max_bytes) const {
  std::vector<std::string> out;
  for (const Node& item : items(max, noun)) {
    std::string text = item.string();
    if (text.empty()) item.fail("empty string");
    if (text.size() > max_bytes) item.fail("longer than " + std::to_string(max_bytes) + " bytes");
    out.push_back(std::move(text));
  }
  return out;
}

}  // namespace hytrace::audit::detail
