public import SeamColumnar

/// What the binder needs to know about tables: their names and schemas. The engine implements it over a store.
public protocol Catalog: Sendable {
    /// Table names, sorted.
    func tableNames() -> [String]
    /// The schema of `table` (exact name), or `nil` when there is no such table.
    func schema(of table: String) -> Schema?
}
