public import SeamColumnar
public import SeamSQL
public import SeamStorage
import Synchronization

/// The tables of a store as the binder sees them. Manifests are read once per statement (a snapshot), and their
/// segments opened with them: the binder and the executor see the same segments even while a writer commits, and a
/// compaction that removes segment files meanwhile leaves them readable (mapped) until the statement ends.
public final class StoreCatalog: Catalog, @unchecked Sendable {
    public let store: Store
    /// Per table: the manifest, and its segments' readers or the error opening them met (a damaged segment fails
    /// the statement when it reads the table, with the file and offset, not its binding as an unknown table).
    private let snapshots = Mutex<[String: (manifest: Manifest, readers: Result<[SegmentReader], any Error>)]>([:])

    public init(store: Store) {
        self.store = store
    }

    public func tableNames() -> [String] {
        ((try? store.tableNames()) ?? []).sorted()
    }

    public func schema(of table: String) -> Schema? {
        (try? manifest(table))?.schema
    }

    /// The manifest of `table` as of this statement's first look at it.
    func manifest(_ table: String) throws -> Manifest {
        try snapshot(table).manifest
    }

    /// Readers of the segments of ``manifest(_:)``, opened with it.
    func readers(_ table: String) throws -> [SegmentReader] {
        try snapshot(table).readers.get()
    }

    private func snapshot(_ table: String) throws -> (manifest: Manifest, readers: Result<[SegmentReader], any Error>) {
        if let s = snapshots.withLock({ $0[table] }) { return s }
        if let fresh = try? store.snapshot(table) {
            snapshots.withLock { $0[table] = (fresh.manifest, .success(fresh.readers)) }
            return (fresh.manifest, .success(fresh.readers))
        }
        // The manifest or a segment could not be had: again step by step, for the error to report and the retry.
        var m = try store.manifest(table)
        var readers = Result { () throws -> [SegmentReader] in try store.readers(m) }
        if case .failure = readers, let newer = try? store.manifest(table), newer.version != m.version {
            // A commit between reading the manifest and opening its segments may have removed some: its manifest
            // names the files there are.
            m = newer
            readers = Result { () throws -> [SegmentReader] in try store.readers(m) }
        }
        snapshots.withLock { $0[table] = (m, readers) }
        return (m, readers)
    }
}
