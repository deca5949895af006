public import SeamColumnar
public import SeamSQL
public import SeamStorage
import Synchronization

/// The tables of a store as the binder sees them. Manifests are read once per statement (a snapshot): the
/// binder and the executor see the same segments even while a writer commits.
public final class StoreCatalog: Catalog, @unchecked Sendable {
    public let store: Store
    private let manifests = Mutex<[String: Manifest]>([:])

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
        if let m = manifests.withLock({ $0[table] }) { return m }
        let m = try store.manifest(table)
        manifests.withLock { $0[table] = m }
        return m
    }
}
