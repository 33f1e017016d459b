#!/usr/bin/env python3
"""Generate the syscall catalogue of hytrace.

Reads numbers.tbl (the checked-in syscall numbers of x86-64, x32 and i386:
every x86-64 number becomes an entry) and syscalls.tbl (argument kinds and
classes of the syscalls we decode), and writes one C++ source file. Run by
CMake at build time. The build host's <asm/unistd_64.h> only cross-checks:
each number it defines must agree (a static_assert per name it has).

Errors (a row for a syscall numbers.tbl does not name, an unknown kind or
class, a duplicate row) stop the build with a message naming the row.
"""

import argparse
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_effects  # noqa: E402

# syscalls.tbl argument names -> (public ArgKind, Ext). Ext "kNone" means the
# public kind alone decodes the argument.
BASE_KINDS = {
    "int": "kInt", "uint": "kUInt", "hex": "kHex", "ptr": "kPtr",
    "fd": "kFd", "dirfd": "kDirFd", "path": "kPath", "str": "kString",
    "bufin": "kBufIn", "bufout": "kBufOut", "argv": "kStrArray",
    "openflags": "kOpenFlags", "mode": "kMode", "atflags": "kAtFlags",
    "prot": "kProtFlags", "mapflags": "kMmapFlags", "signal": "kSignal",
    "sighow": "kSigHow", "sigset": "kSigSet", "cloneflags": "kCloneFlags",
    "waitopts": "kWaitOptions", "accessmode": "kAccessMode",
    "fcntlcmd": "kFcntlCmd", "family": "kSockFamily", "socktype": "kSockType",
    "sockaddr": "kSockAddr", "whence": "kWhence", "timespec": "kTimespec",
    "stat": "kStatOut", "futexop": "kFutexOp", "prctlop": "kPrctlOp",
    "ioctlcmd": "kIoctlCmd", "archop": "kArchPrctlOp", "clockid": "kClockId",
    "madvise": "kMadvise", "resource": "kRlimitRes", "pid": "kPid",
}

EXT_KINDS = {
    # name: (fallback public kind, Ext enumerator)
    "envp": ("kStrArray", "kEnvp"),
    "sigaction": ("kPtr", "kSigaction"),
    "rlimit": ("kPtr", "kRlimit"),
    "fdpair": ("kPtr", "kFdPair"),
    "waitstatus": ("kPtr", "kWaitStatus"),
    "utsname": ("kPtr", "kUtsname"),
    "dirents": ("kPtr", "kDirents"),
    "timeval": ("kPtr", "kTimeval"),
    "cstr": ("kPtr", "kCString"),
    "hexbuf": ("kBufOut", "kHexBuf"),
    "iovec": ("kPtr", "kIovec"),
    "pollfds": ("kPtr", "kPollFds"),
    "epollevent": ("kPtr", "kEpollEvent"),
    "epollevents": ("kPtr", "kEpollEvents"),
    "cpuset": ("kPtr", "kCpuSet"),
    "sockaddrout": ("kPtr", "kSockAddrOut"),
    "intptr": ("kPtr", "kIntPtr"),
    "statx": ("kPtr", "kStatx"),
    "openhow": ("kPtr", "kOpenHow"),
    "gidlist": ("kPtr", "kGidList"),
    "sysinfo": ("kPtr", "kSysinfo"),
    "cloneargs": ("kPtr", "kCloneArgs"),
    "off": ("kInt", "kOff"),
    "uid": ("kUInt", "kUid"),
    "sockproto": ("kInt", "kSockProto"),
    "socklevel": ("kInt", "kSockLevel"),
    "sockopt": ("kInt", "kSockOpt"),
    "sockoptval": ("kPtr", "kSockOptVal"),
    "oflags": ("kHex", "kOFlags"),
    "faccessflags": ("kHex", "kFaccessFlags"),
    "msgflags": ("kHex", "kMsgFlags"),
    "sockflags": ("kHex", "kSockFlags"),
    "efdflags": ("kHex", "kEfdFlags"),
    "epollflags": ("kHex", "kEpollFlags"),
    "tfdflags": ("kHex", "kTfdFlags"),
    "sfdflags": ("kHex", "kSfdFlags"),
    "inflags": ("kHex", "kInFlags"),
    "inmask": ("kHex", "kInMask"),
    "mfdflags": ("kHex", "kMfdFlags"),
    "grndflags": ("kHex", "kGrndFlags"),
    "timerflags": ("kHex", "kTimerFlags"),
    "renameflags": ("kHex", "kRenameFlags"),
    "mremapflags": ("kHex", "kMremapFlags"),
    "msyncflags": ("kHex", "kMsyncFlags"),
    "mlockallflags": ("kHex", "kMlockallFlags"),
    "nsflags": ("kHex", "kNsFlags"),
    "umountflags": ("kHex", "kUmountFlags"),
    "statxflags": ("kHex", "kStatxFlags"),
    "statxmask": ("kHex", "kStatxMask"),
    "closerangeflags": ("kHex", "kCloseRangeFlags"),
    "rwfflags": ("kHex", "kRwfFlags"),
    "xattrflags": ("kHex", "kXattrFlags"),
    "epollop": ("kInt", "kEpollOp"),
    "shuthow": ("kInt", "kShutHow"),
    "lockop": ("kHex", "kLockOp"),
    "fadvice": ("kInt", "kFadvice"),
    "priowhich": ("kInt", "kPrioWhich"),
    "schedpolicy": ("kInt", "kSchedPolicy"),
    "idtype": ("kInt", "kIdType"),
    "itimerwhich": ("kInt", "kItimerWhich"),
    "rusagewho": ("kInt", "kRusageWho"),
    "ptracereq": ("kInt", "kPtraceReq"),
    "seccompop": ("kInt", "kSeccompOp"),
    "bpfcmd": ("kInt", "kBpfCmd"),
}

