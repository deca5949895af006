public import Seam
import Foundation

/// How results print: DuckDB's box table, CSV, JSON (an array of objects) or one `column = value` per line.
public enum OutputMode: String, Sendable, CaseIterable {
    case table, csv, json, line
}

/// Renders query results. Values print as DuckDB prints them, so output can be compared and loaded elsewhere.
public enum ResultRenderer {
    /// DuckDB's text for a value (NULL as `NULL` in tables, empty in CSV).
    public static func text(_ v: Value, csv: Bool = false) -> String {
        switch v {
        case .null: return csv ? "" : "NULL"
        case .double(let d): return ValueCast.formatDouble(d)
        default: return v.description
        }
    }

    /// DuckDB's lower-case type names in a table header.
    static func typeName(_ t: LogicalType) -> String {
        switch t {
        case .boolean: return "boolean"
        case .integer: return "int32"
        case .bigint: return "int64"
        case .double: return "double"
        case .decimal: return "decimal(18,2)"
        case .timestamp: return "timestamp"
        case .date: return "date"
        case .varchar: return "varchar"
        case .interval: return "interval"
        }
    }

    public static func render(_ r: QueryResult, mode: OutputMode, maxRows: Int = 40) -> String {
        switch mode {
        case .csv:
            var out: [UInt8] = []
            writeCSV(r) { out += $0 }
            return String(decoding: out, as: UTF8.self)
        case .json:
            var out: [UInt8] = []
            writeJSON(r) { out += $0 }
            return String(decoding: out, as: UTF8.self)
        case .line:
            var out: [UInt8] = []
            writeLines(r) { out += $0 }
            return String(decoding: out, as: UTF8.self)
        case .table:
            return table(r, maxRows: maxRows)
        }
    }

    /// The result as CSV, handed to `write` a few batches at a time (formatted on every core) so a large export
    /// never sits in memory twice. NULL is an empty field and the empty string is `""`, as DuckDB's
    /// `COPY … (FORMAT csv)` writes them.
    public static func writeCSV(_ r: QueryResult, _ write: ([UInt8]) -> Void) {
        write(Array((CSVText.row(r.schema.fields.map(\.name)) + "\n").utf8))
        r.deliver(transform: csvText, consume: write)
    }

    /// The result as JSON (an array of objects, one per line), handed to `write` as ``writeCSV(_:_:)`` does:
    /// numbers bare (DECIMAL too), non-finite doubles and every other type as quoted text.
    public static func writeJSON(_ r: QueryResult, _ write: ([UInt8]) -> Void) {
        let names = FieldLabels(r.schema)
        withoutActuallyEscaping(write) { write in
            var array = JSONArrayWriter(write)
            r.deliver(transform: { jsonText($0, names) }, consume: { array.add($0) })
            array.close()
        }
    }

    /// The result in the line view (`name = value` per field, a blank line between rows), handed to `write` as
    /// ``writeCSV(_:_:)`` does.
    public static func writeLines(_ r: QueryResult, _ write: ([UInt8]) -> Void) {
        let labels = FieldLabels(lineOf: r.schema)
        withoutActuallyEscaping(write) { write in
            var lines = LineWriter(write)
            r.deliver(transform: { lineText($0, labels) }, consume: { lines.add($0) })
        }
    }

    /// ``exportCSV(_:on:token:_:)`` in the line view, written as ``writeLines(_:_:)`` writes it.
    public static func exportLines(
        _ sql: String, on engine: QueryEngine, token: CancellationToken = CancellationToken(), _ write: ([UInt8]) -> Void
    ) throws -> (rows: Int, elapsed: Double) {
        try withoutActuallyEscaping(write) { write in
            var lines = LineWriter(write)
            return try engine.stream(sql, token: token, start: { schema in
                let labels = FieldLabels(lineOf: schema)
                return { lineText($0, labels) }
            }, consume: { lines.add($0) })
        }
    }

