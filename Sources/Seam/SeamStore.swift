@_exported public import SeamColumnar
@_exported public import SeamStorage
@_exported public import SeamSynth
@_exported public import SeamKernels
@_exported public import SeamIngest
@_exported public import SeamSQL
@_exported public import SeamEngine
import Foundation

/// The embeddable entry point: a Seam store on disk with its canonical tables.
///
/// ```swift
/// let seam = try SeamStore(path: "./seam-data", create: true)
/// try seam.loadSyntheticTables(GeneratorOptions(customers: 1000))
/// for t in try seam.stats() { print(t.table, t.rows) }
/// ```
public final class SeamStore: @unchecked Sendable {
    public let storage: Store

    /// The default store location: `$SEAM_STORE`, else `./seam-data`.
    public static var defaultPath: String { ProcessInfo.processInfo.environment["SEAM_STORE"] ?? "./seam-data" }

    /// How `events` is laid out: partitioned by month of `ts`, sorted by customer then time (DESIGN.md), then event id, so
    /// a customer's events are in one total order (window queries over `ORDER BY ts, event_id` find them in order).
    public static let eventsLayout = TableLayout(partitionColumn: "ts", granularity: .month, sortColumns: ["customer_id", "ts", "event_id"])

    /// Opens the store at `path`.
    /// - Parameters:
    ///   - create: make the store when it does not exist.
    ///   - readOnly: open without the writer lock (no recovery, no writes).
    /// - Throws: ``StorageError`` when the store is missing, locked by another writer or damaged.
    public init(path: String = SeamStore.defaultPath, create: Bool = false, readOnly: Bool = false) throws {
        storage = try Store(path: path, mode: readOnly ? .readOnly : .readWrite, create: create)
    }

    /// Files an interrupted commit left behind, removed when the store was opened.
    public var recovery: RecoveryReport { storage.recovery }

    /// Creates the canonical tables that do not exist yet.
    public func ensureCanonicalTables() throws {
        try storage.createTable("events", schema: CanonicalTables.events, layout: SeamStore.eventsLayout)
    }

    /// Appends the generator's canonical `events` and `customers` (no raw files, no ingest) in commits of `batch`
    /// persons: the scan-benchmark path. Crash faults for the commits come from `SEAM_CRASH_AT` (end-to-end crash
    /// tests). Returns the rows added to each table.
    @discardableResult
    public func loadSyntheticTables(_ options: GeneratorOptions, batch: Int = 20_000) throws -> (events: Int, customers: Int) {
        try ensureCanonicalTables()
        try storage.createTable("customers", schema: CanonicalTables.customers, layout: TableLayout(sortColumns: ["customer_id"]))
        let faults = CommitFaults.fromEnvironment(ProcessInfo.processInfo.environment["SEAM_CRASH_AT"])
        var rows = (events: 0, customers: 0)
        try Generator.canonicalTables(options, batch: batch) { events, customers in
            try storage.append(events, to: "events", faults: faults)
            rows.events += events.rowCount
            if let customers {
                try storage.append(customers, to: "customers", faults: faults)
                rows.customers += customers.rowCount
            }
        }
        return rows
    }

    /// The built-in CSV mappings: every `*.yaml` in `dir` (default `$SEAM_MAPPINGS`, else `data/mappings`).
    public static func mappings(in dir: String? = nil) throws -> [Mapping] {
        // Named, or `data/mappings` under the working directory, or the checkout the running binary was built in
        // (`.build/release/seam` → `data/mappings` three folders up), so `seam ingest` finds the built-in mappings
        // when run from elsewhere.
        let named = dir ?? ProcessInfo.processInfo.environment["SEAM_MAPPINGS"]
        let executable = Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments.first ?? "")
        let beside = executable.resolvingSymlinksInPath()
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("data/mappings").path
        let candidates = named.map { [$0] } ?? ["data/mappings", beside]
        guard let d = candidates.first(where: { FileManager.default.fileExists(atPath: $0) }),
            let files = try? FileManager.default.contentsOfDirectory(atPath: d)
        else { return [] }
        return try files.filter { $0.hasSuffix(".yaml") || $0.hasSuffix(".yml") }.sorted().map { f in try Mapping.load(d + "/" + f) }
    }

    /// Ingests raw files and folders into the canonical tables (issue "Ingest").
    /// - Throws: ``IngestError`` when the store holds the generator's direct canonical events (no identity key map).
    public func ingest(_ paths: [String], options: IngestOptions) throws -> IngestSummary {
        if try storage.tableNames().contains("events"), try storage.manifest("events").layout.keyMap == nil {
            throw IngestError("\(storage.path) holds canonical events loaded by `seam generate --store`, which carry no identity; ingest into another store")
        }
        return try Ingestor(store: storage, options: options).run(paths)
    }

    public func verify() -> VerifyReport { storage.verify() }
    public func stats() throws -> [TableStats] { try storage.stats() }

    /// Runs one SQL statement against the store (DuckDB's semantics are the reference).
    /// - Throws: ``SQLError`` with the line and column of the problem; render it with ``SQLError/render(sql:)``.
    public func query(_ sql: String, options: QueryOptions = QueryOptions()) throws -> QueryResult {
        try QueryEngine(store: storage, options: options).query(sql)
    }
}
