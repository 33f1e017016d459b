#!/usr/bin/env python3
"""Checks that a table written by `bench/bench.py --json FILE` is complete.

    bench/check_table.py FILE

Complete: every workload bench.py set out to run has its row; every row has
a cell for every column that was not skipped with a reason; every cell holds
positive, finite numbers (ratio and median; spread finite and >= 0). It never
looks at how large the figures are. Exits 0 when complete, 1 with one line
per problem otherwise, 2 when FILE cannot be read.
"""
import json
import math
import sys


def number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def problems(table):
    out = []
    columns = [c.get("name") for c in table.get("columns", []) if isinstance(c, dict)]
    if not columns:
        return ["no columns"]
    skipped = table.get("skipped", {})
    if not isinstance(skipped, dict):
        return ["'skipped' is not an object"]
    for name, reason in skipped.items():
        if name not in columns:
            out.append(f"skipped column {name!r} is not a column")
        if not isinstance(reason, str) or not reason.strip():
            out.append(f"column {name!r} skipped without a reason")
    if "native" in skipped:
        out.append("the native column was skipped: nothing to compare with")
    wanted = [c for c in columns if c not in skipped]

    rows = table.get("rows", [])
    if not rows:
        out.append("no rows")
    keys = [r.get("key") for r in rows]
    for key in table.get("expected_rows", []):
        if key not in keys:
            out.append(f"row {key!r} is missing")
    for row in rows:
        label = row.get("key", "?")
        cells = row.get("cells", {})
        for col in wanted:
            cell = cells.get(col)
            if cell is None:
                out.append(f"{label} / {col}: no cell")
            elif "error" in cell:
                out.append(f"{label} / {col}: failed: {cell['error']}")
            else:
                for field in ("ratio", "median"):
                    if not (number(cell.get(field)) and cell[field] > 0):
                        out.append(f"{label} / {col}: {field} is {cell.get(field)!r}, not a positive number")
                if not (number(cell.get("spread")) and cell["spread"] >= 0):
                    out.append(f"{label} / {col}: spread is {cell.get('spread')!r}, not a number >= 0")
    return out


def main(argv):
    if len(argv) != 2:
        sys.exit(__doc__)
    try:
        with open(argv[1]) as f:
            table = json.load(f)
    except (OSError, ValueError) as e:
        print(f"check_table: cannot read {argv[1]}: {e}", file=sys.stderr)
        return 2
    found = problems(table) if isinstance(table, dict) else ["not a JSON object"]
    for p in found:
        print(f"check_table: {p}", file=sys.stderr)
    if found:
        print(f"check_table: {argv[1]}: INCOMPLETE ({len(found)} problem(s))", file=sys.stderr)
        return 1
    skipped = table.get("skipped", {})
    ncols = len(table["columns"]) - len(skipped)
    print(f"check_table: {argv[1]}: complete, {len(table['rows'])} rows x {ncols} columns"
          + "".join(f"; skipped {n!r}: {r}" for n, r in skipped.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
