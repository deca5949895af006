public import SeamStorage
import SeamColumnar

/// The canonical tables ingest fills, with their layouts, and small helpers to read and build them.
public enum IngestTables {
    /// Columns that store an identifier node id and are read as the node's customer id (merges and splits
    /// become visible to every reader with one small commit of `identities`).
    static let customerKeyMap = KeyMap(column: "customer_id", table: "identities", from: "node_id", to: "customer_id")

    /// Where `customer_id` sits in `events`.
    static let eventsCustomerColumn = 2
    /// Where `properties` sits in `events`.
    static let eventsPropertiesColumn = 12

    public static let eventsLayout = TableLayout(
        partitionColumn: "ts", granularity: .month, sortColumns: ["customer_id", "ts", "event_id"], keyMap: customerKeyMap)

    static let all: [(String, Schema, TableLayout)] = [
        ("events", CanonicalTables.events, eventsLayout),
        ("customers", CanonicalTables.customers, TableLayout(sortColumns: ["customer_id"])),
        ("identities", CanonicalTables.identities, TableLayout(sortColumns: ["node_id"])),
        ("consents", CanonicalTables.consents, TableLayout(sortColumns: ["customer_id", "ts"], keyMap: customerKeyMap)),
        ("quality_issues", CanonicalTables.qualityIssues, TableLayout()),
        ("identity_links", CanonicalTables.identityLinks, TableLayout(sortColumns: ["link_id"])),
        ("identity_decisions", CanonicalTables.identityDecisions, TableLayout()),
        ("profile_traits", CanonicalTables.profileTraits, TableLayout(sortColumns: ["customer_id", "ts"], keyMap: customerKeyMap)),
    ]

    /// Creates the tables that do not exist yet.
    public static func ensure(_ store: Store) throws(StorageError) {
        let existing = Set(try store.tableNames())
        for (name, schema, layout) in all where !existing.contains(name) {
            try store.createTable(name, schema: schema, layout: layout)
        }
    }

    /// Replaces every row of `table` with `chunk` in one commit.
    static func replaceAll(_ store: Store, _ table: String, _ chunk: Chunk, faults: CommitFaults = .none) throws(StorageError) {
        let m = try store.manifest(table)
        try store.replace(in: table, removing: m.segments.map(\.file), adding: chunk.rowCount > 0 ? chunk : nil, faults: faults)
    }

    /// The raw stored Int64 values of a BIGINT column (no key map), nulls skipped.
    static func int64Column(_ store: Store, _ table: String, _ column: String) throws(StorageError) -> [Int64] {
        let m = try store.manifest(table)
        guard let c = m.schema.index(of: column) else { throw StorageError(.invalidArgument, "no column \(column) in \(table)") }
        var out: [Int64] = []
        out.reserveCapacity(m.rowCount)
        for r in try store.readers(m) {
            for v in try r.readColumn(c) {
                v.withValues(Int64.self) { p in
                    if v.validity == nil { out.append(contentsOf: p) } else { for i in 0..<v.count where !v.isNull(i) { out.append(p[i]) } }
                }
            }
        }
        return out
    }

}

/// Builds a chunk row by row from optional values, in schema order.
struct RowBuilder {
    let schema: Schema
    var columns: [ColumnBuilder]
    init(_ schema: Schema) { self.init(schema, rows: 0, textBytes: 0, in: -1) }

    /// A builder with room for `rows` rows, and `textBytes` bytes of text in column `textColumn` (the one column
    /// expected to hold most of the text, such as `events.properties`).
    init(_ schema: Schema, rows: Int, textBytes: Int, in textColumn: Int) {
        self.schema = schema
        columns = schema.fields.indices.map { c in
            ColumnBuilder(schema.fields[c].type, capacity: rows, byteCapacity: c == textColumn ? textBytes : schema.fields[c].type == .varchar ? rows * 8 : 0)
        }
    }
    var count: Int { columns.first?.count ?? 0 }
    mutating func add(_ values: [Value]) {
        for (i, v) in values.enumerated() { columns[i].append(v) }
    }
    /// One `events` row (columns in `CanonicalTables.events` order, customer id at ``IngestTables/eventsCustomerColumn``),
    /// without a `Value` per cell.
    /// `properties`, when given, is written in place of the row's own (nil) properties text.
    mutating func addEvent(_ r: EventRow, customer: Int64?, properties: KeptMembers? = nil) {
        // One uniqueness check of the column list per row, not one per column.
        columns.withUnsafeMutableBufferPointer { c in
            Self.addHead(c, r.eventID, r.ts, customer, r.channel, r.eventType)
            c[5].append(string: r.productID)
            c[6].append(string: r.category)
            c[7].append(int32: r.quantity)
            c[8].append(int64: r.amount)
            c[9].append(string: r.currency)
            c[10].append(string: r.campaign)
            c[11].append(string: r.storeID)
            if let properties {
                c[12].append(stringOf: properties.byteCount) { properties.write(into: $0) }
            } else {
                c[12].append(string: r.properties)
            }
        }
    }