# Kinds the kernel always writes: shown at exit without a ">" mark.
ALWAYS_OUT = {"bufout", "stat", "hexbuf"}

RET_KINDS = {"int": "kInt", "fd": "kFd", "hex": "kHex", "noreturn": "kNoReturn"}

CLASSES = {
    "file": "kFile", "desc": "kDesc", "network": "kNetwork",
    "process": "kProcess", "signal": "kSignal", "memory": "kMemory",
    "ipc": "kIpc", "creds": "kCreds", "clock": "kClock", "stat": "kStat",
}

ABIS = ("x86_64", "x32", "i386")


class TableError(Exception):
    pass


def read_numbers(path):
    """numbers.tbl -> {abi: {name: nr}}."""
    numbers = {abi: {} for abi in ABIS}
    for where, fields in gen_effects.rows(path):
        if len(fields) != 1 + len(ABIS):
            raise TableError(f"{where}: expected 'name x86_64 x32 i386'")
        name = fields[0]
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            raise TableError(f"{where}: bad syscall name '{name}'")
        for abi, text in zip(ABIS, fields[1:]):
            if text == "-":
                continue
            if not text.isdigit():
                raise TableError(f"{where}: bad number '{text}'")
            if name in numbers[abi]:
                raise TableError(f"{where}: duplicate name '{name}'")
            if int(text) in numbers[abi].values():
                raise TableError(f"{where}: {abi} number {text} given twice")
            numbers[abi][name] = int(text)
    if not numbers["x86_64"]:
        raise TableError(f"{path}: no syscalls")
    return numbers


def parse_arg(token, where):
    out = token.startswith(">")
    name = token[1:] if out else token
    if name in BASE_KINDS:
        kind, ext = BASE_KINDS[name], "kNone"
    elif name in EXT_KINDS:
        kind, ext = EXT_KINDS[name]
    else:
        raise TableError(f"{where}: unknown argument kind '{name}'")
    return kind, ext, out or name in ALWAYS_OUT


def parse_row(line, where):
    tokens = line.split()
    if "->" not in tokens:
        raise TableError(f"{where}: missing '-> RET'")
    arrow = tokens.index("->")
    if arrow < 2 or len(tokens) != arrow + 2:
        raise TableError(f"{where}: expected 'name classes [args...] -> ret'")
    name, classes_text = tokens[0], tokens[1]
    args = [parse_arg(t, where) for t in tokens[2:arrow]]
    if len(args) > 6:
        raise TableError(f"{where}: more than 6 arguments")
    ret = tokens[arrow + 1]
    if ret not in RET_KINDS:
        raise TableError(f"{where}: unknown return kind '{ret}'")
    classes = []
    if classes_text != "-":
        for c in classes_text.split(","):
            if c not in CLASSES:
                raise TableError(f"{where}: unknown class '{c}'")
            classes.append(CLASSES[c])
    return name, {"args": args, "ret": RET_KINDS[ret], "classes": classes}


def read_table(path, numbers):
    rows = {}
    for where, tokens in gen_effects.rows(path):
        name, row = parse_row(" ".join(tokens), where)
        if name not in numbers:
            raise TableError(f"{where}: '{name}' is not an x86-64 syscall of numbers.tbl")
        if name in rows:
            raise TableError(f"{where}: duplicate row for '{name}'")
        rows[name] = row
    return rows


def entry_code(nr, name, row):
    if row is None:
        kinds = ["ArgKind::kHex"] * 6
        return (f'    {{{nr}, "{name}", 6, {{{", ".join(kinds)}}}, '
                f"RetKind::kInt, 0, false}},")
    kinds = [f"ArgKind::{k}" for k, _, _ in row["args"]]
    kinds += ["ArgKind::kUnused"] * (6 - len(kinds))
    classes = " | ".join(row["classes"]) or "0"
    return (f'    {{{nr}, "{name}", {len(row["args"])}, {{{", ".join(kinds)}}}, '
            f'RetKind::{row["ret"]}, {classes}, true}},')


