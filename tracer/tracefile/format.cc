#include "tracer/tracefile/format.hpp"

#include <sys/utsname.h>
#include <unistd.h>
#include <xxhash.h>

#include <ctime>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "tracer/tracefile/bytes.hpp"

#ifndef HYTRACE_VERSION
#define HYTRACE_VERSION "unknown"
#endif

namespace hytrace::tracefile {
namespace {

using detail::load_le;
using detail::store_le;
using nlohmann::json;

// --- the header's JSON -------------------------------------------------------

// Deeper nesting than kMaxJsonDepth, counted outside strings. Run before
// parsing: a megabyte of "[" must not reach the recursive printer.
bool too_deep(std::span<const uint8_t> text) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (uint8_t c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') in_string = true;
    if (c == '[' || c == '{') {
      if (++depth > kMaxJsonDepth) return true;
    }
    if (c == ']' || c == '}') --depth;
  }
  return false;
}

// Reads field `name` into `out` when present; false when it has another type.
bool take_string(const json& j, const char* name, std::string& out) {
  auto it = j.find(name);
  if (it == j.end()) return true;
  if (!it->is_string()) return false;
  out = it->get<std::string>();
  return true;
}

bool take_strings(const json& j, const char* name, std::vector<std::string>& out) {
  auto it = j.find(name);
  if (it == j.end()) return true;
  if (!it->is_array()) return false;
  for (const json& e : *it) {
    if (!e.is_string()) return false;
    out.push_back(e.get<std::string>());
  }
  return true;
}

bool take_bool(const json& j, const char* name, bool& out) {
  auto it = j.find(name);
  if (it == j.end()) return true;
  if (!it->is_boolean()) return false;
  out = it->get<bool>();
  return true;
}

bool take_start(const json& j, TraceInfo& info) {
  auto it = j.find("start_time");
  if (it == j.end()) return true;
  if (!it->is_object()) return false;
  auto s = it->find("seconds");
  auto ns = it->find("nanoseconds");
  if (s == it->end() || !s->is_number_integer()) return false;
  if (ns == it->end() || !ns->is_number_unsigned() || ns->get<uint64_t>() >= 1000000000) return false;
  info.start_seconds = s->get<int64_t>();
  info.start_nanoseconds = static_cast<uint32_t>(ns->get<uint64_t>());
  return true;
}

// The first field of `j` that is missing or mistyped; empty when all fit.
std::string fill_info(const json& j, TraceInfo& info) {
  if (!j.contains("hytrace_version")) return "hytrace_version";
  if (!take_string(j, "hytrace_version", info.hytrace_version)) return "hytrace_version";
  if (!take_string(j, "kernel_release", info.kernel_release)) return "kernel_release";
  if (auto cpu = j.find("cpu"); cpu != j.end()) {
    if (!cpu->is_object()) return "cpu";
    if (!take_string(*cpu, "model", info.cpu_model)) return "cpu.model";
    if (!take_strings(*cpu, "flags", info.cpu_flags)) return "cpu.flags";
  }
  if (!take_strings(j, "command", info.command)) return "command";
  if (!take_strings(j, "environment", info.environment)) return "environment";
  if (!take_string(j, "cwd", info.cwd)) return "cwd";
  if (!take_start(j, info)) return "start_time";
  if (!take_bool(j, "aslr_disabled", info.aslr_disabled)) return "aslr_disabled";
  if (!take_bool(j, "vdso_hidden", info.vdso_hidden)) return "vdso_hidden";
  if (auto s = j.find("settings"); s != j.end()) {
    if (!s->is_object()) return "settings";
    info.settings = s->dump();
  }
  return {};
}

json info_json(const TraceInfo& info) {
  json settings = json::parse(info.settings, nullptr, false);
  if (!settings.is_object()) throw std::invalid_argument("trace settings must be a JSON object");
  return {
      {"hytrace_version", info.hytrace_version},
      {"kernel_release", info.kernel_release},
      {"cpu", {{"model", info.cpu_model}, {"flags", info.cpu_flags}}},
      {"command", info.command},
      {"environment", info.environment},
      {"cwd", info.cwd},
      {"start_time", {{"seconds", info.start_seconds}, {"nanoseconds", info.start_nanoseconds}}},
      {"aslr_disabled", info.aslr_disabled},
      {"vdso_hidden", info.vdso_hidden},
      {"settings", std::move(settings)},
  };
}

// --- this machine --------------------------------------------------------

// "model name" and "flags" of the first processor in /proc/cpuinfo.
void read_cpu(TraceInfo& info) {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  bool have_model = false, have_flags = false;
  while ((!have_model || !have_flags) && std::getline(in, line)) {
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = line.substr(0, colon);
    key.erase(key.find_last_not_of(" \t") + 1);
    std::string value = colon + 2 <= line.size() ? line.substr(colon + 2) : "";
    if (key == "model name" && !have_model) {
      info.cpu_model = value;
      have_model = true;
    } else if (key == "flags" && !have_flags) {
      std::istringstream words(value);
      for (std::string w; words >> w;) info.cpu_flags.push_back(w);
      have_flags = true;
    }
  }
}

}  // namespace

