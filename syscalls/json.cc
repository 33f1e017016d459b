// The JSON form of one event; the schema is docs/json-events.md.
#include <nlohmann/json.hpp>

#include "syscalls/format.hpp"

namespace hytrace::syscalls {
namespace {

const char* abi_name(Abi abi) {
  switch (abi) {
    case Abi::kX86_64: return "x86_64";
    case Abi::kI386: return "i386";
    case Abi::kX32: return "x32";
  }
  return "x86_64";
}

}  // namespace

nlohmann::json to_json(const RenderedCall& rc, const Call& call) {
  nlohmann::json args = nlohmann::json::array();
  for (const std::string& a : rc.args) {
    // Empty: written by the kernel, and the call has not returned yet.
    args.push_back(a.empty() ? nlohmann::json(nullptr) : nlohmann::json(a));
  }
  nlohmann::json raw_args = nlohmann::json::array();
  for (uint64_t a : call.args) raw_args.push_back(a);
  nlohmann::json event = {
      {"syscall", rc.name},
      {"nr", call.nr},
      {"abi", abi_name(call.abi)},
      {"args", std::move(args)},
      {"raw_args", std::move(raw_args)},
  };
  if (rc.result == "?") {
    event["result"] = nullptr;  // the call does not return (exit_group)
  } else if (!rc.result.empty()) {
    event["result"] = rc.raw_result;
  }
  if (rc.is_error) event["error"] = rc.error_name;
  return event;
}

}  // namespace hytrace::syscalls