    /// Runs `sql` and writes its result as CSV while it is produced (``QueryEngine/stream(_:token:start:consume:)``):
    /// a result that streams is never held whole. Returns the rows and the time taken.
    public static func exportCSV(
        _ sql: String, on engine: QueryEngine, token: CancellationToken = CancellationToken(), _ write: ([UInt8]) -> Void
    ) throws -> (rows: Int, elapsed: Double) {
        try engine.stream(sql, token: token, start: { schema in
            write(Array((CSVText.row(schema.fields.map(\.name)) + "\n").utf8))
            return csvText
        }, consume: write)
    }

    /// ``exportCSV(_:on:token:_:)`` as JSON, written as ``writeJSON(_:_:)`` writes it.
    public static func exportJSON(
        _ sql: String, on engine: QueryEngine, token: CancellationToken = CancellationToken(), _ write: ([UInt8]) -> Void
    ) throws -> (rows: Int, elapsed: Double) {
        try withoutActuallyEscaping(write) { write in
            var array: JSONArrayWriter? = nil
            let done = try engine.stream(sql, token: token, start: { schema in
                array = JSONArrayWriter(write)
                let names = FieldLabels(schema)
                return { jsonText($0, names) }
            }, consume: { array?.add($0) })
            array?.close()
            return done
        }
    }

    /// Rows `range` of the result (in batch order) as values.
    private static func rows(_ r: QueryResult, _ range: Range<Int>) -> [[Value]] {
        var out: [[Value]] = []
        var start = 0
        for b in r.batches {
            if start >= range.upperBound { break }
            let lo = max(range.lowerBound, start), hi = min(range.upperBound, start + b.count)
            if lo < hi { for i in lo..<hi { out.append(b.columns.map { $0.value(at: i - start) }) } }
            start += b.count
        }
        return out
    }

    private static func isNumeric(_ t: LogicalType) -> Bool {
        t == .integer || t == .bigint || t == .double || t == .decimal
    }

    /// A box table; beyond `maxRows` rows, the first and last halves with a `·` gap (as DuckDB does).
    static func table(_ r: QueryResult, maxRows: Int) -> String {
        let total = r.rowCount
        // Only the rows shown become Values (a 1.45M-row result had every row made into Values to show 40).
        if total > maxRows {
            let head = maxRows / 2
            return table(r.schema, head: rows(r, 0..<head), tail: rows(r, (total - (maxRows - head))..<total), total: total, maxRows: maxRows)
        }
        return table(r.schema, head: rows(r, 0..<total), tail: [], total: total, maxRows: maxRows)
    }

    /// Runs `sql` and renders it as ``table(_:maxRows:)`` does, keeping only the rows shown while the result streams
    /// past (``QueryEngine/stream(_:token:start:consume:)``): `SELECT * FROM events` in the REPL no longer holds the
    /// whole table to show forty rows of it. Returns the text, the rows and the time taken.
    public static func streamTable(
        _ sql: String, on engine: QueryEngine, token: CancellationToken = CancellationToken(), maxRows: Int
    ) throws -> (text: String, rows: Int, elapsed: Double) {
        var schema = Schema([])
        var first: [[Value]] = []  // up to maxRows rows: all of them when the result is no longer
        var recent: [(batch: Batch, start: Int)] = []  // the last batches, covering the last rows shown
        var seen = 0
        let tailRows = maxRows - maxRows / 2
        let done = try engine.stream(sql, token: token, start: { s in
            schema = s
            return { $0 }
        }, consume: { (b: Batch) in
            var r = 0
            while first.count < maxRows && r < b.count {
                first.append(b.columns.map { $0.value(at: r) })
                r += 1
            }
            recent.append((b, seen))
            seen += b.count
            while recent.count > 1 && seen - recent[1].start >= tailRows { recent.removeFirst() }
        })
        guard seen > maxRows else { return (table(schema, head: first, tail: [], total: seen, maxRows: maxRows), seen, done.elapsed) }
        var tail: [[Value]] = []
        for (b, start) in recent {
            for r in max(0, seen - tailRows - start)..<b.count { tail.append(b.columns.map { $0.value(at: r) }) }
        }
        let text = table(schema, head: Array(first.prefix(maxRows / 2)), tail: tail, total: seen, maxRows: maxRows)
        return (text, seen, done.elapsed)
    }

