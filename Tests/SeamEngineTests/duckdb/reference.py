"""DuckDB as the reference engine for Seam's tests: loading fixture CSVs with their declared types, and printing
values the way Seam's golden files spell them."""
import datetime, decimal, pathlib, re
import duckdb

def connect(fixture_dirs):
    """An in-memory DuckDB with every `*.csv` of `fixture_dirs` as a table (header `name:TYPE`, `\\N` = NULL)."""
    con = duckdb.connect()
    con.execute("SET threads = 1")
    con.execute("SET TimeZone = 'UTC'")
    for d in fixture_dirs:
        for f in sorted(pathlib.Path(d).glob("*.csv")):
            with open(f) as fh:
                header = fh.readline()
                has_rows = fh.readline() != ""
            cols = dict(re.findall(r"(\w+):([A-Z]+(?:\(\d+,\d+\))?)", header))
            if not has_rows:
                con.execute(f"CREATE TABLE {f.stem} (" + ", ".join(f"{k} {v}" for k, v in cols.items()) + ")")
                continue
            types = ", ".join(f"'{k}': '{v}'" for k, v in cols.items())
            con.execute(f"CREATE TABLE {f.stem} AS SELECT * FROM read_csv('{f}', header = false, skip = 1, "
                        f"columns = {{{types}}}, nullstr = '\\N', auto_detect = false, quote = '\"', escape = '\"', delim = ',')")
    return con

def text(v):
    """A value as Seam's golden files spell it (DuckDB's own text for each type; NULL; "(empty)" for '')."""
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