def detail_code(row):
    exts = ["Ext::kNone"] * 6
    mask = 0
    if row is not None:
        for i, (_, ext, out) in enumerate(row["args"]):
            exts[i] = f"Ext::{ext}"
            if out:
                mask |= 1 << i
    return f'    {{{{{", ".join(exts)}}}, {mask:#04x}}},'


def c_string(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def generate(numbers_path, table_path, numbers, rows, effects):
    by_number = sorted(numbers["x86_64"].items(), key=lambda kv: kv[1])
    order = sorted(range(len(by_number)), key=lambda i: by_number[i][0])
    out = [
        f"// Generated by gen_catalogue.py from {numbers_path} and syscalls.tbl.",
        "// Do not edit; edit syscalls/numbers.tbl or syscalls/syscalls.tbl instead.",
        "#include <asm/unistd_64.h>",
        *gen_effects.includes(),
        "",
        '#include "syscalls/detail.hpp"',
        '#include "syscalls/effects_rules.hpp"',
        "",
        "namespace hytrace::syscalls::detail {",
        "namespace {",
        "",
        "// The build host's header, where it names a syscall, agrees.",
    ]
    for name, nr in by_number:
        out += [f"#ifdef __NR_{name}", f"static_assert(__NR_{name} == {nr});", "#endif"]
    out += ["", "constexpr SyscallInfo kTable[] = {"]
    out += [entry_code(nr, name, rows.get(name)) for name, nr in by_number]
    out += ["};", "", "constexpr ArgDetail kDetails[] = {"]
    out += [detail_code(rows.get(name)) for name, _ in by_number]
    out += ["};", "", "constexpr uint16_t kNameOrder[] = {"]
    out += [f"    {i}," for i in order]
    slots = [-1] * (by_number[-1][1] + 1)
    for i, (_, nr) in enumerate(by_number):
        slots[nr] = i
    out += ["};", "", "// Index into kTable by syscall number; -1 where the number is free."]
    out += ["constexpr int16_t kSlotByNr[] = {"]
    out += ["    " + ", ".join(str(s) for s in slots[i:i + 16]) + ","
            for i in range(0, len(slots), 16)]
    out += ["};", ""]
    for abi in ("x32", "i386"):
        out += names_by_number(abi, numbers[abi])
    out += gen_effects.generate(by_number, effects)
    out += [
        "}  // namespace",
        "",
        "std::span<const SyscallInfo> generated_table() { return kTable; }",
        "std::span<const ArgDetail> generated_details() { return kDetails; }",
        "std::span<const uint16_t> generated_name_order() { return kNameOrder; }",
        "std::span<const int16_t> generated_slot_by_nr() { return kSlotByNr; }",
        "std::span<const EffectsRow> generated_effects() { return kEffects; }",
        "std::span<const NamedSize> named_sizes() { return kNamedSizes; }",
        "std::span<const std::string_view> generated_x32_names() { return kX32Names; }",
        "std::span<const std::string_view> generated_i386_names() { return kI386Names; }",
        f"std::string_view generated_numbers_path() {{ return {c_string(numbers_path)}; }}",
        f"std::string_view generated_table_path() {{ return {c_string(table_path)}; }}",
        "",
        "}  // namespace hytrace::syscalls::detail",
        "",
    ]
    return "\n".join(out)


def names_by_number(abi, numbers):
    names = [""] * (max(numbers.values()) + 1)
    for name, nr in numbers.items():
        names[nr] = name
    const = {"x32": "kX32Names", "i386": "kI386Names"}[abi]
    out = [f"// {abi} names by number; empty where the number is free.",
           f"constexpr std::string_view {const}[] = {{"]
    out += [f'    "{name}",' for name in names]
    return out + ["};", ""]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--numbers", required=True, help="path of numbers.tbl")
    parser.add_argument("--table", required=True, help="path of syscalls.tbl")
    parser.add_argument("--effects", required=True, help="path of effects.tbl")
    parser.add_argument("--out", required=True, help="C++ file to write")
    opts = parser.parse_args()
    try:
        numbers = read_numbers(opts.numbers)
        rows = read_table(opts.table, numbers["x86_64"])
        effects = gen_effects.read_effects(opts.effects, numbers["x86_64"])
    except (TableError, gen_effects.EffectsError, OSError) as e:
        print(f"gen_catalogue.py: error: {e}", file=sys.stderr)
        return 1
    with open(opts.out, "w", encoding="utf-8") as f:
        f.write(generate(opts.numbers, opts.table, numbers, rows, effects))
    return 0


if __name__ == "__main__":
    sys.exit(main())
