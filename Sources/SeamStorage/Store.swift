public import SeamColumnar
import Dispatch
import Synchronization

/// What opening a store found and cleaned up after an interrupted commit.
public struct RecoveryReport: Sendable {
    /// Files removed: segments no manifest refers to and unfinished manifests, relative to the store.
    public var removedFiles: [String] = []
    public var isEmpty: Bool { removedFiles.isEmpty }
}

/// The outcome of a commit.
public struct CommitResult: Sendable {
    public var table: String
    public var version: Int
    public var segmentsAdded: Int
    public var rowsAdded: Int
}

/// A store: a directory of tables, each a manifest plus immutable segment files.
///
/// ```
/// STORE/seam-store            marker with the format version
/// STORE/LOCK                  flock(2) held by the one writer
/// STORE/tables/NAME/manifest.json
/// STORE/tables/NAME/data/*.seg
/// ```
/// Commit protocol (DESIGN.md): write new segments, fsync each, fsync `data/`; write `manifest.json.tmp`,
/// fsync it, rename it over `manifest.json`, fsync the table directory; then remove replaced segments.
/// Opening a store for writing removes what an interrupted commit left behind and reports it.
public final class Store: @unchecked Sendable {
    public enum Mode: Sendable { case readOnly, readWrite }

    public let path: String
    public let mode: Mode
    public let recovery: RecoveryReport
    private let lock: Mutex<Void>
    private let readers = Mutex<[String: SegmentReader]>([:])
    /// The last parsed manifest of each table with the bytes it was parsed from: a query reads the manifest file
    /// each time (another process may have committed), and parsing it cost more than a filtered count of 100M rows'
    /// amounts does; the same bytes give the same manifest.
    private let parsedManifests = Mutex<[String: (bytes: [UInt8], manifest: Manifest)]>([:])
    /// Each table's readers for the manifest last asked about (its version and segment files): a query asks for them
    /// every time, and building the list (a path and a dictionary look-up per segment) was a sixth of a small query.
    private let readerLists = Mutex<[String: (version: Int, files: [String], readers: [SegmentReader])]>([:])
    /// Each table's manifest and readers with the stamp of the manifest file they came from, kept while that stamp
    /// says it was written by a commit of that version (see ``snapshot(_:)``).
    private let current = Mutex<[String: (path: String, stamp: FileStamp, manifest: Manifest, readers: [SegmentReader])]>([:])
    private let keyMaps = Mutex<[String: (version: Int, map: KeyMap, values: [Int64])]>([:])
    // The writer lock lives as long as the store; ~Copyable values cannot sit in a class property that is
    // optional, so it is boxed.
    private let writerLock: WriterLockBox?

    static let markerName = "seam-store"
    static let markerText = "seam store format 1\n"

    /// Opens (and with `create`, makes) the store at `path`. `.readWrite` takes the writer lock and recovers.
    public init(path: String, mode: Mode = .readWrite, create: Bool = false) throws(StorageError) {
        self.path = path
        self.mode = mode
        self.lock = Mutex(())
        let marker = path + "/" + Store.markerName
        if !FileIO.exists(marker) {
            guard create else { throw StorageError(.notFound, "no Seam store here (run `seam generate` or ingest first)", file: path) }
            try FileIO.makeDirectory(path + "/tables")
            try FileIO.writeNew(marker + ".tmp", Array(Store.markerText.utf8))
            try FileIO.sync(marker + ".tmp")
            try FileIO.rename(marker + ".tmp", marker)
            try FileIO.sync(path, directory: true)
        }
        if mode == .readWrite {
            writerLock = WriterLockBox(try FileLock(path: path + "/LOCK"))
            recovery = try Store.recover(path)
        } else {
            writerLock = nil
            recovery = RecoveryReport()
        }
    }

    func tableDir(_ name: String) -> String { path + "/tables/" + name }
    func manifestPath(_ name: String) -> String { tableDir(name) + "/manifest.json" }

    /// Names of all tables, sorted.
    public func tableNames() throws(StorageError) -> [String] {
        try FileIO.list(path + "/tables").filter { FileIO.exists(manifestPath($0)) }
    }

