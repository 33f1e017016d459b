#!/usr/bin/env python3
"""Every option a command's --help lists is in its guide page and the man page."""
import re
import subprocess
import sys

hytrace, docs = sys.argv[1], sys.argv[2]
man = open(f"{docs}/hytrace.1").read().replace("\\-", "-")
missing = []
for command in ("trace", "count", "record", "replay", "audit", "profile", "dump", "stats"):
    guide = open(f"{docs}/guide/{command}.md").read()
    helptext = subprocess.run([hytrace, command, "--help"], capture_output=True, text=True).stdout
    for line in helptext.splitlines():
        m = re.match(r"\s+(-\w)?,?(--[\w-]+)?", line)
        if not m or not (m.group(1) or m.group(2)) or m.group(2) == "--help":
            continue
        names = [n for n in m.groups() if n]
        for where, text in ((f"docs/guide/{command}.md", guide), ("docs/hytrace.1", man)):
            if not any(re.search(rf"(?<![\w-]){re.escape(n)}(?![\w-])", text) for n in names):
                missing.append(f"hytrace {command} {'/'.join(names)}: not in {where}")
for m in missing:
    print(m)
print(f"{len(missing)} undocumented option(s)")
sys.exit(1 if missing else 0)
