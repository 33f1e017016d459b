#!/usr/bin/env python3
"""Generates the inputs of bench.py's whole-command workloads.

    gen_inputs.py tree DIR DIRS FILES [MAX]
        a deterministic tree: DIRS directories of FILES text files each,
        of 1 to MAX bytes (default 6000)
    gen_inputs.py cproject DIR UNITS
        a C project: UNITS .c files + main.c, a header and a Makefile
        (gcc -O0; build it with make -j2)

Everything generated is the same on every run and machine (fixed seed).
bench.py imports gen_tree and gen_cproject; the command line is for trying
a workload by hand.
"""
import os
import random
import sys

WORDS = ("trace seccomp filter ptrace stop tracee tracer syscall kernel "
         "signal thread fork exec wait read write open close mmap").split()


def text(rng, size):
    out = []
    n = 0
    while n < size:
        w = rng.choice(WORDS)
        out.append(w)
        n += len(w) + 1
    return " ".join(out)[:size] + "\n"


def gen_tree(root, dirs, files, max_size=6000):
    rng = random.Random(1234)
    for d in range(dirs):
        sub = os.path.join(root, f"d{d // 10:02}", f"d{d:03}")
        os.makedirs(sub, exist_ok=True)
        for f in range(files):
            with open(os.path.join(sub, f"f{f:03}.txt"), "w") as out:
                out.write(text(rng, rng.randint(1, max_size)))


def gen_cproject(root, files):
    """FILES translation units, each with a few functions; main.c calls one of each."""
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, "project.h"), "w") as h:
        h.write("#pragma once\n#include <stddef.h>\n")
        for i in range(files):
            h.write(f"long unit{i}_entry(const char* s, size_t n);\n")
    for i in range(files):
        with open(os.path.join(root, f"unit{i}.c"), "w") as c:
            c.write('#include <stdio.h>\n#include <stdlib.h>\n#include <string.h>\n#include "project.h"\n\n')
            c.write("struct item { long key; char name[32]; struct item* next; };\n\n")
            for k in range(6):
                c.write(
                    f"static long unit{i}_f{k}(const char* s, size_t n) {{\n"
                    f"  struct item* head = NULL;\n"
                    f"  long acc = {i * 31 + k};\n"
                    f"  for (size_t j = 0; j < n; ++j) {{\n"
                    f"    struct item* it = malloc(sizeof *it);\n"
                    f"    if (!it) return -1;\n"
                    f"    it->key = acc ^ (long)s[j];\n"
                    f"    snprintf(it->name, sizeof it->name, \"%s-%zu\", \"u{i}f{k}\", j);\n"
                    f"    it->next = head;\n"
                    f"    head = it;\n"
                    f"    acc = acc * 1103515245 + (long)strlen(it->name);\n"
                    f"  }}\n"
                    f"  while (head) {{ struct item* nx = head->next; acc += head->key; free(head); head = nx; }}\n"
                    f"  return acc;\n"
                    f"}}\n\n")
            c.write(f"long unit{i}_entry(const char* s, size_t n) {{\n  long r = 0;\n")
            for k in range(6):
                c.write(f"  r += unit{i}_f{k}(s, n);\n")
            c.write("  return r;\n}\n")
    with open(os.path.join(root, "main.c"), "w") as c:
        c.write('#include <stdio.h>\n#include <string.h>\n#include "project.h"\n\nint main(int argc, char** argv) {\n')
        c.write('  const char* s = argc > 1 ? argv[1] : "hytrace";\n  long r = 0;\n')
        for i in range(files):
            c.write(f"  r += unit{i}_entry(s, strlen(s));\n")
        c.write('  printf("%ld\\n", r);\n  return 0;\n}\n')
    objs = " ".join(f"unit{i}.o" for i in range(files))
    with open(os.path.join(root, "Makefile"), "w") as m:
        m.write("CC = gcc\nCFLAGS = -O0 -g0 -Wall\n\n"
                f"OBJS = main.o {objs}\n\n"
                "prog: $(OBJS)\n\t$(CC) -o $@ $(OBJS)\n\n"
                "%.o: %.c project.h\n\t$(CC) $(CFLAGS) -c -o $@ $<\n\n"
                "clean:\n\trm -f prog $(OBJS)\n\n.PHONY: clean\n")


def main(argv):
    if len(argv) >= 5 and argv[1] == "tree":
        gen_tree(argv[2], int(argv[3]), int(argv[4]), int(argv[5]) if len(argv) > 5 else 6000)
    elif len(argv) >= 4 and argv[1] == "cproject":
        gen_cproject(argv[2], int(argv[3]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