uint64_t hash64(std::span<const uint8_t> bytes) { return XXH64(bytes.data(), bytes.size(), 0); }

uint64_t hash64(std::span<const uint8_t> first, std::span<const uint8_t> second) {
  XXH64_state_t* state = XXH64_createState();
  if (!state) throw std::bad_alloc();
  XXH64_reset(state, 0);
  XXH64_update(state, first.data(), first.size());
  XXH64_update(state, second.data(), second.size());
  const uint64_t h = XXH64_digest(state);
  XXH64_freeState(state);
  return h;
}

uint32_t header_check_of(std::span<const uint8_t, kChunkHeaderSize> bytes) {
  return static_cast<uint32_t>(hash64(bytes.first(36)));
}

uint64_t checksum_of(std::span<const uint8_t, kChunkHeaderSize> header,
                     std::span<const uint8_t> payload) {
  return hash64(header.first(40), payload);
}

std::array<uint8_t, kChunkHeaderSize> encode_chunk_header(ChunkHeader h,
                                                          std::span<const uint8_t> payload) {
  std::array<uint8_t, kChunkHeaderSize> b{};
  std::copy(kChunkMagic.begin(), kChunkMagic.end(), b.begin());
  store_le(&b[4], h.flags);
  store_le(&b[8], h.stored_length);
  store_le(&b[12], h.raw_length);
  store_le(&b[16], h.first_seq);
  store_le(&b[24], h.last_seq);
  store_le(&b[32], h.event_count);
  store_le(&b[36], header_check_of(b));
  store_le(&b[40], checksum_of(b, payload));
  return b;
}

ChunkHeader decode_chunk_header(std::span<const uint8_t, kChunkHeaderSize> b) {
  ChunkHeader h;
  h.flags = load_le<uint32_t>(&b[4]);
  h.stored_length = load_le<uint32_t>(&b[8]);
  h.raw_length = load_le<uint32_t>(&b[12]);
  h.first_seq = load_le<uint64_t>(&b[16]);
  h.last_seq = load_le<uint64_t>(&b[24]);
  h.event_count = load_le<uint32_t>(&b[32]);
  h.header_check = load_le<uint32_t>(&b[36]);
  h.checksum = load_le<uint64_t>(&b[40]);
  return h;
}

TraceInfo describe_machine() {
  TraceInfo info;
  info.hytrace_version = HYTRACE_VERSION;
  if (struct utsname u; uname(&u) == 0) info.kernel_release = u.release;
  read_cpu(info);
  if (char* cwd = getcwd(nullptr, 0)) {
    info.cwd = cwd;
    free(cwd);
  }
  struct timespec now {};
  clock_gettime(CLOCK_REALTIME, &now);
  info.start_seconds = now.tv_sec;
  info.start_nanoseconds = static_cast<uint32_t>(now.tv_nsec);
  return info;
}

std::vector<uint8_t> encode_file_header(const TraceInfo& info) {
  // Arguments and variables are bytes, not always UTF-8: replace what is
  // not, rather than failing the recording over a header field.
  const std::string text = info_json(info).dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > kMaxHeaderJson) throw std::invalid_argument("the trace header is over 1 MiB");
  std::vector<uint8_t> out(kFileHeaderSize + text.size());
  std::copy(kFileMagic.begin(), kFileMagic.end(), out.begin());
  store_le(&out[8], kFormatVersion);
  store_le(&out[12], uint32_t{0});
  store_le(&out[16], static_cast<uint32_t>(text.size()));
  store_le(&out[20], uint32_t{0});
  std::copy(text.begin(), text.end(), out.begin() + kFileHeaderSize);
  const std::span<const uint8_t> all(out);
  store_le(&out[24], hash64(all.first(24), all.subspan(kFileHeaderSize)));
  return out;
}

std::optional<TraceInfo> parse_header_json(std::span<const uint8_t> text, std::string& error) {
  if (too_deep(text)) {
    error = "nested deeper than " + std::to_string(kMaxJsonDepth) + " levels";
    return std::nullopt;
  }
  const json j = json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded()) {
    error = "not valid JSON";
    return std::nullopt;
  }
  if (!j.is_object()) {
    error = "not a JSON object";
    return std::nullopt;
  }
  TraceInfo info;
  if (std::string field = fill_info(j, info); !field.empty()) {
    error = "field '" + field + "' is missing or has the wrong type";
    return std::nullopt;
  }
  return info;
}

}  // namespace hytrace::tracefile
