import Foundation
import SeamColumnar
import SeamEngine
import SeamSQL
import SeamStorage
import SeamTestSupport
import Testing

/// The same generated rows in Seam and in DuckDB 2.0.1 (pip-installed into .build/duckdb-venv on first use),
/// the same queries on both: results must match (as multisets of rows; DOUBLEs to 1e-9 relative).
@Suite struct DifferentialTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let scripts = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("duckdb").path

    /// A Python with duckdb, set up once; `nil` (with the reason) when it cannot be had here.
    static let python: Result<String, SQLError> = {
        if let p = ProcessInfo.processInfo.environment["SEAM_DUCKDB_PYTHON"] { return .success(p) }
        let venv = repo + "/.build/duckdb-venv"
        let py = venv + "/bin/python"
        if run(py, ["-c", "import duckdb; assert duckdb.__version__ == '2.0.1'"]).status == 0 { return .success(py) }
        let made = run("/usr/bin/env", ["python3", "-m", "venv", venv])
        guard made.status == 0 else { return .failure(SQLError(.runtime, "python3 -m venv failed: \(made.output)")) }
        let pip = run(venv + "/bin/pip", ["install", "-q", "duckdb==2.0.1"])
        guard pip.status == 0 else { return .failure(SQLError(.runtime, "pip install duckdb==2.0.1 failed: \(pip.output.suffix(300))")) }
        return .success(py)
    }()

    static func run(_ exe: String, _ args: [String]) -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: exe)
        p.arguments = args
        let out = Pipe()
        p.standardOutput = out
        p.standardError = out
        do { try p.run() } catch { return (-1, "\(error)") }
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return (p.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    /// Deterministic events (`ev`) and customers (`cu`) with NULLs, skew and ties, as fixture CSVs.
    static func writeData(_ dir: String, events: Int) throws {
        var rng = FixtureRandom(seed: 2024)
        let channels = ["web", "mobile_app", "email", "store_pos", "call_center", "crm"]
        let types = ["page_view", "product_view", "add_to_cart", "purchase", "email_open", "return"]
        var ev = "id:BIGINT,cust:BIGINT,ch:VARCHAR,et:VARCHAR,cat:VARCHAR,product:VARCHAR,qty:INTEGER,amount:DECIMAL(18,2),ts:TIMESTAMP,props:VARCHAR\n"
        var ts = Timestamp.micros(year: 2024, month: 1, day: 1)
        for i in 0..<events {
            ts += Int64.random(in: 0..<(900_000_000), using: &rng)
            let cust = Int.random(in: 0..<50, using: &rng) == 0 ? "\\N" : String(Int.random(in: 1...1500, using: &rng) * Int.random(in: 1...2, using: &rng))
            let ch = Int.random(in: 0..<40, using: &rng) == 0 ? "\\N" : channels[min(Int.random(in: 0..<8, using: &rng), 5)]
            let et = types[Int.random(in: 0..<types.count, using: &rng)]
            let cat = "cat\(Int.random(in: 0..<12, using: &rng))"
            let product = "P\(Int.random(in: 0..<200, using: &rng))"
            let qty = Int.random(in: 1...4, using: &rng)
            let amount = et == "purchase" || et == "return" ? Decimal2.format(Int64.random(in: 100...50_000, using: &rng) * (et == "return" ? -1 : 1)) : "\\N"
            let props = "\"{\"\"sku\"\": \"\"\(product)\"\", \"\"n\"\": \(qty)}\""
            ev += "\(i),\(cust),\(ch),\(et),\(cat),\(product),\(qty),\(amount),\(Timestamp.format(ts)),\(props)\n"
        }
        try ev.write(toFile: dir + "/ev.csv", atomically: true, encoding: .utf8)
        var cu = "cust:BIGINT,email:VARCHAR,consent_email:BOOLEAN,tier:VARCHAR,signup:TIMESTAMP\n"
        for c in 1...3000 where c % 7 != 0 {
            let consent = c % 5 == 0 ? "\\N" : (c % 3 == 0 ? "false" : "true")
            let tier = ["gold", "silver", "bronze", "\\N"][c % 4]
            cu += "\(c),user\(c)@example.com,\(consent),\(tier),\(Timestamp.format(Timestamp.micros(year: 2023, month: 1 + c % 12, day: 1 + c % 28)))\n"
        }
        try cu.write(toFile: dir + "/cu.csv", atomically: true, encoding: .utf8)
    }

    /// The CDP query suite of the engine issue, plus shapes that stress NULLs, joins, windows and casts.
    static let queries = [
        "SELECT ch, count(*) FROM ev WHERE ts >= TIMESTAMP '2024-03-01' AND ts < TIMESTAMP '2024-03-01' + INTERVAL 30 DAY GROUP BY ch",
        "SELECT cat, sum(amount) AS revenue, count(*) FILTER (WHERE et = 'purchase') AS orders FROM ev WHERE et IN ('purchase', 'return') GROUP BY cat",
        """
        WITH rfm AS (SELECT cust, date_diff('day', max(ts), TIMESTAMP '2025-01-01') AS recency, count(*) AS frequency, sum(amount) AS monetary
                     FROM ev WHERE et = 'purchase' AND cust IS NOT NULL GROUP BY cust)
        SELECT cust, ntile(5) OVER (ORDER BY recency DESC, cust) AS r, ntile(5) OVER (ORDER BY frequency, cust) AS f,
               ntile(5) OVER (ORDER BY monetary, cust) AS m FROM rfm
        """,
        """
        SELECT cust FROM ev WHERE cust IS NOT NULL GROUP BY cust
        HAVING count(*) FILTER (WHERE et = 'purchase') >= 2 AND count(*) FILTER (WHERE ch = 'email') >= 1 AND max(ts) > TIMESTAMP '2024-06-01'
        """,
        "SELECT date_trunc('day', ts) AS day, ch, count(DISTINCT cust) FROM ev GROUP BY 1, 2",
        "SELECT product, sum(qty) AS units, sum(amount) FROM ev WHERE et = 'purchase' GROUP BY product ORDER BY units DESC, product LIMIT 10",
        """
        WITH steps AS (
          SELECT cust, et, ts, lead(et) OVER (PARTITION BY cust ORDER BY ts, id) AS next_et, lead(et, 2) OVER (PARTITION BY cust ORDER BY ts, id) AS next2
          FROM ev WHERE cust IS NOT NULL AND et IN ('product_view', 'add_to_cart', 'purchase'))
        SELECT count(*) FILTER (WHERE et = 'product_view') AS views,
               count(*) FILTER (WHERE et = 'product_view' AND next_et = 'add_to_cart') AS carts,
               count(*) FILTER (WHERE et = 'product_view' AND next_et = 'add_to_cart' AND next2 = 'purchase') AS purchases FROM steps
        """,
        """
        SELECT e.cust, count(*) AS purchases, max(cu.email) FROM ev e JOIN cu ON e.cust = cu.cust
        WHERE e.et = 'purchase' AND cu.consent_email GROUP BY e.cust HAVING count(*) >= 3
        """,
        "SELECT cu.tier, count(e.id), count(DISTINCT cu.cust) FROM cu LEFT JOIN ev e ON e.cust = cu.cust AND e.ch = 'web' GROUP BY cu.tier",
        "SELECT ch, et, avg(amount), min(amount), max(amount), sum(qty), avg(qty) FROM ev GROUP BY ch, et",
        "SELECT id, cust, amount, sum(amount) OVER (PARTITION BY cust ORDER BY ts, id) AS running, row_number() OVER (PARTITION BY cust ORDER BY ts DESC, id) AS rn FROM ev WHERE cust < 40",
        "SELECT cust, rank() OVER (ORDER BY count(*) DESC), dense_rank() OVER (ORDER BY count(*) DESC), count(*) FROM ev GROUP BY cust",
        """
        SELECT id, sum(amount) OVER (PARTITION BY cust ORDER BY ts, id ROWS BETWEEN 2 PRECEDING AND CURRENT ROW) AS last3,
               avg(amount) OVER (PARTITION BY cust ORDER BY ts, id ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) AS around,
               max(amount) OVER (PARTITION BY cust ORDER BY ts, id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS best,
               count(amount) OVER (PARTITION BY cust ORDER BY ts, id ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS rest
        FROM ev WHERE cust < 60
        """,
        """
        SELECT id, sum(amount) OVER (PARTITION BY cust ORDER BY ts RANGE BETWEEN INTERVAL 7 DAY PRECEDING AND CURRENT ROW) AS week,
               count(*) OVER (PARTITION BY cust ORDER BY ts DESC RANGE BETWEEN INTERVAL 36 HOUR PRECEDING AND INTERVAL 1 HOUR FOLLOWING) AS near,
               max(qty) OVER (PARTITION BY et ORDER BY amount RANGE BETWEEN 10.5 PRECEDING AND 3 FOLLOWING) AS similar,
               count(amount) OVER (PARTITION BY cust ORDER BY date_trunc('day', ts) GROUPS BETWEEN 2 PRECEDING AND CURRENT ROW) AS days3
        FROM ev WHERE cust < 60
        """,
        "SELECT a.cust, b.cust, b.n FROM (SELECT DISTINCT cust FROM ev WHERE cust < 50) a FULL JOIN (SELECT cust, count(*) AS n FROM ev WHERE cust BETWEEN 30 AND 80 GROUP BY cust) b ON a.cust = b.cust",
        "SELECT a.cust, b.cust FROM (SELECT DISTINCT cust FROM ev WHERE cust < 50) a RIGHT JOIN (SELECT DISTINCT cust FROM ev WHERE cust BETWEEN 30 AND 80) b ON a.cust = b.cust",
        "SELECT day, count(*) AS n, count(DISTINCT cust) AS custs, sum(amount) AS amount FROM (SELECT date_trunc('day', ts) AS day, et, cust, amount FROM ev) GROUP BY day, et ORDER BY ALL",
        "SELECT extract(month FROM ts) AS m, date_part('dow', ts) AS dow, count(*), count(amount) FROM ev GROUP BY 1, 2",
        "SELECT json_extract_string(props, '$.sku') AS sku, count(*) FROM ev WHERE json_extract_string(props, '$.n') = '3' GROUP BY 1",
        "SELECT lower(ch) || ':' || upper(et), length(product), substring(product, 2) FROM ev WHERE id % 997 = 0",
        "SELECT cust, count(*) FROM ev WHERE cust IN (SELECT cust FROM cu WHERE tier = 'gold') GROUP BY cust",
        "SELECT count(*), count(cust), count(DISTINCT cust), sum(amount), avg(amount), min(ts), max(ts) FROM ev WHERE ch IS NULL OR amount < 0",
        "SELECT CASE WHEN amount > 200 THEN 'high' WHEN amount > 50 THEN 'mid' WHEN amount IS NULL THEN 'none' ELSE 'low' END AS band, count(*) FROM ev GROUP BY 1",
        "SELECT et, lag(ts) OVER (PARTITION BY et ORDER BY ts, id) AS prev, ts FROM ev WHERE id < 3000",
        "SELECT DISTINCT ch, et FROM ev",
        "SELECT cust, date_diff('hour', min(ts), max(ts)), date_trunc('week', min(ts)) FROM ev WHERE cust BETWEEN 100 AND 200 GROUP BY cust",
        "SELECT count(*) FROM ev WHERE NOT (ch = 'web' OR et = 'purchase') AND product LIKE 'P1%'",
        "SELECT (SELECT count(*) FROM cu) AS customers, (SELECT max(amount) FROM ev) AS top",
        "SELECT cust, amount::DOUBLE / qty, amount * qty, qty * 2 + 1, cast(amount AS BIGINT) FROM ev WHERE amount IS NOT NULL AND id % 101 = 0",
        "SELECT ts::DATE AS day, ch, count(*), count(DISTINCT cust), min(ts::DATE + 7), max(DATE '2025-01-01' - ts::DATE) FROM ev GROUP BY 1, 2",
        "SELECT cust, max(ts)::DATE - min(ts)::DATE AS span, min(ts::DATE) FILTER (WHERE et = 'purchase') FROM ev WHERE ts >= DATE '2024-02-01' GROUP BY cust",
        "SELECT cu.cust, cu.tier FROM cu WHERE EXISTS (SELECT 1 FROM ev WHERE ev.cust = cu.cust AND ev.et = 'purchase') AND NOT EXISTS (SELECT 1 FROM ev WHERE ev.cust = cu.cust AND ev.et = 'return')",
        "SELECT cu.cust, (SELECT count(*) FROM ev WHERE ev.cust = cu.cust AND ev.ch = 'web') AS web, (SELECT sum(amount) FROM ev WHERE ev.cust = cu.cust) AS spend FROM cu WHERE (SELECT max(ts) FROM ev WHERE ev.cust = cu.cust) >= TIMESTAMP '2024-03-01'",
        // Correlated on conditions other than equality, per outer row (outer values with NULLs: tier, and amounts).
        "SELECT cu.cust, (SELECT count(*) FROM ev WHERE ev.cust = cu.cust AND ev.ts >= cu.signup + INTERVAL 400 DAY) AS late, (SELECT min(ev.ts) FROM ev WHERE ev.cust = cu.cust AND ev.ts > cu.signup AND ev.et = 'purchase') AS first_buy FROM cu",
        "SELECT cu.cust FROM cu WHERE EXISTS (SELECT 1 FROM ev WHERE ev.cust = cu.cust AND ev.cat > cu.tier AND ev.ts BETWEEN TIMESTAMP '2024-02-01' AND cu.signup + INTERVAL 13 MONTH)",
        "SELECT e.id, (SELECT count(*) FROM ev AS o WHERE o.cust = e.cust AND o.amount > e.amount) AS bigger FROM ev AS e WHERE e.et = 'purchase' AND e.id % 7 = 0",
        "SELECT e.id, e.qty IN (SELECT o.qty FROM ev AS o WHERE o.cust = e.cust AND o.id < e.id) AS seen_qty, e.amount NOT IN (SELECT o.amount FROM ev AS o WHERE o.cust = e.cust AND o.id <> e.id) AS unique_amount FROM ev AS e WHERE e.id % 11 = 0",
        "SELECT cu.cust, (SELECT ev.amount FROM ev WHERE ev.cust = cu.cust AND ev.et = 'purchase' ORDER BY ev.ts DESC, ev.id DESC LIMIT 1) AS last_amount, (SELECT ev.ch FROM ev WHERE ev.cust = cu.cust AND ev.ts > cu.signup ORDER BY ev.ts, ev.id LIMIT 1) AS first_channel_after_signup FROM cu",
        "SELECT cust, arg_max(ch, ts), arg_min(amount, ts), max_by(product, id), arg_min(ts, id) FILTER (WHERE et = 'purchase'), arg_max(qty, props) FROM ev GROUP BY cust",
        "SELECT cu.cust, cu.tier, (SELECT count(*) FROM ev WHERE ev.cust = cu.cust AND ev.cat > cu.tier) AS later_cats, (SELECT ev.amount FROM ev WHERE ev.cust = cu.cust ORDER BY ev.amount DESC NULLS FIRST, ev.id LIMIT 1) AS top_or_null, cu.tier IN (SELECT ev.ch FROM ev WHERE ev.cust = cu.cust) AS tier_is_channel FROM cu",
        "SELECT e.id, (SELECT max(o.ts) - e.ts FROM ev AS o WHERE o.cust = e.cust AND o.ts BETWEEN e.ts AND e.ts + INTERVAL 2 DAY AND o.id <> e.id) AS span_after FROM ev AS e WHERE e.id % 13 = 0",
        // INTERVAL values: spans, sessions split at gaps of 30 minutes, parts.
        "SELECT cust, max(ts) - min(ts) AS span, min(ts) - TIMESTAMP '2024-01-01' AS since_start FROM ev WHERE cust IS NOT NULL GROUP BY cust",
        "SELECT cust, count(*) FILTER (WHERE gap IS NULL OR gap > INTERVAL 30 MINUTE) AS sessions, max(gap) AS longest FROM (SELECT cust, ts - lag(ts) OVER (PARTITION BY cust ORDER BY ts, id) AS gap FROM ev) GROUP BY cust",
        "SELECT et, min(ts - TIMESTAMP '2024-01-01'), max(TIMESTAMP '2025-01-01' - ts), sum(epoch(ts - TIMESTAMP '2024-01-01')), max(date_part('hour', ts - TIMESTAMP '2024-01-01')) FROM ev GROUP BY et",
    ]

    @Test func sameAnswersAsDuckDB() throws {
        let python: String
        switch DifferentialTests.python {
        case .success(let p): python = p
        case .failure(let e):
            print("notice: DuckDB differential tests skipped: \(e.message)")
            return
        }
        let dir = VectorFixtures.temporaryDirectory("diff")
        try DifferentialTests.writeData(dir, events: 40_000)
        let queriesFile = dir + "/queries.sql"
        try DifferentialTests.queries.joined(separator: "\n;;\n").write(toFile: queriesFile, atomically: true, encoding: .utf8)
        let ref = DifferentialTests.run(python, [DifferentialTests.scripts + "/run_queries.py", queriesFile, dir])
        #expect(ref.status == 0, "\(ref.output)")
        let lines = ref.output.split(separator: "\n").map(String.init)
        #expect(lines.count == DifferentialTests.queries.count, "\(ref.output.prefix(500))")

        // The same CSVs into a Seam store, several blocks per table so scans run in parallel morsels.
        let store = try Store(path: dir + "/store", create: true)
        var options = SegmentOptions()
        options.blockRows = 4096
        for name in ["ev", "cu"] {
            let (schema, rows) = try EngineFixture.load(dir + "/\(name).csv")
            try store.createTable(name, schema: schema)
            try store.append(Chunk(schema: schema, rows: rows), to: name, options: options)
        }
        let engine = QueryEngine(store: store, options: QueryOptions(threads: 2))
        for (q, line) in zip(DifferentialTests.queries, lines) {
            let json = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            if let err = json["error"] {
                Issue.record("DuckDB failed on \(q): \(err)")
                continue
            }
            let want = (json["rows"] as! [[String]]).map { $0 }
            do {
                let got = try engine.query(q).rows.map { $0.map(EngineFixture.text) }
                #expect(got.count == want.count, "\(q): \(got.count) rows, DuckDB \(want.count)")
                let a = got.sorted { $0.lexicographicallyPrecedes($1) }
                let b = want.sorted { $0.lexicographicallyPrecedes($1) }
                if let (x, y) = zip(a, b).first(where: { !DifferentialTests.sameRow($0, $1) }) {
                    Issue.record("\(q)\nSeam:   \(x)\nDuckDB: \(y)")
                }
            } catch let e as SQLError {
                Issue.record("\(e.render(sql: q))")
            }
        }
    }

    static func sameRow(_ a: [String], _ b: [String]) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { x, y in
            if x == y { return true }
            guard let dx = Double(x), let dy = Double(y) else { return false }
            return abs(dx - dy) <= 1e-9 * max(abs(dx), abs(dy), 1)
        }
    }
}
