import Foundation
public import SeamStorage
import SeamColumnar

/// The identity operations behind `seam identity …`: explain, split, rebuild, evaluate.
public enum IdentityService {
    /// Re-runs resolution over all history under the rules in `STORE/identity.yaml` and rewrites `identities`
    /// and `customers`. Returns (customers before, customers after).
    @discardableResult
    public static func rebuild(_ store: Store) throws -> (before: Int, after: Int) {
        try IngestTables.ensure(store)
        let rules = try IdentityRules.load(storePath: store.path)
        let graph = try IdentityStore.load(store)
        let before = Set(try store.denseKeyMap(IngestTables.customerKeyMap).filter { $0 != Int64.min }).count
        let res = graph.resolve(rules)
        try IdentityStore.save(graph, res, to: store)
        try Profiles.rebuild(store)
        return (before, Set(res.customer.filter { $0 != 0 }).count)
    }

    /// Detaches `identifier` from `customer` (it and the records it alone tied in become a customer of their own)
    /// and records the split as a rule, so later ingests and rebuilds keep it.
    public static func split(_ store: Store, customer: Int64, identifier: Identifier) throws -> Int64 {
        let graph = try IdentityStore.load(store)
        guard let node = graph.node(identifier) else { throw IngestError("no identifier \(identifier) in the store") }
        let current = try currentCustomer(store, node: node)
        guard current == customer else {
            throw IngestError("\(identifier) belongs to customer \(current.map(String.init) ?? "none"), not \(customer)")
        }
        var rules = try IdentityRules.load(storePath: store.path)
        if !rules.detached.contains(identifier.description) { rules.detached.append(identifier.description) }
        try rules.save(storePath: store.path)
        try rebuild(store)
        return node
    }

    static func currentCustomer(_ store: Store, node: Int64) throws -> Int64? {
        let map = try store.denseKeyMap(IngestTables.customerKeyMap)
        guard node < map.count, map[Int(node)] != Int64.min else { return nil }
        return map[Int(node)]
    }

    /// Which identifiers and records joined a customer, and every merge that was refused or held back and why.
    /// `query` is a customer id or an identifier (`type:value`, or a bare value looked up in every type).
    public static func explain(_ store: Store, _ query: String) throws -> String {
        let graph = try IdentityStore.load(store)
        let ids = try store.readAll("identities", columns: ["node_id", "customer_id", "status"])
        var customerOf: [Int64: Int64] = [:], status: [Int64: String] = [:]
        for row in 0..<ids.rowCount {
            guard case .bigint(let n) = ids.columns[0].value(at: row) else { continue }
            // The last row of a node is its current one (an interrupted ingest leaves appended rows).
            if case .bigint(let c) = ids.columns[1].value(at: row) { customerOf[n] = c } else { customerOf[n] = nil }
            if case .varchar(let s) = ids.columns[2].value(at: row) { status[n] = s } else { status[n] = nil }
        }
        var target: Int64?
        var out = ""
        if let c = Int64(query), customerOf.values.contains(c) {
            target = c
        } else {
            let candidates: [Identifier] =
                Identifier(parsing: query).map { [$0] }
                ?? IdentifierType.allCases.map { Identifier($0, $0 == .email ? Text.email(query) : query) }
            guard let id = candidates.first(where: { graph.node($0) != nil }), let n = graph.node(id) else {
                throw IngestError("'\(query)' is neither a customer id nor a known identifier")
            }
            out += "\(id) is node \(n), status \(status[n] ?? "ok")\n"
            target = customerOf[n]
            if target == nil { out += "it identifies no customer (\(status[n] ?? "unresolved"))\n" }
        }
        let decisions = try store.readAll("identity_decisions")
        func decisionLines(_ nodes: Set<Int64>) -> [String] {
            var lines: [String] = []
            for row in 0..<decisions.rowCount {
                guard case .varchar(let kind) = decisions.columns[0].value(at: row), case .bigint(let n) = decisions.columns[1].value(at: row)
                else { continue }
                var other: Int64?
                if case .bigint(let o) = decisions.columns[2].value(at: row) { other = o }
                guard nodes.contains(n) || other.map(nodes.contains) == true else { continue }
                var where_ = ""
                if case .bigint(let l) = decisions.columns[3].value(at: row), Int(l) < graph.links.count { where_ = " (first seen at \(graph.links[Int(l)].location))" }
                guard case .varchar(let reason) = decisions.columns[4].value(at: row) else { continue }
                let who = graph.identifier(n).description + (other.map { " + " + graph.identifier($0).description } ?? "")
                lines.append("  \(kind): \(who): \(reason)\(where_)")
            }
            return lines
        }
        guard let c = target else {
            let n = graph.node(Identifier(parsing: query) ?? Identifier(.email, query)) ?? 0
            return out + decisionLines([n]).joined(separator: "\n")
        }
        let members = customerOf.filter { $0.value == c }.keys.sorted()
        let memberSet = Set(members)
        out += "customer \(c): \(members.count) identifier(s)\n"
        for n in members {
            let node = graph.nodes[Int(n - 1)]
            out += "  \(node.id)  (node \(n), first seen \(Timestamp.format(node.firstSeen)) via \(node.source))\n"
        }
        out += "records that joined them:\n"
        var shown = 0
        for l in graph.links where l.nodes.contains(where: memberSet.contains) {
            if shown == 50 {
                out += "  …\n"
                break
            }
            out += "  \(l.location): " + l.nodes.map { graph.identifier($0).description }.joined(separator: " + ")
                + " (\(l.records) record(s), \(Timestamp.format(l.firstSeen)) – \(Timestamp.format(l.lastSeen)))\n"
            shown += 1
        }
        let d = decisionLines(memberSet)
        out += d.isEmpty ? "no merge was refused\n" : "held back:\n" + d.joined(separator: "\n") + "\n"
        return out
    }

