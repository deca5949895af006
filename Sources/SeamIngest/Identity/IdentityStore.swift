public import SeamStorage
import SeamColumnar

/// Loads and saves the identity graph and its resolution in the store's `identities`, `identity_links` and
/// `identity_decisions` tables.
public enum IdentityStore {
    public static func load(_ store: Store) throws(StorageError) -> IdentityGraph { try loadWithCustomers(store).graph }

    /// The graph, and the customer and status each node has in the store (decisions left empty): what the next
    /// commit's changes are measured against.
    static func loadWithCustomers(_ store: Store) throws(StorageError) -> (graph: IdentityGraph, stored: Resolution) {
        let ids = try store.readAll("identities")
        var nodes: [IdentityGraph.Node] = []
        nodes.reserveCapacity(ids.rowCount)
        var stored = Resolution(customer: [], status: [], decisions: [])
        // An ingest's intermediate commits append the rows of changed nodes and links; the last row of an id is
        // its current one (a whole rewrite at the end of the ingest leaves one row each).
        var order: [(Int64, Int)] = []
        for row in 0..<ids.rowCount {
            guard case .bigint(let n) = ids.columns[0].value(at: row) else { continue }
            order.append((n, row))
        }
        order = lastPerID(order)
        for (k, (n, row)) in order.enumerated() {
            guard n == Int64(k + 1) else { throw StorageError(.corrupt, "identities: node ids are not dense (expected \(k + 1), found \(n))") }
            guard case .varchar(let t) = ids.columns[1].value(at: row), let type = IdentifierType(rawValue: t),
                case .varchar(let v) = ids.columns[2].value(at: row),
                case .timestamp(let first) = ids.columns[4].value(at: row), case .timestamp(let last) = ids.columns[5].value(at: row),
                case .varchar(let source) = ids.columns[6].value(at: row)
            else { throw StorageError(.corrupt, "identities: row for node \(n) is incomplete") }
            nodes.append(.init(id: Identifier(type, v), firstSeen: first, lastSeen: last, source: source))
            if case .bigint(let c) = ids.columns[3].value(at: row) { stored.customer.append(c) } else { stored.customer.append(0) }
            if case .varchar(let st) = ids.columns[7].value(at: row), let status = Resolution.Status(rawValue: st) {
                stored.status.append(status)
            } else {
                stored.status.append(.ok)
            }
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
        let current = lastPerID(links.indices.map { (links[$0].0, $0) })
        for (k, (id, _)) in current.enumerated() where id != Int64(k) {
            throw StorageError(.corrupt, "identity_links: link ids are not dense (expected \(k), found \(id))")
        }
        return (IdentityGraph(nodes: nodes, links: current.map { links[$0.1].1 }), stored)
    }

    /// (id, position) pairs in read order → the last pair of each id, by id.
    static func lastPerID(_ pairs: [(Int64, Int)]) -> [(Int64, Int)] {
        let sorted = pairs.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
        var out: [(Int64, Int)] = []
        out.reserveCapacity(sorted.count)
        for p in sorted {
            if let last = out.last, last.0 == p.0 { out[out.count - 1] = p } else { out.append(p) }
        }
        return out
    }

    /// Writes the graph (nodes with their customers, links) and the decisions, one commit per table, replacing what
    /// the tables held. `identities` goes last: it is the key map readers use, so it switches them to the new
    /// resolution at once.
    public static func save(_ graph: IdentityGraph, _ res: Resolution, to store: Store, faults: CommitFaults = .none) throws(StorageError) {
        let all = Changes(graph: graph, resolution: res, nodes: Array(graph.nodes.indices), links: Array(graph.links.indices))
        try IngestTables.replaceAll(store, "identity_links", all.links, faults: faults)
        try IngestTables.replaceAll(store, "identity_decisions", all.decisions, faults: faults)
        try IngestTables.replaceAll(store, "identities", all.nodes, faults: faults)
    }

    /// Appends the rows of changed nodes and links (their whole current state: the last row of an id is the one
    /// that counts) and replaces the decisions, in the same order as ``save(_:_:to:faults:)``.
    static func append(_ changes: Changes, to store: Store, faults: CommitFaults = .none) throws(StorageError) {
        if changes.links.rowCount > 0 { try store.append(changes.links, to: "identity_links", faults: faults) }
        try IngestTables.replaceAll(store, "identity_decisions", changes.decisions, faults: faults)
        if changes.nodes.rowCount > 0 { try store.append(changes.nodes, to: "identities", faults: faults) }
    }

    /// The rows of some nodes and links (positions in the graph) and of all decisions.
    struct Changes: Sendable {
        var nodes: Chunk
        var links: Chunk
        var decisions: Chunk

        init(graph: IdentityGraph, resolution res: Resolution, nodes nodeList: [Int], links linkList: [Int]) {
            // Typed appends, no Value per cell.
            var links = RowBuilder(CanonicalTables.identityLinks)
            var list: [UInt8] = []
            for i in linkList {
                let l = graph.links[i]
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
            self.links = links.finish()
            var dec = RowBuilder(CanonicalTables.identityDecisions)
            for d in res.decisions {
                dec.add([.varchar(d.kind), .bigint(d.node), d.other == 0 ? .null : .bigint(d.other), d.link < 0 ? .null : .bigint(Int64(d.link)), .varchar(d.reason)])
            }
            decisions = dec.finish()
            var ids = RowBuilder(CanonicalTables.identities)
            for i in nodeList {
                let n = graph.nodes[i]
                let status = i < res.status.count ? res.status[i].rawValue : Resolution.Status.ok.rawValue
                ids.columns[0].append(int64: Int64(i + 1))
                ids.columns[1].append(string: n.id.type.rawValue)
                ids.columns[2].append(string: n.id.value)
                ids.columns[3].append(int64: res.storedCustomer(ofNodeAt: i))
                ids.columns[4].append(int64: n.firstSeen)
                ids.columns[5].append(int64: n.lastSeen)
                ids.columns[6].append(string: n.source)
                ids.columns[7].append(string: status)
            }
            nodes = ids.finish()
        }
    }
}
