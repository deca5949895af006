/// A horizontal slice of a table: one vector per field, all of the same length.
public struct Chunk: Sendable {
    public let schema: Schema
    public let columns: [ColumnVector]

    public init(schema: Schema, columns: [ColumnVector]) {
        precondition(schema.count == columns.count, "one column per field")
        for (f, c) in zip(schema.fields, columns) { precondition(f.type == c.type, "column \(f.name) has type \(c.type)") }
        if let first = columns.first { precondition(columns.allSatisfy { $0.count == first.count }, "ragged chunk") }
        self.schema = schema
        self.columns = columns
    }

    public var rowCount: Int { columns.first?.count ?? 0 }

    public func column(_ name: String) -> ColumnVector? {
        schema.index(of: name).map { columns[$0] }
    }

    /// Builds a chunk from rows of values (slow path, for tests and small tables).
    public init(schema: Schema, rows: [[Value]]) {
        var builders = schema.fields.map { ColumnBuilder($0.type, capacity: rows.count) }
        for row in rows {
            precondition(row.count == schema.count, "row has \(row.count) values, schema has \(schema.count)")
            for i in 0..<row.count { builders[i].append(row[i]) }
        }
        self.init(schema: schema, columns: builders.map { $0.finish() })
    }

    /// Rows as values (slow path).
    public var rows: [[Value]] {
        (0..<rowCount).map { r in columns.map { $0.value(at: r) } }
    }
}
