import Foundation
import SeamColumnar
import SeamEngine
import SeamSQL
import SeamStorage
import SeamTestSupport

/// The golden files' fixture tables (Fixtures/*.csv: a `name:TYPE` header, `\N` for NULL) in a fresh store.
enum EngineFixture {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures").path
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("golden").path

    /// A store holding every fixture table; `blockRows` small so that even tiny tables span several blocks.
    static func store(blockRows: Int = 3) throws -> Store {
        let dir = VectorFixtures.temporaryDirectory("engine")
        let store = try Store(path: dir + "/store", create: true)
        var options = SegmentOptions()
        options.blockRows = blockRows
        for file in try FileManager.default.contentsOfDirectory(atPath: fixtures).filter({ $0.hasSuffix(".csv") }).sorted() {
            let name = String(file.dropLast(4))
            let (schema, rows) = try load(fixtures + "/" + file)
            try store.createTable(name, schema: schema)
            if !rows.isEmpty {
                try store.append(Chunk(schema: schema, rows: rows), to: name, options: options)
            }
        }
        return store
    }

    /// A fresh store holding one table of generated rows, cut into blocks of `blockRows`.
    static func store(table: String, schema: Schema, rows: [[Value]], blockRows: Int) throws -> Store {
        let store = try Store(path: VectorFixtures.temporaryDirectory(table) + "/store", create: true)
        try store.createTable(table, schema: schema)
        var options = SegmentOptions()
        options.blockRows = blockRows
        try store.append(Chunk(schema: schema, rows: rows), to: table, options: options)
        return store
    }

    /// Parses a fixture file into a schema and rows of values.
    static func load(_ path: String) throws -> (Schema, [[Value]]) {
        let text = try String(contentsOfFile: path, encoding: .utf8)
        var lines = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        let header = lines.removeFirst()
        var fields: [Field] = []
        var rest = Substring(header)
        while !rest.isEmpty {
            let colon = rest.firstIndex(of: ":")!
            let name = String(rest[..<colon])
            rest = rest[rest.index(after: colon)...]
            var typeEnd = rest.firstIndex(of: ",") ?? rest.endIndex
            if rest.hasPrefix("DECIMAL(") { typeEnd = rest.index(after: rest.firstIndex(of: ")")!) }
            fields.append(Field(name, LogicalType(sqlName: String(rest[..<typeEnd]))!))
            rest = typeEnd == rest.endIndex ? "" : rest[rest.index(after: typeEnd)...]
        }
        let schema = Schema(fields)
        let rows = try lines.map { line -> [Value] in
            let cells = csvFields(line)
            guard cells.count == fields.count else { throw SQLError(.runtime, "\(path): row has \(cells.count) cells: \(line)") }
            return try zip(cells, fields).map { cell, f -> Value in
                if cell == "\\N" { return .null }
                switch ValueCast.cast(.varchar(cell), to: f.type) {
                case .success(let v): return v
                case .failure(let e): throw SQLError(.runtime, "\(path): \(e.message)")
                }
            }
        }
        return (schema, rows)
    }

    /// A cell as the golden files spell it (DuckDB's text; NULL, and "(empty)" for an empty string).
    static func text(_ v: Value) -> String {
        switch v {
        case .null: return "NULL"
        case .double(let d): return ValueCast.formatDouble(d)
        case .varchar(let s): return s.isEmpty ? "(empty)" : s
        default: return v.description
        }
    }
}