    /// The current manifest of a table.
    public func manifest(_ table: String) throws(StorageError) -> Manifest {
        try stampedManifest(table).manifest
    }

    /// The current manifest of a table and the stamp of the file it was read from.
    private func stampedManifest(_ table: String) throws(StorageError) -> (manifest: Manifest, stamp: FileStamp?) {
        let p = manifestPath(table)
        let (bytes, stamp) = try manifestBytes(p, table)
        // Compared eight bytes at a time: `==` on the arrays went byte by byte, more than the rest of the look-up.
        if let hit = parsedManifests.withLock({ $0[p] }),
            hit.bytes.withUnsafeBytes({ a in bytes.withUnsafeBytes { b in StringSpans.equal(a, b) } })
        {
            return (hit.manifest, stamp)
        }
        let m = try Manifest.parse(bytes, path: p)
        parsedManifests.withLock { $0[p] = (bytes, m) }
        return (m, stamp)
    }

    /// The current manifest of a table and its segments' readers (see ``readers(_:)``).
    ///
    /// A statement asks for them every time, as another process may have committed since; reading and comparing the
    /// manifest file was a tenth of a filtered count over 10M rows (five system calls, an array, a byte compare and
    /// the look-ups around them). So when the file at the manifest's path has the very stamp (inode, size, times) of
    /// the one last read, and that file's modification time carries its version in the nanoseconds (as ``publish``
    /// writes it), the manifest and readers of last time are returned after one stat. A manifest file written
    /// otherwise (by hand, or by a file system without nanosecond times) is read every time.
    public func snapshot(_ table: String) throws(StorageError) -> (manifest: Manifest, readers: [SegmentReader]) {
        if let c = current.withLock({ $0[table] }), FileIO.stamp(c.path) == c.stamp {
            return (c.manifest, c.readers)
        }
        let (m, stamp) = try stampedManifest(table)
        let r = try readers(m)
        if let stamp, stamp.modifiedNanoseconds == Store.stampNanoseconds(m.version) {
            let p = manifestPath(table)
            current.withLock { c in
                if c[table].map({ m.version >= $0.manifest.version }) ?? true { c[table] = (p, stamp, m, r) }
            }
        }
        return (m, r)
    }

    /// The nanoseconds of a manifest's modification time: its version, which no earlier manifest of the table had.
    static func stampNanoseconds(_ version: Int) -> Int { version % 1_000_000_000 }

    /// The manifest file's bytes. Whether the file exists is asked only when the read fails: a query reads the
    /// manifest each time, and asking first was a system call per query.
    private func manifestBytes(_ p: String, _ table: String) throws(StorageError) -> (bytes: [UInt8], stamp: FileStamp?) {
        do {
            return try FileIO.readAllStamped(p)
        } catch {
            if FileIO.exists(p) { throw error }
            throw StorageError(.notFound, "no table named '\(table)'", file: path)
        }
    }

    /// Creates an empty table (version 0). Creating an existing table with the same schema and layout is a no-op.
    public func createTable(_ name: String, schema: Schema, layout: TableLayout = TableLayout()) throws(StorageError) {
        try requireWritable()
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else {
            throw StorageError(.invalidArgument, "table name '\(name)' must be letters, digits and _")
        }
        if FileIO.exists(manifestPath(name)) {
            let m = try manifest(name)
            guard m.schema == schema, m.layout == layout else {
                throw StorageError(.invalidArgument, "table '\(name)' exists with another schema or layout")
            }
            return
        }
        try FileIO.makeDirectory(tableDir(name) + "/data")
        let m = Manifest(table: name, version: 0, schema: schema, layout: layout, segments: [])
        try publish(m, faults: .none)
    }

