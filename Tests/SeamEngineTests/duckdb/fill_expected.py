#!/usr/bin/env python3
"""Fills the expected rows of every `query` record in the golden files by running it in DuckDB, the reference.

Usage: fill_expected.py [FILE.test ...]   (needs `pip install duckdb==2.0.1`)
Records whose results Seam deliberately differs on are marked `query … seam-differs: REASON` and keep the
expected rows written by hand. `statement error` records are never touched.
"""
import pathlib, sys
from reference import connect, text

HERE = pathlib.Path(__file__).resolve().parent.parent / "golden"
FIXTURES = HERE.parent / "Fixtures"

def records(lines):
    i = 0
    while i < len(lines):
        if lines[i].startswith("query"):
            start = i
            while i < len(lines) and lines[i].strip() != "----": i += 1
            sep = i
            i += 1
            while i < len(lines) and lines[i].strip() != "": i += 1
            yield start, sep, i
        else:
            i += 1

def fill(path, con):
    lines = path.read_text().split("\n")
    out = []
    last = 0
    for start, sep, end in records(lines):
        out += lines[last:sep + 1]
        head = lines[start]
        sql = "\n".join(lines[start + 1:sep])
        if "seam-differs" in head:
            out += lines[sep + 1:end]
        else:
            try:
                rows = con.execute(sql).fetchall()
                out += ["\t".join(text(v) for v in r) for r in rows]
            except Exception as e:
                print(f"{path.name}:{start + 1}: DuckDB error: {e}", file=sys.stderr)
                out += ["# DuckDB error: " + str(e).splitlines()[0]]
        last = end
    out += lines[last:]
    path.write_text("\n".join(out))

con = connect([FIXTURES])
for p in (sys.argv[1:] or sorted(HERE.glob("*.test"))):
    fill(pathlib.Path(p), con)
