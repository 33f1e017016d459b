// Deciding the policy's path and network rules (the "hytrace" section) for
// one syscall: what the call does to each of its path arguments, which rule
// a path or a socket address falls under. Pure functions: they read neither
// the filesystem nor the tracee, and every input may be the traced
// program's (hostile). The semantics: docs/design/audit-policy.md,
// "Deciding path and network rules".
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tracer/audit/policy.hpp"

namespace hytrace::audit {

// --- what a call does to its paths --------------------------------------------

// The PathAccess bits of opening with these O_* flags: the access mode's
// read and/or write, create for O_CREAT and O_TMPFILE, truncate for O_TRUNC;
// nothing for O_PATH.
uint32_t open_access(uint64_t flags);

// What x86-64 syscall `nr` does to each of its path arguments: either empty
// (the call takes no path, or does nothing a path rule is about: stat,
// access, readlink, chdir, mount...) or exactly one entry per
// syscalls::ArgKind::kPath argument of the catalogue, in argument order (the
// order of tracer::absolute_paths), 0 for an argument no rule is about (a
// symlink's target). i386 and x32 numbers are the caller's to translate.
//
// openat2's flags are in its struct open_how, in the tracee's memory: the
// caller reads them (the first 8 bytes behind args[2]) and passes them as
// `open_how_flags`; without them the call counts as every open access.
std::vector<uint32_t> path_accesses(long nr, std::span<const uint64_t, 6> args,
                                    std::optional<uint64_t> open_how_flags = std::nullopt);

// --- path rules ---------------------------------------------------------------

// `path` made lexically normal: repeated '/' and "." components dropped,
// ".." taking away the component before it (never above "/"), no trailing
// '/'. Symlinks are not followed (nothing here reads the filesystem).
// nullopt when `path` is not absolute.
std::optional<std::string> normalized_path(std::string_view path);

// Whether `rule` names `path` (normalised first): a prefix matches itself and
// everything under it by whole components, a glob matches as the design says.
bool path_matches(const PathRule& rule, std::string_view path);

struct PathDecision {
  Verdict verdict = Verdict::kAllow;
  size_t rule_index = 0;  // PathRule::index
};

// The first rule in file order whose access intersects `access` and whose
// pattern matches `path`; nullopt when none does (only the syscall rules
// apply), when `access` is 0 or when `path` is not absolute.
std::optional<PathDecision> decide_path(const std::vector<PathRule>& rules, std::string_view path,
                                        uint32_t access);

// --- network rules ------------------------------------------------------------

struct NetDecision {
  Verdict verdict = Verdict::kAllow;
  size_t rule_index = 0;  // NetworkRule::index
};

// The first rule in file order of operation `op` whose port range holds the
// address's port and whose address prefix (if any) holds the address.
// `sockaddr` is the bytes the program passed to connect or bind, as long as
// it said they are. An IPv4-mapped IPv6 address is matched by IPv4 and IPv6
// rules; connecting to the unspecified address (0.0.0.0, ::) is matched as
// the loopback address too, where the kernel sends it. nullopt for other
// families (AF_UNIX...), for an address too short for its family, and when
// no rule matches.
std::optional<NetDecision> decide_network(const std::vector<NetworkRule>& rules, NetOp op,
                                          std::span<const uint8_t> sockaddr);

}  // namespace hytrace::audit
