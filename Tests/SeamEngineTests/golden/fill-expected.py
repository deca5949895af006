#!/usr/bin/env python3
"""Fills the expected rows of every `query` record in the golden files by running it in DuckDB, the reference.

Usage: fill-expected.py [FILE.test ...]   (needs `pip install duckdb==2.0.1`)
Records whose results Seam deliberately differs on are marked `query … seam-differs: REASON` and keep the
expected rows written by hand. `statement error` records are never touched.
"""
import datetime, decimal, pathlib, re, sys
import duckdb

HERE = pathlib.Path(__file__).resolve().parent
FIXTURES = HERE.parent / "Fixtures"

def connect():
    con = duckdb.connect()
    con.execute("SET threads = 1")
    con.execute("SET TimeZone = 'UTC'")
    for f in sorted(FIXTURES.glob("*.csv")):
        cols = dict(re.findall(r"(\w+):([A-Z]+(?:\(\d+,\d+\))?)", f.read_text().splitlines()[0]))
        types = ", ".join(f"'{k}': '{v}'" for k, v in cols.items())
        if len(f.read_text().splitlines()) < 2:
            con.execute(f"CREATE TABLE {f.stem} (" + ", ".join(f"{k} {v}" for k, v in cols.items()) + ")")
            continue
        con.execute(f"CREATE TABLE {f.stem} AS SELECT * FROM read_csv('{f}', header = false, skip = 1, "
                    f"columns = {{{types}}}, nullstr = '\\N', auto_detect = false, quote = '\"', escape = '\"', delim = ',')")
    return con

def text(v):
    if v is None: return "NULL"
    if isinstance(v, bool): return "true" if v else "false"
    if isinstance(v, float):
        if v != v: return "nan"
        if v in (float("inf"), float("-inf")): return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, decimal.Decimal): return str(v)
    if isinstance(v, datetime.datetime):
        s = v.strftime("%Y-%m-%d %H:%M:%S")
        if v.microsecond: s += ("." + f"{v.microsecond:06d}").rstrip("0")
        return s
    if isinstance(v, str): return v if v != "" else "(empty)"
    return str(v)

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

con = connect()
for p in (sys.argv[1:] or sorted(HERE.glob("*.test"))):
    fill(pathlib.Path(p), con)
