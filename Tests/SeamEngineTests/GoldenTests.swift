import Foundation
import SeamColumnar
import SeamEngine
import SeamSQL
import SeamStorage
import Testing

/// Runs the sqllogictest-style files in golden/: each `query` record's rows must equal the expected rows
/// (DuckDB's, filled in by duckdb/fill_expected.py), in order unless the record says `rowsort`; each
/// `statement error` record must fail with a message containing the expected text.
@Suite struct GoldenTests {
    struct Record {
        var file: String
        var line: Int
        var kind: String
        var sql: String
        var expected: [String]
    }

    static func records(_ path: String) throws -> [Record] {
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var out: [Record] = []
        var i = 0
        while i < lines.count {
            let head = lines[i]
            guard head.hasPrefix("query") || head.hasPrefix("statement error") else {
                i += 1
                continue
            }
            let start = i
            i += 1
            var sql: [String] = []
            while i < lines.count && lines[i].trimmingCharacters(in: .whitespaces) != "----" {
                sql.append(lines[i])
                i += 1
            }
            i += 1
            var expected: [String] = []
            while i < lines.count && !lines[i].isEmpty {
                expected.append(lines[i])
                i += 1
            }
            out.append(Record(file: (path as NSString).lastPathComponent, line: start + 1, kind: head, sql: sql.joined(separator: "\n"), expected: expected))
        }
        return out
    }

    static var files: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: EngineFixture.golden)) ?? []).filter { $0.hasSuffix(".test") }.sorted()
    }

    @Test(arguments: GoldenTests.files)
    func golden(_ file: String) throws {
        let records = try GoldenTests.records(EngineFixture.golden + "/" + file)
        #expect(records.count > 0, "no records in \(file)")
        let store = try EngineFixture.store()
        // Two threads so the morsel-parallel paths (merging partial aggregates, ordered collection) run.
        let engine = QueryEngine(store: store, options: QueryOptions(threads: 2))
        for r in records {
            let place = "\(r.file):\(r.line)"
            if r.kind.hasPrefix("statement error") {
                do {
                    let result = try engine.query(r.sql)
                    Issue.record("\(place): expected an error, got \(result.rowCount) rows")
                } catch let e as SQLError {
                    let rendered = e.render(sql: r.sql)
                    for want in r.expected where !rendered.contains(want) {
                        Issue.record("\(place): error\n\(rendered)\ndoes not contain\n\(want)")
                    }
                }
                continue
            }
            do {
                let result = try engine.query(r.sql)
                var got = result.rows.map { $0.map(EngineFixture.text).joined(separator: "\t") }
                var want = r.expected
                if r.kind.contains("rowsort") {
                    got.sort()
                    want.sort()
                }
                if got != want {
                    Issue.record("\(place): \(r.sql)\n--- expected\n\(want.joined(separator: "\n"))\n--- got\n\(got.joined(separator: "\n"))")
                }
            } catch let e as SQLError {
                Issue.record("\(place): \(e.render(sql: r.sql))")
            }
        }
    }
}
