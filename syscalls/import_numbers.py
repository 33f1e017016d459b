#!/usr/bin/env python3
"""Write syscalls/numbers.tbl from a Linux source tree's syscall tables.

    syscalls/import_numbers.py LINUX_SRC VERSION > syscalls/numbers.tbl

reads LINUX_SRC/arch/x86/entry/syscalls/syscall_64.tbl (rows of ABI common,
64 and x32) and syscall_32.tbl (ABI i386). Not run by the build: numbers.tbl
is checked in, so the build host's headers never decide what hytrace can
name. Run it when a new kernel adds syscalls, and commit the result.
"""

import sys


def read_table(path, abis):
    rows = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            fields = line.split("#", 1)[0].split()
            if len(fields) >= 3 and fields[1] in abis:
                rows.append((int(fields[0]), fields[1], fields[2]))
    return rows


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, version = sys.argv[1], sys.argv[2]
    base = f"{src}/arch/x86/entry/syscalls"
    numbers = {}  # name -> {abi: nr}
    for nr, abi, name in read_table(f"{base}/syscall_64.tbl", {"common", "64", "x32"}):
        entry = numbers.setdefault(name, {})
        if abi in ("common", "64"):
            entry["x86_64"] = nr
        if abi in ("common", "x32"):
            entry["x32"] = nr
    for nr, _, name in read_table(f"{base}/syscall_32.tbl", {"i386"}):
        numbers.setdefault(name, {})["i386"] = nr
    write(numbers, version)


def write(numbers, version):
    print(HEADER.format(version=version), end="")
    def order(item):
        nrs = item[1]
        return (nrs.get("x86_64", 10**6), nrs.get("x32", 10**6), nrs.get("i386", 10**6), item[0])
    for name, nrs in sorted(numbers.items(), key=order):
        cols = [str(nrs[a]) if a in nrs else "-" for a in ("x86_64", "x32", "i386")]
        print(f"{name:<30}{cols[0]:>7}{cols[1]:>7}{cols[2]:>7}")


HEADER = """\
# Syscall numbers of Linux {version} for the three x86 ABIs, from the kernel's
# arch/x86/entry/syscalls/syscall_64.tbl and syscall_32.tbl. Checked in, so
# what hytrace can name never depends on the build host's headers. Written
# by syscalls/import_numbers.py; a test fails when the running kernel
# implements a number that is not here.
#
# name, then the number in each ABI ("-": not a syscall of that ABI). The
# x32 number is without __X32_SYSCALL_BIT (0x40000000), which the program
# sets in rax.
#
# name                        x86_64    x32   i386
"""

if __name__ == "__main__":
    main()
