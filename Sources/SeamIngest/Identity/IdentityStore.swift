public import SeamStorage
import SeamColumnar

/// Loads and saves the identity graph and its resolution in the store's `identities`, `identity_links` and
/// `identity_decisions` tables.
public enum IdentityStore {
    public static func load(_ store: Store) throws(StorageError) -> IdentityGraph {
        let ids = try store.readAll("identities")
        var nodes: [IdentityGraph.Node] = []
        nodes.reserveCapacity(ids.rowCount)
        var order: [(Int64, Int)] = []
        for row in 0..<ids.rowCount {
            guard case .bigint(let n) = ids.columns[0].value(at: row) else { continue }
            order.append((n, row))
        }
        order.sort { $0.0 < $1.0 }
        for (k, (n, row)) in order.enumerated() {
            guard n == Int64(k + 1) else { throw StorageError(.corrupt, "identities: node ids are not dense (expected \(k + 1), found \(n))") }
            guard case .varchar(let t) = ids.columns[1].value(at: row), let type = IdentifierType(rawValue: t),
                case .varchar(let v) = ids.columns[2].value(at: row),
                case .timestamp(let first) = ids.columns[4].value(at: row), case .timestamp(let last) = ids.columns[5].value(at: row),
                case .varchar(let source) = ids.columns[6].value(at: row)
            else { throw StorageError(.corrupt, "identities: row for node \(n) is incomplete") }
            nodes.append(.init(id: Identifier(type, v), firstSeen: first, lastSeen: last, source: source))
        }
        let l = try store.readAll("identity_links")
        var links: [(Int64, IdentityGraph.Link)] = []
        for row in 0..<l.rowCount {
            guard case .bigint(let id) = l.columns[0].value(at: row), case .varchar(let list) = l.columns[1].value(at: row),
                case .timestamp(let first) = l.columns[2].value(at: row), case .timestamp(let last) = l.columns[3].value(at: row),
                case .bigint(let records) = l.columns[4].value(at: row), case .varchar(let loc) = l.columns[5].value(at: row)
            else { throw StorageError(.corrupt, "identity_links: row \(row) is incomplete") }
            let members = list.split(separator: " ").compactMap { Int64($0) }
            links.append((id, .init(nodes: members, firstSeen: first, lastSeen: last, records: records, location: loc)))
        }
        links.sort { $0.0 < $1.0 }
        return IdentityGraph(nodes: nodes, links: links.map(\.1))
    }

    /// Writes the graph (nodes with their customers, links) and the decisions, one commit per table.
    /// `identities` goes last: it is the key map readers use, so it switches them to the new resolution at once.
    public static func save(_ graph: IdentityGraph, _ res: Resolution, to store: Store, faults: CommitFaults = .none) throws(StorageError) {
        // Typed appends, no Value per cell: these tables are rewritten whole at every commit.
        var links = RowBuilder(CanonicalTables.identityLinks)
        var list: [UInt8] = []
        for (i, l) in graph.links.enumerated() {
            links.columns[0].append(int64: Int64(i))
            list.removeAll(keepingCapacity: true)
            for (k, n) in l.nodes.enumerated() {
                if k > 0 { list.append(0x20) }
                list.append(contentsOf: String(n).utf8)  // a small string: no allocation
            }
            list.withUnsafeBytes { links.columns[1].append(utf8: $0) }
            links.columns[2].append(int64: l.firstSeen)
            links.columns[3].append(int64: l.lastSeen)
            links.columns[4].append(int64: l.records)
            links.columns[5].append(string: l.location)
        }
        try IngestTables.replaceAll(store, "identity_links", links.finish(), faults: faults)
        var dec = RowBuilder(CanonicalTables.identityDecisions)
        for d in res.decisions {
            dec.add([.varchar(d.kind), .bigint(d.node), d.other == 0 ? .null : .bigint(d.other), d.link < 0 ? .null : .bigint(Int64(d.link)), .varchar(d.reason)])
        }
        try IngestTables.replaceAll(store, "identity_decisions", dec.finish(), faults: faults)
        var ids = RowBuilder(CanonicalTables.identities)
        for (i, n) in graph.nodes.enumerated() {
            let c = i < res.customer.count ? res.customer[i] : Int64(i + 1)
            let status = i < res.status.count ? res.status[i].rawValue : Resolution.Status.ok.rawValue
            ids.columns[0].append(int64: Int64(i + 1))
            ids.columns[1].append(string: n.id.type.rawValue)
            ids.columns[2].append(string: n.id.value)
            ids.columns[3].append(int64: c == 0 ? nil : c)
            ids.columns[4].append(int64: n.firstSeen)
            ids.columns[5].append(int64: n.lastSeen)
            ids.columns[6].append(string: n.source)
            ids.columns[7].append(string: status)
        }
        try IngestTables.replaceAll(store, "identities", ids.finish(), faults: faults)
    }
}
