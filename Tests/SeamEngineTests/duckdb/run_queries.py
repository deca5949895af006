#!/usr/bin/env python3
"""Runs each query of QUERIES (one per line block, separated by a line `;;`) in DuckDB over the CSVs in DIRs and
prints one JSON line per query: {"rows": [[cell, ...], ...]} or {"error": "..."}. Used by the differential tests."""
import json, sys
from reference import connect, text

queries_file, *dirs = sys.argv[1:]
con = connect(dirs)
con.execute("SET threads = 2")
for q in open(queries_file).read().split("\n;;\n"):
    q = q.strip()
    if not q:
        continue
    try:
        rows = [[text(v) for v in r] for r in con.execute(q).fetchall()]
        print(json.dumps({"rows": rows}))
    except Exception as e:
        print(json.dumps({"error": str(e).splitlines()[0]}))