    /// One `events` row of a Segment message, its texts copied from `doc` as bytes (no String per field). The customer
    /// id is NULL (landing fills it in), as is the store id (messages have none).
    mutating func addEvent(_ r: SegmentRow, of doc: JSONDocument, properties: KeptMembers?) {
        columns.withUnsafeMutableBufferPointer { c in
            Self.addHead(c, r.eventID, r.ts, nil, r.channel, r.eventType)
            Self.append(r.productID, of: doc, to: &c[5])
            Self.append(r.category, of: doc, to: &c[6])
            c[7].append(int32: r.quantity)
            c[8].append(int64: r.amount)
            Self.append(r.currency, of: doc, to: &c[9], upperCase: true)
            Self.append(r.campaign, of: doc, to: &c[10])
            c[11].appendNull()
            if let properties {
                c[12].append(stringOf: properties.byteCount) { properties.write(into: $0) }
            } else {
                c[12].appendNull()
            }
        }
    }

    /// One `events` row of a CSV record, its texts copied from the record as bytes. The customer id is NULL
    /// (landing fills it in).
    mutating func addEvent(_ r: CSVRow) {
        columns.withUnsafeMutableBufferPointer { c in
            Self.addHead(c, r.eventID, r.ts, nil, r.channel, r.eventType)
            c[5].append(utf8: r.productID)
            c[6].append(utf8: r.category)
            c[7].append(int32: r.quantity)
            c[8].append(int64: r.amount)
            c[9].append(string: r.currency)
            c[10].append(utf8: r.campaign)
            c[11].append(utf8: r.storeID)
            c[12].append(utf8: r.properties)
        }
    }

    /// The first five columns of an `events` row: its id, time, customer (NULL until landing fills it in), channel
    /// and type.
    @inline(__always)
    private static func addHead(
        _ c: UnsafeMutableBufferPointer<ColumnBuilder>, _ eventID: Int64, _ ts: Int64, _ customer: Int64?, _ channel: String, _ eventType: String
    ) {
        c[0].append(int64: eventID)
        c[1].append(int64: ts)
        c[IngestTables.eventsCustomerColumn].append(int64: customer)
        c[3].append(string: channel)
        c[4].append(string: eventType)
    }

    /// The text of value `r` (``JSONDocument/text(_:)``), or NULL; `upperCase`: as ``Text/upper(_:)`` gives it.
    private static func append(_ r: JSONDocument.Ref?, of doc: JSONDocument, to column: inout ColumnBuilder, upperCase: Bool = false) {
        let done: Void? = r.flatMap { r in
            doc.withText(r) { t in
                // Upper-case ASCII, as codes nearly always are, goes as it is; anything else through Text.upper.
                if !upperCase || Text.isUpperCaseASCII(t) {
                    column.append(utf8: t)
                } else {
                    column.append(string: Text.upper(String(decoding: t, as: UTF8.self)))
                }
            }
        }
        if done == nil { column.appendNull() }
    }

    mutating func finish() -> Chunk {
        let c = Chunk(schema: schema, columns: columns.map { $0.finish() })
        columns = schema.fields.map { ColumnBuilder($0.type) }
        return c
    }
}

extension Value {
    static func str(_ s: String?) -> Value { s.map { .varchar($0) } ?? .null }
    static func int(_ v: Int64?) -> Value { v.map { .bigint($0) } ?? .null }
    static func time(_ v: Int64?) -> Value { v.map { .timestamp($0) } ?? .null }
}