    /// The box table of `head` and, when the result had more than `maxRows` rows, a gap and `tail`.
    static func table(_ schema: Schema, head: [[Value]], tail: [[Value]], total: Int, maxRows: Int) -> String {
        let fields = schema.fields
        let shown = (head + tail).map { $0.map { text($0) } }
        let gapAt: Int? = total > maxRows ? head.count : nil
        var widths = fields.map { max($0.name.count, typeName($0.type).count) }
        for row in shown { for (k, s) in row.enumerated() { widths[k] = max(widths[k], s.count) } }
        if fields.isEmpty { return "(no columns)\n" }
        func line(_ l: String, _ m: String, _ r: String) -> String {
            l + widths.map { String(repeating: "─", count: $0 + 2) }.joined(separator: m) + r + "\n"
        }
        func center(_ s: String, _ w: Int) -> String {
            let pad = w - s.count
            return String(repeating: " ", count: pad / 2) + s + String(repeating: " ", count: pad - pad / 2)
        }
        var out = line("┌", "┬", "┐")
        out += "│" + fields.enumerated().map { " " + center($0.element.name, widths[$0.offset]) + " " }.joined(separator: "│") + "│\n"
        out += "│" + fields.enumerated().map { " " + center(typeName($0.element.type), widths[$0.offset]) + " " }.joined(separator: "│") + "│\n"
        out += line("├", "┼", "┤")
        for (i, row) in shown.enumerated() {
            if i == gapAt {
                for _ in 0..<3 { out += "│" + widths.map { center("·", $0 + 2) }.joined(separator: "│") + "│\n" }
            }
            out += "│" + row.enumerated().map { k, s in
                let pad = String(repeating: " ", count: widths[k] - s.count)
                return " " + (isNumeric(fields[k].type) ? pad + s : s + pad) + " "
            }.joined(separator: "│") + "│\n"
        }
        if shown.isEmpty {
            let inner = widths.reduce(0) { $0 + $1 + 3 } - 1
            out += "│" + center("0 rows", inner) + "│\n"
        }
        out += line("└", "┴", "┘")
        if gapAt != nil { out += "  \(total) rows (\(maxRows) shown)  \(fields.count) columns\n" }
        return out
    }
}

extension ResultRenderer {
    /// Runs `sql` and writes its result in `mode` (csv, json or line) to the file descriptor `fd` while it is produced
    /// (``exportCSV(_:on:token:_:)``). A failed write (`name` says where) stops the query and is the error thrown.
    public static func export(
        _ sql: String, as mode: OutputMode, on engine: QueryEngine, token: CancellationToken = CancellationToken(),
        to fd: Int32, name: String
    ) throws -> (rows: Int, elapsed: Double) {
        precondition(mode != .table, "exports are csv, json or lines")
        let out = DescriptorOutput(fd, name: name, token: token)
        let done: (rows: Int, elapsed: Double)
        do {
            switch mode {
            case .csv: done = try exportCSV(sql, on: engine, token: token, out.write)
            case .json: done = try exportJSON(sql, on: engine, token: token, out.write)
            default: done = try exportLines(sql, on: engine, token: token, out.write)
            }
        } catch {
            try out.check()  // the write failure, not the cancellation it caused
            throw error
        }
        try out.check()
        return done
    }

    /// A collected result in `mode` (csv or json) to the file descriptor `fd`; a failed write is thrown.
    public static func write(_ r: QueryResult, as mode: OutputMode, to fd: Int32, name: String) throws {
        precondition(mode == .csv || mode == .json, "exports are csv or json")
        let out = DescriptorOutput(fd, name: name, token: CancellationToken())
        if mode == .csv { writeCSV(r, out.write) } else { writeJSON(r, out.write) }
        try out.check()
    }
}
