// render_entry / render_exit and the text of a rendered call.
#include <asm/unistd_64.h>

#include <iterator>

#include <fmt/format.h>

#include "syscalls/format.hpp"
#include "syscalls/render.hpp"

namespace hytrace::syscalls {
namespace {

using detail::Ctx;
using detail::Layout;

// x32 syscalls are x86-64 numbers with this bit set; below 512 they share
// the x86-64 table (512 and up are x32's own compat entries).
constexpr long kX32Bit = __X32_SYSCALL_BIT;
constexpr long kX32FirstCompat = 512;

// The catalogue entry for the call, or nullptr (i386 calls use other
// numbers and layouts: they are shown by name with raw arguments).
const SyscallInfo* info_for(const Call& call) {
  switch (call.abi) {
    case Abi::kX86_64: return lookup(call.nr);
    case Abi::kX32: {
      long nr = call.nr & ~kX32Bit;
      return nr < kX32FirstCompat ? lookup(nr) : nullptr;
    }
    case Abi::kI386: return nullptr;
  }
  return nullptr;
}

Ctx make_ctx(const Call& call, const SyscallInfo& info, MemoryReader& mem, const FormatOptions& opts) {
  return Ctx{.call = call, .info = info, .detail = detail::details_of(info), .mem = mem, .opts = opts};
}

// A call without a catalogue entry: its name in its ABI, or its number.
std::string raw_name(const Call& call) {
  const long nr = call.abi == Abi::kX32 ? call.nr & ~kX32Bit : call.nr;
  const std::string_view name = name_of(call.abi, nr);
  if (!name.empty()) return std::string(name);
  return fmt::format("syscall_{:#x}", static_cast<unsigned long>(call.nr));
}

void render_raw(RenderedCall& rc, const Call& call) {
  rc.args.assign(6, std::string());
  for (size_t i = 0; i < 6; ++i) detail::put_hex(rc.args[i], call.args[i]);
  rc.first_exit_arg = rc.args.size();
}

void render_entry_args(RenderedCall& rc, const Ctx& ctx) {
  Layout layout = detail::layout_of(ctx);
  rc.args.assign(layout.count, std::string());
  rc.first_exit_arg = layout.count;
  for (size_t p = 0; p < layout.count; ++p) {
    int index = layout.index[p];
    if (!layout.is_out(p)) {
      detail::put_arg(rc.args[p], index, false, ctx);
      continue;
    }
    rc.first_exit_arg = std::min(rc.first_exit_arg, p);
    // A value the kernel reads and rewrites: its entry value, kept if the call fails.
    if (detail::is_in_out(ctx, index)) detail::put_int_at(rc.args[p], ctx.mem, ctx.call.args[index]);
  }
}

// "[110]" at entry and "[2]" at exit become "[110 => 2]".
void merge_in_out(std::string& entry_value, std::string&& exit_value) {
  if (entry_value.empty() || entry_value == exit_value || entry_value.back() != ']' ||
      exit_value.size() < 2 || exit_value.front() != '[') {
    entry_value = std::move(exit_value);
    return;
  }
  entry_value.pop_back();
  entry_value += " => ";
  entry_value.append(exit_value, 1);
}

void render_exit_args(RenderedCall& rc, const Ctx& ctx) {
  Layout layout = detail::layout_of(ctx);
  for (size_t p = 0; p < layout.count && p < rc.args.size(); ++p) {
    if (!layout.is_out(p)) continue;
    int index = layout.index[p];
    bool in_out = detail::is_in_out(ctx, index);
    if (in_out && ctx.failed && !rc.args[p].empty()) continue;
    std::string value;
    detail::put_arg(value, index, true, ctx);
    if (in_out) {
      merge_in_out(rc.args[p], std::move(value));
    } else {
      rc.args[p] = std::move(value);
    }
  }
}

void render_result(RenderedCall& rc, RetKind ret, const Ctx* ctx, long result) {
  rc.raw_result = result;
  rc.result.clear();
  rc.is_error = false;
  rc.error_name.clear();
  if (ret == RetKind::kNoReturn) {
    rc.result = "?";
    return;
  }
  if (result < 0 && result >= -detail::kMaxErrno) {
    int err = static_cast<int>(-result);
    rc.is_error = true;
    rc.error_name = errno_name(err);
    rc.result = detail::is_restart_code(err) ? "? " : "-1 ";
    rc.result += rc.error_name;
    rc.result += " (";
    detail::put_errno_text(rc.result, err);
    rc.result += ')';
    return;
  }
  if (ctx != nullptr && detail::put_special_result(rc.result, *ctx)) return;
  if (ret == RetKind::kHex) {
    detail::put_hex(rc.result, static_cast<uint64_t>(result));
  } else {
    detail::put_dec(rc.result, result);
  }
}

void append_args(std::string& out, const RenderedCall& rc, size_t from, size_t to) {
  for (size_t i = from; i < to; ++i) {
    if (i > from) out += ", ";
    out += rc.args[i];
  }
}

}  // namespace

RenderedCall render_entry(const Call& call, MemoryReader& mem, const FormatOptions& opts) {
  RenderedCall rc;
  const SyscallInfo* info = info_for(call);
  if (info == nullptr) {
    rc.name = raw_name(call);
    render_raw(rc, call);
    return rc;
  }
  rc.name = info->name;
  if (!info->decoded) {
    render_raw(rc, call);
    return rc;
  }
  render_entry_args(rc, make_ctx(call, *info, mem, opts));
  return rc;
}

void render_exit(RenderedCall& rc, const Call& call, long result, MemoryReader& mem,
                 const FormatOptions& opts) {
  const SyscallInfo* info = info_for(call);
  if (info == nullptr || !info->decoded) {
    if (rc.name.empty()) rc = render_entry(call, mem, opts);
    render_result(rc, info != nullptr ? info->ret : RetKind::kInt, nullptr, result);
    return;
  }
  Ctx ctx = make_ctx(call, *info, mem, opts);
  ctx.result = result;
  ctx.exiting = true;
  ctx.failed = result < 0 && result >= -detail::kMaxErrno;
  // Entry was not seen (attached mid-call): render it now, from what is left.
  if (rc.name.empty() || rc.args.size() != detail::layout_of(ctx).count) {
    rc = render_entry(call, mem, opts);
  }
  render_exit_args(rc, ctx);
  render_result(rc, info->ret, &ctx, result);
}

void append_entry_text(std::string& out, const RenderedCall& rc) {
  out += rc.name;
  out += '(';
  size_t first_exit = std::min(rc.first_exit_arg, rc.args.size());
  append_args(out, rc, 0, first_exit);
  if (first_exit > 0 && first_exit < rc.args.size()) out += ", ";
}

void append_exit_text(std::string& out, const RenderedCall& rc) {
  size_t first_exit = std::min(rc.first_exit_arg, rc.args.size());
  append_args(out, rc, first_exit, rc.args.size());
  out += ") = ";
  out += rc.result;
}

std::string entry_text(const RenderedCall& rc) {
  std::string out;
  out.reserve(rc.name.size() + 64);
  append_entry_text(out, rc);
  return out;
}

std::string exit_text(const RenderedCall& rc) {
  std::string out;
  append_exit_text(out, rc);
  return out;
}

std::string line_text(const RenderedCall& rc) {
  std::string out = entry_text(rc);
  out += exit_text(rc);
  return out;
}

}  // namespace hytrace::syscalls
