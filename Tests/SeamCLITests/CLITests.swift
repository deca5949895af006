import Foundation
import SeamTestSupport
import Testing

/// End-to-end: the `seam` executable as a user runs it.
@Suite(.serialized) struct CLITests {
    static let binary: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        for config in ["debug", "release"] {
            let p = root.appendingPathComponent(".build/\(config)/seam").path
            if FileManager.default.isExecutableFile(atPath: p) { return p }
        }
        return root.appendingPathComponent(".build/debug/seam").path
    }()

    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    @discardableResult
    /// Runs `command` with /bin/sh, the binary as `$0` and `store` as `$1` (for redirections the `seam` helper cannot
    /// make); its exit status and standard error.
    static func shell(_ command: String, _ store: String) throws -> (status: Int32, stderr: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", command, binary, store]
        let err = Pipe()
        p.standardError = err
        try p.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, text)
    }

    static func seam(_ args: [String], env: [String: String] = [:], stdin: String? = nil, in directory: String? = nil) throws -> Run {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        if let directory { p.currentDirectoryURL = URL(fileURLWithPath: directory) }
        p.arguments = args
        p.environment = ProcessInfo.processInfo.environment.merging(env) { $1 }
        let out = Pipe(), err = Pipe(), input = Pipe()
        p.standardOutput = out
        p.standardError = err
        p.standardInput = input
        try p.run()
        input.fileHandleForWriting.write(Data((stdin ?? "").utf8))
        try input.fileHandleForWriting.close()
        let o = out.fileHandleForReading.readDataToEndOfFile()
        let e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Run(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
    }

    @Test func generateStatsVerifyAndDetectAFlippedByte() throws {
        let dir = VectorFixtures.temporaryDirectory("cli")
        let gen = try Self.seam(["generate", "--customers", "200", "--seed", "5", "--out", dir + "/raw", "--store", dir + "/store"])
        #expect(gen.status == 0, "\(gen.stderr)")
        #expect(gen.stdout.contains("web_events.jsonl") && gen.stdout.contains("loaded"))
        let stats = try Self.seam(["stats", "--store", dir + "/store"])
        #expect(stats.status == 0)
        #expect(stats.stdout.contains("events: ") && stats.stdout.contains("bytes/row"))
        let ok = try Self.seam(["verify", "--store", dir + "/store"])
        #expect(ok.status == 0 && ok.stdout.contains("OK"), "\(ok.stdout)")

        // Flip one byte in the middle of the first segment's data (inside some block).
        let data = dir + "/store/tables/events/data"
        let seg = data + "/" + (try FileManager.default.contentsOfDirectory(atPath: data).sorted().first!)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: seg))
        bytes[200] ^= 0x5A
        try bytes.write(to: URL(fileURLWithPath: seg))
        let bad = try Self.seam(["verify", "--store", dir + "/store"])
        #expect(bad.status == 1)
        #expect(bad.stdout.contains("DAMAGED") && bad.stdout.contains(seg) && bad.stdout.contains("column 'event_id', block 0"), "\(bad.stdout)")
    }

    /// A process killed in the middle of a commit loses nothing committed; the next writer cleans up and says so.
    @Test(arguments: ["write-segment-0:after", "sync-data-dir:after", "write-manifest:after", "rename-manifest:before"])
    func killedCommitIsRecovered(at crash: String) throws {
        let dir = VectorFixtures.temporaryDirectory("crash")
        let store = dir + "/store"
        let first = try Self.seam(["generate", "--customers", "50", "--no-files", "--store", store])
        #expect(first.status == 0)
        let before = try Self.seam(["stats", "--store", store]).stdout
        let killed = try Self.seam(["generate", "--customers", "60", "--seed", "9", "--no-files", "--store", store], env: ["SEAM_CRASH_AT": crash])
        #expect(killed.status == 86, "\(killed.stderr)")
        // Readers see the last commit, untouched; verify names the leftovers but finds no damage.
        #expect(try Self.seam(["stats", "--store", store]).stdout == before)
        let check = try Self.seam(["verify", "--store", store])
        #expect(check.status == 0 && check.stdout.contains("left by an interrupted commit"), "\(check.stdout)")
        // The next writer removes the leftovers and reports them; then its own commit lands.
        let next = try Self.seam(["generate", "--customers", "60", "--seed", "9", "--no-files", "--store", store])
        #expect(next.status == 0)
        #expect(next.stderr.contains("recovered") && next.stderr.contains("interrupted commit"), "\(next.stderr)")
        #expect(try Self.seam(["verify", "--store", store]).status == 0)
    }

    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// Part of the committed sample: every source kind but the large web file, so the test stays quick.
    static func ingestInput() throws -> String {
        let dir = VectorFixtures.temporaryDirectory("ingest-in")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        for f in ["mobile_events.jsonl", "pos_transactions.csv", "crm_contacts.csv", "call_center.csv"] {
            try FileManager.default.copyItem(atPath: root + "/data/sample/" + f, toPath: dir + "/" + f)
        }
        return dir
    }

    /// One clean ingest of ``ingestInput()`` in batches of 700 records, shared by the crash tests.
    static let cleanIngest: (input: String, store: String, args: [String]) = {
        let input = try! ingestInput()
        let args = ["--mappings", root + "/data/mappings", "--batch", "700"]
        let clean = VectorFixtures.temporaryDirectory("ingest-clean")
        _ = try! seam(["ingest", "--store", clean, input] + args)
        return (input, clean, args)
    }()

    static func tableRows(_ store: String) throws -> [String] {
        try seam(["stats", "--store", store]).stdout.split(separator: "\n").filter { $0.contains(" rows,") }.map { String($0.prefix { $0 != "," }) }
    }

    /// Killed in the middle of an ingest (between any two of its commits, or inside one), then run again: the
    /// store ends exactly as after one clean run, with nothing lost and nothing twice.
    /// Commit 7 is the first batch's events (identity tables, issues, consents and traits land before it);
    /// commit 12 falls inside the second batch; the last one is inside a segment write of a later batch.
    @Test(arguments: ["rename-manifest:after:7", "rename-manifest:after:12", "write-segment-0:before:10"])
    func killedIngestResumesToTheSameResult(at crash: String) throws {
        let (input, clean, mappings) = try Self.cleanIngest
        let expected = try Self.tableRows(clean)
        #expect(expected.contains { $0.hasPrefix("events: ") })

        let store = VectorFixtures.temporaryDirectory("ingest-crash")
        let killed = try Self.seam(["ingest", "--store", store, input] + mappings, env: ["SEAM_CRASH_AT": crash])
        #expect(killed.status == 86, "\(killed.stdout) \(killed.stderr)")
        let again = try Self.seam(["ingest", "--store", store, input] + mappings)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(try Self.tableRows(store) == expected)
        let truth = ["--truth", Self.root + "/data/sample/truth"]
        #expect(try Self.seam(["identity", "evaluate", "--store", store] + truth).stdout == Self.seam(["identity", "evaluate", "--store", clean] + truth).stdout)
        #expect(try Self.seam(["quarantine", "list", "--store", store]).stdout == Self.seam(["quarantine", "list", "--store", clean]).stdout)
        #expect(try Self.seam(["verify", "--store", store]).status == 0)
    }

    /// Run from another folder, `seam ingest` still finds the built-in mappings (in the checkout it was built in);
    /// with none to be found, the error says so.
    @Test func ingestFindsTheBuiltInMappingsFromAnyFolder() throws {
        let elsewhere = VectorFixtures.temporaryDirectory("elsewhere")
        try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true)
        let pos = Self.root + "/data/sample/pos_transactions.csv"
        let r = try Self.seam(["ingest", "--store", elsewhere + "/store", pos], in: elsewhere)
        #expect(r.status == 0 && r.stdout.contains("pos "), "\(r.stdout) \(r.stderr)")
        let none = try Self.seam(["ingest", "--store", elsewhere + "/store2", "--mappings", elsewhere, pos], in: elsewhere)
        #expect(none.stderr.contains("no mappings were loaded"), "\(none.stderr)")
    }

    @Test func ingestReportsBadInputWithLocations() throws {
        let dir = VectorFixtures.temporaryDirectory("ingest-bad")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        var junk = Data([0xEF, 0xBB, 0xBF])  // BOM, CRLF, broken UTF-8, an empty line, a huge line
        junk.append(Data("{\"type\":\"track\",\"event\":\"Product Viewed\",\"userId\":\"u1\",\"timestamp\":\"2025-01-01T00:00:00Z\"}\r\n".utf8))
        junk.append(Data([0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D, 0x0A, 0x0A]))
        junk.append(Data(("{\"type\":\"page\",\"userId\":\"u1\",\"timestamp\":\"2025-01-02T00:00:00Z\",\"properties\":{\"p\":\"" + String(repeating: "x", count: 3 << 20) + "\"}}\n").utf8))
        junk.append(Data("{\"type\":\"track\",\"event\":\"Teleported\",\"anonymousId\":\"a\",\"timestamp\":\"2025-01-03T00:00:00Z\"}".utf8))
        try junk.write(to: URL(fileURLWithPath: dir + "/events.jsonl"))
        try Data().write(to: URL(fileURLWithPath: dir + "/empty.jsonl"))
        try Data([0x1F, 0x8B, 0x08, 0x00]).write(to: URL(fileURLWithPath: dir + "/cut.jsonl.gz"))
        let store = dir + "-store"
        let r = try Self.seam(["ingest", "--store", store, dir + "/events.jsonl", dir + "/empty.jsonl", dir + "/cut.jsonl.gz"])
        #expect(r.status == 1)  // the gzip file is cut inside its header: said, and the others still landed
        #expect(r.stderr.contains("DAMAGED") && r.stderr.contains("cut.jsonl.gz") && r.stderr.contains("gzip stream is truncated"), "\(r.stderr)")
        #expect(r.stdout.contains("read = landed + quarantined + duplicates: yes"), "\(r.stdout)")
        #expect(r.stdout.contains("segment") && r.stdout.contains("     4         3            1"), "\(r.stdout)")
        let q = try Self.seam(["quarantine", "list", "--store", store])
        #expect(q.stdout.contains("events.jsonl:2") && q.stdout.contains("invalid UTF-8"), "\(q.stdout)")
    }

    /// `seam sql` over an ingested store: one statement in each format, a script on standard input with dot
    /// commands, and an error that names the spot.
    @Test func sqlAnswersQueriesScriptsAndReportsErrors() throws {
        let (_, store, _) = Self.cleanIngest
        let total = try Self.seam(["sql", "--store", store, "SELECT count(*) AS n FROM events", "--format", "csv"])
        #expect(total.status == 0, "\(total.stderr)")
        let lines = total.stdout.split(separator: "\n")
        #expect(lines.first == "n" && lines.count == 2)
        let n = Int(lines[1]) ?? -1
        #expect(n > 1000)

        let per = try Self.seam(["sql", "--store", store, "--format", "csv", "SELECT channel, count(*) AS n FROM events GROUP BY channel ORDER BY n DESC"])
        let counts = per.stdout.split(separator: "\n").dropFirst().map { Int($0.split(separator: ",").last!)! }
        #expect(counts.reduce(0, +) == n && counts == counts.sorted(by: >), "\(per.stdout)")

        let json = try Self.seam(["sql", "--store", store, "--format", "json", "SELECT customer_id, email, consent_email FROM customers ORDER BY customer_id LIMIT 3"])
        let rows = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [[String: Any]]
        #expect(rows?.count == 3 && rows?.first?["customer_id"] is NSNumber, "\(json.stdout)")

        let table = try Self.seam(["sql", "--store", store, "SELECT channel, sum(amount) AS revenue FROM events GROUP BY 1 ORDER BY 1"])
        #expect(table.stdout.contains("channel") && table.stdout.contains("decimal(18,2)") && table.stdout.hasPrefix("┌"), "\(table.stdout)")

        let script = try Self.seam(["sql", "--store", store], stdin: ".mode csv\nSELECT 1 AS a;\nSELECT 'x'\n  AS b;\n.tables\nSELECT nope FROM events;\nSELECT 2 AS c")
        // The script runs on past its failed statement and then exits with status 1 (0 before 2026-11-28).
        #expect(script.status == 1)
        #expect(script.stdout.contains("a\n1\n") && script.stdout.contains("b\nx\n") && script.stdout.contains("c\n2\n") && script.stdout.contains("identities\n"), "\(script.stdout)")
        #expect(script.stdout.contains("Referenced column \"nope\" not found"), "\(script.stdout)")
        // A script's csv result streams to standard output, in order with what comes before and after it: held
        // whole, 40 copies of the events do not fit an 8 MiB memory limit (that script failed so before 2026-11-28).
        let big = try Self.seam(
            ["sql", "--store", store, "--memory-limit", "8MiB"],
            stdin: ".mode line\nSELECT 1 AS first;\n.mode csv\nSELECT a.* FROM events a, (SELECT 1 AS one FROM events LIMIT 40) b;\n.mode json\nSELECT 2 AS last;")
        let bigLines = big.stdout.split(separator: "\n")
        #expect(big.status == 0 && bigLines.count == 1 + 1 + 40 * n + 1, "\(big.stdout.suffix(500))")
        #expect(bigLines.first == "first = 1" && bigLines.dropFirst().first?.hasPrefix("event_id,ts,customer_id") == true)
        #expect(bigLines.last == "[{\"last\":2}]" && !big.stdout.contains("Out of Memory"))
        // `.output FILE` in csv and json mode: results appended to the file (written batch by batch), the screen
        // gets the rest.
        let exportPath = NSTemporaryDirectory() + "seam-cli-output-\(UUID().uuidString).txt"
        defer { try? FileManager.default.removeItem(atPath: exportPath) }
        let exported = try Self.seam(
            ["sql", "--store", store], stdin: ".mode csv\n.output \(exportPath)\nSELECT 1 AS a, 'x,y' AS b;\n.mode json\nSELECT 2 AS c;\n.output\nSELECT 3 AS d;")
        #expect(exported.status == 0 && exported.stdout.contains("[{\"d\":3}]") && !exported.stdout.contains("x,y"), "\(exported.stdout)")
        #expect(try String(contentsOfFile: exportPath, encoding: .utf8) == "a,b\n1,\"x,y\"\n[{\"c\":2}]\n")
        // A write that fails (a full disk: /dev/full) is reported with where, in the REPL and from the command line.
        let full = try Self.seam(["sql", "--store", store], stdin: ".mode csv\n.output /dev/full\nSELECT 1 AS a;\n.output\nSELECT 2 AS b;")
        #expect(full.stdout.contains("/dev/full: write failed: No space left on device") && full.stdout.contains("b\n2"), "\(full.stdout)")
        #expect(full.status == 1)
        let direct = try Self.shell("\"$0\" sql --store \"$1\" --format csv 'SELECT * FROM events' > /dev/full", store)
        #expect(direct.status == 1 && direct.stderr.contains("standard output: write failed: No space left on device"), "\(direct.stderr)")
        // A script whose standard output cannot be written says so on standard error (the streamed csv and the
        // table after it both fail).
        let script2 = try Self.shell("printf '.mode csv\\nSELECT 1 AS a;\\n.mode table\\nSELECT 2 AS b;\\n' | \"$0\" sql --store \"$1\" > /dev/full", store)
        #expect(script2.stderr.contains("standard output: write failed: No space left on device") && script2.stderr.contains("int32"), "\(script2.stderr)")
        #expect(script2.status == 1)

        // Dates and doubles in every text format, NULLs, a date before year 1 and non-finite doubles among them.
        let typed = "SELECT DATE '2024-02-29' AS d, 0.1 + 0.2 AS x UNION ALL SELECT DATE '0044-03-15 (BC)', CAST('nan' AS DOUBLE) "
            + "UNION ALL SELECT CAST(NULL AS DATE), CAST('-inf' AS DOUBLE) UNION ALL SELECT DATE '1969-12-31', CAST(NULL AS DOUBLE) "
            + "UNION ALL SELECT DATE '9999-12-31', 1e-7"
        let expected = [
            "csv": "d,x\n2024-02-29,0.3\n0044-03-15 (BC),nan\n,-inf\n1969-12-31,\n9999-12-31,1e-07\n",
            "json": "[{\"d\":\"2024-02-29\",\"x\":0.3},\n{\"d\":\"0044-03-15 (BC)\",\"x\":\"nan\"},\n{\"d\":null,\"x\":\"-inf\"},\n"
                + "{\"d\":\"1969-12-31\",\"x\":null},\n{\"d\":\"9999-12-31\",\"x\":1e-07}]\n",
            "line": "d = 2024-02-29\nx = 0.3\n\nd = 0044-03-15 (BC)\nx = nan\n\nd = NULL\nx = -inf\n\nd = 1969-12-31\nx = NULL\n\n"
                + "d = 9999-12-31\nx = 1e-07\n",
        ]
        for (format, text) in expected {
            let out = try Self.seam(["sql", "--store", store, "--format", format, typed])
            #expect(out.status == 0 && out.stdout == text, "\(format): \(out.stdout)\(out.stderr)")
        }

        let bad = try Self.seam(["sql", "--store", store, "SELECT channel FROM events WHERE amount > 'many'"])
        #expect(bad.status == 1)
        #expect(bad.stderr.contains("Could not convert string 'many'") && bad.stderr.contains("LINE 1:") && bad.stderr.contains("^"), "\(bad.stderr)")
    }

    /// The benchmark hooks `make compare` relies on: `--repeat` times each run on standard error and prints the
    /// result once; a CSV export keeps NULL (empty field) apart from the empty string (`""`); `stats --columns`
    /// lists decoded and stored bytes for every column.
    @Test func sqlRepeatCSVExportAndColumnStats() throws {
        let (_, store, _) = Self.cleanIngest
        let r = try Self.seam(["sql", "--store", store, "--format", "csv", "--repeat", "3", "SELECT count(*) AS n FROM events"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.split(separator: "\n").count == 2, "\(r.stdout)")
        let runs = r.stderr.split(separator: "\n").filter { $0.hasPrefix("run ") }
        #expect(runs.count == 3 && runs.allSatisfy { $0.hasSuffix(" s") && Double($0.split(separator: " ")[2]) != nil }, "\(r.stderr)")
        let noQuery = try Self.seam(["sql", "--store", store, "--repeat", "2"])
        #expect(noQuery.status != 0 && noQuery.stderr.contains("--repeat needs a QUERY"))

        let csv = try Self.seam(["sql", "--store", store, "--format", "csv", "SELECT '' AS e, NULL AS n, 'a,b' AS q, 1 AS one"])
        #expect(csv.stdout == "e,n,q,one\n\"\",,\"a,b\",1\n", "\(csv.stdout)")
        // Integers, decimals, timestamps and text are written from their columns, not through a Value: each as DuckDB
        // prints it, and NULL as an empty field in every one of those types.
        let typedQuery = """
            SELECT CAST(-9223372036854775807 - 1 AS BIGINT) AS lo, CAST(-7 AS INTEGER) AS i, CAST(-0.05 AS DECIMAL(18,2)) AS d,
                   CAST(1234567.5 AS DECIMAL(18,2)) AS big, TIMESTAMP '2024-01-02 03:04:05.000120' AS us,
                   TIMESTAMP '2024-02-29 13:05:09' AS whole, 'say "hi"' AS quoted, CAST(NULL AS BIGINT) AS nb,
                   CAST(NULL AS TIMESTAMP) AS nt, CAST(NULL AS DECIMAL(18,2)) AS nd, true AS t
            """
        let typed = try Self.seam(["sql", "--store", store, "--format", "csv", typedQuery])
        #expect(typed.stdout == "lo,i,d,big,us,whole,quoted,nb,nt,nd,t\n-9223372036854775808,-7,-0.05,1234567.50,"
            + "2024-01-02 03:04:05.00012,2024-02-29 13:05:09,\"say \"\"hi\"\"\",,,,true\n", "\(typed.stdout) \(typed.stderr)")
        // The same row as JSON: numbers bare (DECIMAL too), timestamps and text quoted, NULL as null.
        let typedJSON = try Self.seam(["sql", "--store", store, "--format", "json", typedQuery])
        #expect(typedJSON.stdout == "[{\"lo\":-9223372036854775808,\"i\":-7,\"d\":-0.05,\"big\":1234567.50,"
            + "\"us\":\"2024-01-02 03:04:05.00012\",\"whole\":\"2024-02-29 13:05:09\",\"quoted\":\"say \\\"hi\\\"\","
            + "\"nb\":null,\"nt\":null,\"nd\":null,\"t\":true}]\n", "\(typedJSON.stdout) \(typedJSON.stderr)")

        // The types still written through their Value, in both formats.
        let others = "SELECT 2.5::DOUBLE AS x, 1.0 / 0 AS inf, DATE '2024-03-01' AS dt, INTERVAL 3 DAY AS iv, false AS f"
        #expect(try Self.seam(["sql", "--store", store, "--format", "csv", others]).stdout == "x,inf,dt,iv,f\n2.5,inf,2024-03-01,3 days,false\n")
        #expect(try Self.seam(["sql", "--store", store, "--format", "json", others]).stdout
            == "[{\"x\":2.5,\"inf\":\"inf\",\"dt\":\"2024-03-01\",\"iv\":\"3 days\",\"f\":false}]\n")
        // The line view, streamed: every type, names right-aligned, NULL as NULL, a blank line between rows only.
        let lines = try Self.seam(["sql", "--store", store, "--format", "line", typedQuery + " UNION ALL " + typedQuery])
        let record = "    lo = -9223372036854775808\n     i = -7\n     d = -0.05\n   big = 1234567.50\n    us = 2024-01-02 03:04:05.00012\n"
            + " whole = 2024-02-29 13:05:09\nquoted = say \"hi\"\n    nb = NULL\n    nt = NULL\n    nd = NULL\n     t = true\n"
        #expect(lines.stdout == record + "\n" + record, "\(lines.stdout) \(lines.stderr)")
        #expect(try Self.seam(["sql", "--store", store, "--format", "line", others]).stdout
            == "  x = 2.5\ninf = inf\n dt = 2024-03-01\n iv = 3 days\n  f = false\n")
        // A whole table, formatted a few batches at a time on every core: every row once, in order.
        let n = Int(r.stdout.split(separator: "\n")[1]) ?? -1
        let all = "SELECT event_id, ts, channel, amount, properties FROM events ORDER BY ts, event_id"
        let allCSV = try Self.seam(["sql", "--store", store, "--format", "csv", all])
        #expect(allCSV.status == 0 && allCSV.stdout.split(separator: "\n", omittingEmptySubsequences: false).count == n + 2, "\(allCSV.stderr)")
        let allJSON = try JSONSerialization.jsonObject(with: Data(try Self.seam(["sql", "--store", store, "--format", "json", all]).stdout.utf8))
        let objects = allJSON as? [[String: Any]] ?? []
        let stamps = objects.compactMap { $0["ts"] as? String }
        #expect(objects.count == n && stamps.count == n && stamps == stamps.sorted())

        // The table of a streamed result keeps only the rows it shows: the first and last two of the same rows.
        let streamed = "SELECT event_id FROM events WHERE amount IS NULL OR amount >= 0"
        let ids = try Self.seam(["sql", "--store", store, "--format", "csv", streamed]).stdout.split(separator: "\n").dropFirst().map(String.init)
        let boxed = try Self.seam(["sql", "--store", store, "--max-rows", "4", streamed]).stdout
        let boxedIDs = boxed.split(separator: "\n").compactMap { line -> String? in
            let cell = line.split(separator: "│").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
            return Int64(cell) != nil ? cell : nil
        }
        #expect(ids.count > 4 && boxedIDs == Array(ids.prefix(2) + ids.suffix(2)), "\(boxed)")
        #expect(boxed.contains("\(ids.count) rows (4 shown)"), "\(boxed)")

        let stats = try Self.seam(["stats", "--store", store, "--columns"])
        #expect(stats.status == 0)
        var table = "", columns: [String: [String: (decoded: Int, stored: Int)]] = [:]
        var blocks: [String: Int] = [:], encodedBlocks: [String: Int] = [:]
        for line in stats.stdout.split(separator: "\n").map(String.init) {
            if !line.hasPrefix(" "), let colon = line.firstIndex(of: ":") {
                table = String(line[..<colon])
                blocks[table] = line.split(separator: " ").firstIndex(of: "block(s)").flatMap { Int(line.split(separator: " ")[$0 - 1]) }
            }
            let f = line.split(separator: " ")
            if line.hasPrefix("  "), f.count >= 5, let decoded = Int(f[1]), let stored = Int(f[2]) {
                columns[table, default: [:]][String(f[0])] = (decoded, stored)
                // Then the column's encodings: "name count" pairs separated by commas.
                for pair in f[3...].joined(separator: " ").split(separator: ",") {
                    encodedBlocks[table, default: 0] += Int(pair.split(separator: " ").last ?? "") ?? -1_000_000
                }
            }
        }
        #expect(encodedBlocks["events"] != nil && encodedBlocks["events"] == blocks["events"], "\(stats.stdout)")
        let events = try #require(columns["events"])
        let names = ["event_id", "ts", "customer_id", "channel", "event_type", "product_id", "category", "quantity", "amount",
                     "currency", "campaign", "store_id", "properties"]
        #expect(Set(events.keys) == Set(names), "\(stats.stdout)")
        #expect(events.values.allSatisfy { $0.decoded > 0 && $0.stored > 0 }, "\(stats.stdout)")
    }
}