    /// Open readers for the segments of a manifest (cached: a block's checksum is checked once per process).
    ///
    /// The cache follows each table's newest manifest asked about: readers of segments it no longer lists (a
    /// compaction replaced and removed them) leave the cache, so their mappings, and the disk space of their removed
    /// files, go when the last statement holding them ends. A manifest older than that gets readers that are not
    /// cached (its replaced files may be gone already: hold readers with the manifest, as a statement's catalog does).
    public func readers(_ m: Manifest) throws(StorageError) -> [SegmentReader] {
        let newest = readerLists.withLock { $0[m.table] }
        if let hit = newest, hit.version == m.version, hit.files.elementsEqual(m.segments.lazy.map(\.file)) {
            return hit.readers
        }
        let current = newest.map { m.version >= $0.version } ?? true
        let dir = tableDir(m.table) + "/"
        var out: [SegmentReader] = []
        for s in m.segments {
            let full = dir + s.file
            if let r = readers.withLock({ $0[full] }) {
                out.append(r)
                continue
            }
            let r = try SegmentReader(path: full)
            guard r.rowCount == s.rows, r.schema == m.schema else {
                throw StorageError(.corrupt, "segment holds \(r.rowCount) rows of another shape than the manifest says", file: full)
            }
            if current { readers.withLock { $0[full] = r } }
            out.append(r)
        }
        if current {
            let listed = Set(m.segments.map { dir + $0.file })
            readers.withLock { cache in
                for path in cache.keys.filter({ $0.hasPrefix(dir) && !listed.contains($0) }) { cache[path] = nil }
            }
            readerLists.withLock { $0[m.table] = (m.version, m.segments.map(\.file), out) }
        }
        return out
    }

    /// All rows of a table in segment order (tests, small tables, exports). With `mapKeys` (the default) a
    /// ``KeyMap`` column is read through its mapping table; without, the stored values come back.
    public func readAll(_ table: String, columns: [String]? = nil, mapKeys: Bool = true) throws(StorageError) -> Chunk {
        let m = try manifest(table)
        let names = columns ?? m.schema.fields.map(\.name)
        var idx: [Int] = []
        for n in names {
            guard let i = m.schema.index(of: n) else { throw StorageError(.invalidArgument, "no column '\(n)' in \(table)") }
            idx.append(i)
        }
        var builders = idx.map { ColumnBuilder(m.schema[$0].type) }
        let mapped = m.layout.keyMap.flatMap { km in mapKeys ? km : nil }.flatMap { km in names.firstIndex(of: km.column).map { (k: $0, km: km) } }
        let map = try mapped.map { x throws(StorageError) in try denseKeyMap(x.km) }
        for r in try readers(m) {
            for (k, c) in idx.enumerated() {
                for v in try r.readColumn(c) {
                    if let map, mapped?.k == k {
                        for row in 0..<v.count {
                            guard case .bigint(let key) = v.value(at: row), key >= 0, key < map.count, map[Int(key)] != Int64.min else {
                                builders[k].appendNull()
                                continue
                            }
                            builders[k].append(int64: map[Int(key)])
                        }
                        continue
                    }
                    for row in 0..<v.count { builders[k].append(v.value(at: row)) }
                }
            }
        }
        return Chunk(schema: Schema(idx.map { m.schema[$0] }), columns: builders.map { $0.finish() })
    }

    /// The mapping of a ``KeyMap`` as a dense array: index = key, value = mapped key or `Int64.min` for NULL.
    /// Cached per version of the mapping table, so every reader sees a new mapping as soon as it is committed.
    public func denseKeyMap(_ km: KeyMap) throws(StorageError) -> [Int64] {
        guard FileIO.exists(manifestPath(km.table)) else { return [] }
        let m = try manifest(km.table)
        if let hit = keyMaps.withLock({ $0[km.table] }), hit.version == m.version, hit.map.from == km.from, hit.map.to == km.to {
            return hit.values
        }
        let c = try readAll(km.table, columns: [km.from, km.to])
        guard c.columns[0].type == .bigint, c.columns[1].type == .bigint else {
            throw StorageError(.invalidArgument, "key map columns \(km.table).\(km.from) and .\(km.to) must be BIGINT")
        }
        var values: [Int64] = []
        let (fromColumn, toColumn) = (c.columns[0], c.columns[1])
        fromColumn.withValues(Int64.self) { fromValues in
            toColumn.withValues(Int64.self) { toValues in
                for row in 0..<c.rowCount where !fromColumn.isNull(row) {
                    let from = fromValues[row]
                    guard from >= 0, from < 1 << 32 else { continue }
                    if Int(from) >= values.count { values.append(contentsOf: repeatElement(Int64.min, count: Int(from) + 1 - values.count)) }
                    // The last row of a key is its mapping (a table may append a key's new mapping; NULL maps to nothing).
                    values[Int(from)] = toColumn.isNull(row) ? Int64.min : toValues[row]
                }
            }
        }
        keyMaps.withLock { $0[km.table] = (m.version, km, values) }
        return values
    }