    /// Pairwise scores of "same person" against the generator's truth (`truth/identifiers.csv`).
    public struct Scores: Sendable {
        public var identifiers = 0
        public var matched = 0
        public var truePairs = 0
        public var predictedPairs = 0
        public var correctPairs = 0
        public var precision: Double { predictedPairs == 0 ? 1 : Double(correctPairs) / Double(predictedPairs) }
        public var recall: Double { truePairs == 0 ? 1 : Double(correctPairs) / Double(truePairs) }
        /// True pairs whose identifiers the data connects at all (through any chain of records).
        public var linkablePairs = 0
        /// Recall over the pairs the data can support: what the rules and merge protection cost.
        public var linkableRecall: Double { linkablePairs == 0 ? 1 : Double(correctPairs) / Double(linkablePairs) }
        public var f1: Double { precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall) }
        /// Placeholder and till phones the truth says identify no one, and how many of them we merged into a customer.
        /// Truth identifiers that occur nowhere in the ingested data (left out of the pair counts).
        public var unseen = 0
        public var sharedInTruth = 0
        public var sharedMerged = 0
        /// Per identifier type: (in truth, not found in the store).
        public var missingByType: [String: (total: Int, missing: Int)] = [:]
        /// Customers whose identifiers belong to more than one person (wrong merges), for `explain`.
        public var mixedCustomers: [Int64] = []
    }

    public static func evaluate(_ store: Store, truthDir: String) throws -> Scores {
        let path = truthDir + "/identifiers.csv"
        guard let data = FileManager.default.contents(atPath: path) else { throw IngestError("\(path): cannot read") }
        let graph = try IdentityStore.load(store)
        let map = try store.denseKeyMap(IngestTables.customerKeyMap)
        var s = Scores()
        var cells: [Int64: [String: Int]] = [:]  // customer → person → count
        var persons: [String: Int] = [:]
        var nextSingleton: Int64 = -1
        // Evidence components: identifiers connected by any record at all, whatever the rules. Two identifiers
        // of one person in different components were never seen together, directly or through others: no
        // resolver can join them from this data (an anonymous browser that never logs in, say).
        var parent = Array(0..<(graph.nodes.count + 1))
        func find(_ x: Int) -> Int {
            var r = x
            while parent[r] != r { r = parent[r] }
            var c = x
            while parent[c] != r { (c, parent[c]) = (parent[c], r) }
            return r
        }
        for l in graph.links { for n in l.nodes.dropFirst() { parent[find(Int(n))] = find(Int(l.nodes[0])) } }
        var evidence: [String: Int] = [:]
        for (i, line) in data.split(separator: 0x0A).enumerated() where i > 0 {
            let f = String(decoding: line, as: UTF8.self).split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard f.count >= 3, let type = IdentifierType(rawValue: f[0]) else { continue }
            let id = Identifier(type, f[1])
            let node = graph.node(id)
            let customer = node.flatMap { n in Int(n) < map.count && map[Int(n)] != Int64.min ? map[Int(n)] : nil }
            if f[2].isEmpty {
                s.sharedInTruth += 1
                if let n = node, let c = customer, map.enumerated().contains(where: { $0.offset != Int(n) && $0.element == c }) {
                    s.sharedMerged += 1
                }
                continue
            }
            s.identifiers += 1
            s.missingByType[f[0], default: (0, 0)].total += 1
            if customer == nil { s.missingByType[f[0], default: (0, 0)].missing += 1 }
            // An identifier that never occurs in the ingested data cannot be resolved by anyone: it is scored
            // separately (``unseen``), not as a miss of resolution.
            guard node != nil else {
                s.unseen += 1
                continue
            }
            persons[f[2], default: 0] += 1
            evidence[f[2] + "|" + String(find(Int(node!))), default: 0] += 1
            let key: Int64
            if let c = customer {
                s.matched += 1
                key = c
            } else {
                key = nextSingleton  // unseen or unresolved: a cluster of its own
                nextSingleton -= 1
            }
            cells[key, default: [:]][f[2], default: 0] += 1
        }
        func pairs(_ n: Int) -> Int { n * (n - 1) / 2 }
        s.truePairs = persons.values.reduce(0) { $0 + pairs($1) }
        s.linkablePairs = evidence.values.reduce(0) { $0 + pairs($1) }
        s.mixedCustomers = cells.filter { $0.value.count > 1 }.keys.sorted()
        for (_, byPerson) in cells {
            s.predictedPairs += pairs(byPerson.values.reduce(0, +))
            s.correctPairs += byPerson.values.reduce(0) { $0 + pairs($1) }
        }
        return s
    }
}
