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
    if isinstance(v, datetime.timedelta): return interval_text(v)
    return str(v)

def interval_text(v):
    """An INTERVAL (which Python hands over as a timedelta of its total length) as DuckDB prints `ts - ts`: whole days,
    then the rest as a time, each toward zero. DuckDB prints an interval built otherwise by its own fields
    (`INTERVAL 25 HOUR` as 25:00:00); Seam keeps one length, and prints it this way."""
    total = (v.days * 86400 + v.seconds) * 1_000_000 + v.microseconds
    day = 86_400_000_000
    days = abs(total) // day * (1 if total >= 0 else -1)
    rest = total - days * day
    parts = []
    if days: parts.append(f"{days} day" + ("" if abs(days) == 1 else "s"))
    if rest or not days:
        m = abs(rest)
        s, frac = divmod(m, 1_000_000)
        t = ("-" if rest < 0 else "") + f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"
        if frac: t += "." + f"{frac:06d}".rstrip("0")
        parts.append(t)
    return " ".join(parts)