    /// Appends rows to a table in one atomic commit.
    @discardableResult
    public func append(
        _ chunk: Chunk, to table: String, options: SegmentOptions = SegmentOptions(), faults: CommitFaults = .none
    ) throws(StorageError) -> CommitResult {
        try replace(in: table, removing: [], adding: [AppendRows(chunk)], options: options, faults: faults)
    }

    /// Appends the rows of several chunks (all of them, or the listed rows of each) in one atomic commit, gathered
    /// straight into the new segments.
    @discardableResult
    public func append(
        _ parts: [AppendRows], to table: String, options: SegmentOptions = SegmentOptions(), faults: CommitFaults = .none
    ) throws(StorageError) -> CommitResult {
        try replace(in: table, removing: [], adding: parts, options: options, faults: faults)
    }

    /// Removes the named segments and adds `chunk`'s rows in one atomic commit (appends, compaction, rewrites).
    @discardableResult
    public func replace(
        in table: String, removing: [String], adding chunk: Chunk?, options: SegmentOptions = SegmentOptions(),
        faults: CommitFaults = .none
    ) throws(StorageError) -> CommitResult {
        try replace(in: table, removing: removing, adding: chunk.map { [AppendRows($0)] } ?? [], options: options, faults: faults)
    }

    func replace(
        in table: String, removing: [String], adding parts: [AppendRows], options: SegmentOptions, faults: CommitFaults
    ) throws(StorageError) -> CommitResult {
        try requireWritable()
        return try lock.withLock { _ throws(StorageError) -> CommitResult in
            var m = try manifest(table)
            if parts.contains(where: { $0.chunk.schema != m.schema }) {
                throw StorageError(.invalidArgument, "rows do not match the schema of '\(table)'")
            }
            let removeSet = Set(removing)
            for r in removing where !m.segments.contains(where: { $0.file == r }) {
                throw StorageError(.invalidArgument, "segment \(r) is not part of '\(table)'")
            }
            // Encoding is compute-bound: segments are gathered and encoded on every core, each encoded as soon as it
            // is gathered (its columns then go).
            let pieces = try TableWriter.eachPiece(parts, layout: m.layout) { piece in
                (partition: piece.partition, rows: piece.chunk.rowCount, bytes: SegmentWriter.encode(piece.chunk, options: options))
            }
            let version = m.version + 1
            let dataDir = tableDir(table) + "/data"
            var added: [SegmentEntry] = []
            for (i, (_, _, bytes)) in pieces.enumerated() {
                let name = "data/s\(version)-\(i)-\(randomTag()).seg"
                let full = tableDir(table) + "/" + name
                try step(faults, .writeSegment(i)) { () throws(StorageError) in try FileIO.writeNew(full, bytes) }
                try step(faults, .syncSegment(i)) { () throws(StorageError) in try FileIO.sync(full) }
                added.append(SegmentEntry(file: name, rows: pieces[i].rows, bytes: bytes.count, partition: pieces[i].partition))
            }
            try step(faults, .syncDataDirectory) { () throws(StorageError) in try FileIO.sync(dataDir, directory: true) }
            m.version = version
            m.segments = m.segments.filter { !removeSet.contains($0.file) } + added
            try publish(m, faults: faults)
            try step(faults, .removeReplaced) { () throws(StorageError) in
                for r in removing { try FileIO.remove(tableDir(table) + "/" + r) }
            }
            return CommitResult(table: table, version: version, segmentsAdded: added.count, rowsAdded: parts.reduce(0) { $0 + $1.count })
        }
    }

