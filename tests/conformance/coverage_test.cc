// Which x86-64 syscalls the conformance cases check, and which they leave
// out and why (excluded.txt, next to this file): every syscall is one or the
// other, never both, and at least kMinCovered are checked.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "syscalls/catalogue.hpp"
#include "tests/conformance/harness.hpp"

namespace hytrace::conformance {
namespace {

constexpr size_t kMinCovered = 150;

// The syscall of a case is its name up to the first '/'; disabled cases
// (DISABLED_...) check nothing and do not count.
std::set<std::string> covered() {
  std::set<std::string> out;
  for (const Case& c : registry()) {
    if (c.name.starts_with("DISABLED_")) continue;
    out.insert(c.name.substr(0, c.name.find('/')));
  }
  return out;
}

std::filesystem::path excluded_path() { return std::filesystem::path(__FILE__).parent_path() / "excluded.txt"; }

// "name: reason" lines; blank lines and '#' comments are skipped.
std::map<std::string, std::string> excluded() {
  std::map<std::string, std::string> out;
  std::ifstream in(excluded_path());
  if (!in) {
    ADD_FAILURE() << "cannot read " << excluded_path();
    return out;
  }
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.empty() || line[0] == '#') continue;
    const size_t colon = line.find(": ");
    if (colon == std::string::npos || colon == 0 || line.find_first_not_of(' ', colon + 2) == std::string::npos) {
      ADD_FAILURE() << "excluded.txt:" << n << ": not \"name: reason\": " << line;
      continue;
    }
    const std::string name = line.substr(0, colon);
    if (!out.emplace(name, line.substr(colon + 2)).second) {
      ADD_FAILURE() << "excluded.txt:" << n << ": " << name << " twice";
    }
  }
  return out;
}

TEST(ConformanceCoverage, EnoughSyscallsAreChecked) {
  const auto names = covered();
  size_t cases = 0;
  for (const Case& c : registry()) cases += !c.name.starts_with("DISABLED_");
  std::cout << "conformance: " << names.size() << " distinct syscalls checked by " << cases << " cases\n";
  EXPECT_GE(names.size(), kMinCovered);
}

TEST(ConformanceCoverage, CasesAreNamedAfterSyscalls) {
  for (const std::string& name : covered()) {
    EXPECT_TRUE(syscalls::number_of(name).has_value()) << "a case is named after \"" << name << "\", not a syscall";
  }
}

TEST(ConformanceCoverage, EverySyscallIsCheckedOrExcludedWithAReason) {
  const auto checked = covered();
  const auto left_out = excluded();
  std::set<std::string> all;
  for (const syscalls::SyscallInfo& info : syscalls::all()) {
    const std::string name(info.name);
    all.insert(name);
    const bool is_checked = checked.count(name) != 0;
    const bool is_excluded = left_out.count(name) != 0;
    EXPECT_TRUE(is_checked || is_excluded) << name << ": no case, and not in excluded.txt with a reason";
    EXPECT_FALSE(is_checked && is_excluded) << name << ": has a case, and is in excluded.txt too";
  }
  for (const auto& [name, reason] : left_out) {
    EXPECT_TRUE(all.count(name) != 0) << "excluded.txt names \"" << name << "\", not an x86-64 syscall";
  }
}

}  // namespace
}  // namespace hytrace::conformance