    /// Writes a manifest to a temporary name, fsyncs it and renames it into place.
    private func publish(_ m: Manifest, faults: CommitFaults) throws(StorageError) {
        let final = manifestPath(m.table)
        let tmp = final + ".tmp"
        try? FileIO.remove(tmp)
        try step(faults, .writeManifest) { () throws(StorageError) in
            try FileIO.writeNew(tmp, m.serialized())
            // The version in the nanoseconds of its modification time tells this manifest file from every other of
            // the table even when it reuses a freed inode in the same clock tick (see ``snapshot(_:)``). Only a hint:
            // where the file system refuses it, the commit stands and readers read the manifest every time.
            FileIO.setTimes(tmp, nanoseconds: Store.stampNanoseconds(m.version))
        }
        try step(faults, .syncManifest) { () throws(StorageError) in try FileIO.sync(tmp) }
        try step(faults, .renameManifest) { () throws(StorageError) in try FileIO.rename(tmp, final) }
        try step(faults, .syncTableDirectory) { () throws(StorageError) in try FileIO.sync(tableDir(m.table), directory: true) }
    }

    private func step(
        _ faults: CommitFaults, _ s: CommitStep, _ body: () throws(StorageError) -> Void
    ) throws(StorageError) {
        do { try faults.hook(s, .before) } catch { throw StorageError(.io, "commit interrupted before \(s): \(error)") }
        try body()
        do { try faults.hook(s, .after) } catch { throw StorageError(.io, "commit interrupted after \(s): \(error)") }
    }

    private func requireWritable() throws(StorageError) {
        guard mode == .readWrite else { throw StorageError(.invalidArgument, "store is open read-only", file: path) }
    }

    /// Removes segment files no manifest lists and unfinished manifests. Runs under the writer lock.
    static func recover(_ path: String) throws(StorageError) -> RecoveryReport {
        var report = RecoveryReport()
        let tablesDir = path + "/tables"
        guard FileIO.isDirectory(tablesDir) else { return report }
        for t in try FileIO.list(tablesDir) {
            let dir = tablesDir + "/" + t
            guard FileIO.isDirectory(dir) else { continue }
            for f in try FileIO.list(dir) where f.hasSuffix(".tmp") {
                try FileIO.remove(dir + "/" + f)
                report.removedFiles.append("tables/\(t)/\(f)")
            }
            let manifestFile = dir + "/manifest.json"
            // A table whose first manifest never landed does not exist yet: its data files are all orphans.
            let live: Set<String>
            if FileIO.exists(manifestFile) {
                live = Set(try Manifest.parse(try FileIO.readAll(manifestFile), path: manifestFile).segments.map(\.file))
            } else {
                live = []
            }
            let dataDir = dir + "/data"
            guard FileIO.isDirectory(dataDir) else { continue }
            for f in try FileIO.list(dataDir) where !live.contains("data/" + f) {
                try FileIO.remove(dataDir + "/" + f)
                report.removedFiles.append("tables/\(t)/data/\(f)")
            }
            if !report.removedFiles.isEmpty { try FileIO.sync(dataDir, directory: true) }
        }
        return report
    }
}

final class WriterLockBox: @unchecked Sendable {
    let lock: FileLock
    init(_ lock: consuming FileLock) { self.lock = lock }
}

private func randomTag() -> String {
    let v = UInt32.random(in: 0...UInt32.max)
    let s = String(v, radix: 16)
    return String(repeating: "0", count: 8 - s.count) + s
}

/// Rows to append: all rows of a chunk, or the listed ones (in that order).
public struct AppendRows: Sendable {
    public var chunk: Chunk
    public var rows: [Int32]?
    public init(_ chunk: Chunk, rows: [Int32]? = nil) {
        precondition(rows?.allSatisfy { $0 >= 0 && Int($0) < chunk.rowCount } ?? true, "append rows out of range")
        self.chunk = chunk
        self.rows = rows
    }
    public var count: Int { rows?.count ?? chunk.rowCount }
}
