import SeamKernels
#if canImport(Glibc)
import Glibc
#endif

/// The identity graph: every identifier ever seen (a node, with a stable id), and every distinct set of
/// identifiers seen together in one record (a link). Resolution turns nodes and links into customers.
///
/// Links are kept as distinct sets, so the graph grows with the number of identifiers, not of events. Resolution
/// always runs over the whole history in time order, so an incremental ingest and `seam identity rebuild` give
/// the same customers under the same rules.
public struct IdentityGraph: Sendable {
    public struct Node: Sendable {
        public var id: Identifier
        public var firstSeen: Int64
        public var lastSeen: Int64
        public var source: String
    }

    public struct Link: Sendable {
        /// Node ids, ascending.
        public var nodes: [Int64]
        public var firstSeen: Int64
        public var lastSeen: Int64
        public var records: Int64
        /// Where it was first seen (`file:line`).
        public var location: String
    }

    /// Node id n is `nodes[n - 1]`: ids are dense and start at 1.
    public private(set) var nodes: [Node] = []
    public private(set) var links: [Link] = []
    /// Identifier → position in `nodes`, and node set → position in `links`, by Hash64 (SipHash through
    /// `Hashable` was most of the cost of landing a record).
    var nodeIndex = HashIndex()
    var linkIndex = HashIndex()
    /// What changed since ``takeChanges()``: nodes and links at or past these counts are new; below them, the ones
    /// marked here were seen again (times or record counts moved). Commits write only these.
    var savedNodes = 0, savedLinks = 0
    var touchedNodes = BitSet(), touchedLinks = BitSet()
    /// What resolution reads of every node and link at each commit, kept flat beside `nodes` and `links` (reading
    /// those would copy each element, retaining its strings and arrays): each node's type priority, each link's
    /// nodes one after another (link i at `linkStarts[i]..<linkStarts[i + 1]`; a link's set never changes) and
    /// its first time.
    var nodePriority: [UInt8] = []
    var linkNodes: [Int64] = []
    var linkStarts: [Int] = [0]
    var linkFirstSeen: [Int64] = []
    /// Each node's value as UTF-8, one after another (node k ends at `nodeByteEnds[k]`): a known identifier is
    /// recognised by comparing bytes, with no String made or retained.
    var nodeBytes: [UInt8] = []
    var nodeByteEnds: [Int] = []
    /// The sorted, distinct node set of the record being observed (reused).
    var linkScratch: [Int64] = []

    public init() {}

    public init(nodes: [Node], links: [Link]) {
        self.nodes = nodes
        self.links = links
        (savedNodes, savedLinks) = (nodes.count, links.count)
        nodeIndex = HashIndex(minimumCapacity: nodes.count)
        linkIndex = HashIndex(minimumCapacity: links.count)
        for (i, n) in nodes.enumerated() {
            nodeIndex.insert(Self.hash(n.id), id: i)
            nodePriority.append(UInt8(n.id.type.priority))
            nodeBytes.append(contentsOf: n.id.value.utf8)
            nodeByteEnds.append(nodeBytes.count)
        }
        for (i, l) in links.enumerated() {
            linkIndex.insert(Self.hash(l.nodes), id: i)
            linkNodes.append(contentsOf: l.nodes)
            linkStarts.append(linkNodes.count)
            linkFirstSeen.append(l.firstSeen)
        }
    }

    static func hash(_ id: Identifier) -> UInt64 {
        var v = id.value
        return v.withUTF8 { hash(id.type, utf8: UnsafeRawBufferPointer($0)) }
    }

    /// The hash of an identifier of type `type` whose value has the UTF-8 bytes `utf8` (stored in no file: the graph's
    /// index only).
    static func hash(_ type: IdentifierType, utf8: UnsafeRawBufferPointer) -> UInt64 {
        Hash64.hash(utf8, seed: UInt64(type.priority))
    }

    static func hash(_ set: [Int64]) -> UInt64 {
        set.withUnsafeBytes { Hash64.hash($0, seed: 0x4C49_4E4B) }
    }

    func index(of id: Identifier, hash h: UInt64) -> Int? {
        nodeIndex.find(h) { nodes[$0].id == id }
    }

    public func node(_ id: Identifier) -> Int64? { index(of: id, hash: Self.hash(id)).map { Int64($0 + 1) } }
    public func identifier(_ node: Int64) -> Identifier { nodes[Int(node - 1)].id }

    /// An identifier as ``observe(_:bytes:ts:source:location:into:)`` takes it: its value's UTF-8 bytes in a shared
    /// byte list, and the hash the graph indexes it by (ingest's workers compute it, not the landing thread).
    struct FlatIdentifier: Sendable {
        var type: IdentifierType
        var hash: UInt64
        var bytes: Range<Int32>

        /// `id`, its value appended to `bytes`.
        init(_ id: Identifier, appendingTo bytes: inout [UInt8]) {
            let start = Int32(bytes.count)
            bytes.append(contentsOf: id.value.utf8)
            (type, hash, self.bytes) = (id.type, IdentityGraph.hash(id), start..<Int32(bytes.count))
        }

        /// An identifier of type `type` whose value is `utf8`, appended to `bytes`.
        init(_ type: IdentifierType, utf8: UnsafeRawBufferPointer, appendingTo bytes: inout [UInt8]) {
            let start = Int32(bytes.count)
            bytes.append(contentsOf: utf8)
            (self.type, hash, self.bytes) = (type, IdentityGraph.hash(type, utf8: utf8), start..<Int32(bytes.count))
        }
    }

    /// Adds what one record says: its identifiers (new ones get the next ids) and the set they form.
    /// Returns the node ids in the record's order.
    public mutating func observe(_ ids: [Identifier], ts: Int64, source: String, location: @autoclosure () -> String) -> [Int64] {
        var bytes: [UInt8] = []
        let flat = ids.map { FlatIdentifier($0, appendingTo: &bytes) }
        var out: [Int64] = []
        flat.withUnsafeBufferPointer { f in
            bytes.withUnsafeBytes { b in observe(f, bytes: b, ts: ts, source: source, location: location(), into: &out) }
        }
        return out
    }

    /// Starts loading the index slot of an identifier that ``observe(_:bytes:ts:source:location:into:)`` will look up
    /// a few records later. Mutating only so that a call on a class's property runs in place: a non-mutating call
    /// there copied the whole graph (a retain and release of each of its arrays) per call.
    @inline(__always)
    mutating func prefetch(_ id: FlatIdentifier) { nodeIndex.prefetch(id.hash) }

    /// ``observe(_:ts:source:location:)`` for identifiers given as hashes and UTF-8 bytes (as ingest's workers
    /// leave them): a known identifier is found without making a String, and `out` (the node ids, in the
    /// record's order) is reused from record to record.
    mutating func observe(
        _ ids: UnsafeBufferPointer<FlatIdentifier>, bytes: UnsafeRawBufferPointer, ts: Int64, source: String,
        location: @autoclosure () -> String, into out: inout [Int64]
    ) {
        out.removeAll(keepingCapacity: true)
        for id in ids {
            let value = UnsafeRawBufferPointer(rebasing: bytes[Int(id.bytes.lowerBound)..<Int(id.bytes.upperBound)])
            let priority = UInt8(id.type.priority)
            let found = nodeIndex.find(id.hash) { k in
                nodePriority[k] == priority && nodeValue(k) { $0.count == value.count && (value.isEmpty || memcmp($0.baseAddress!, value.baseAddress!, value.count) == 0) }
            }
            if let k = found {
                if ts < nodes[k].firstSeen || ts > nodes[k].lastSeen {
                    nodes[k].firstSeen = min(nodes[k].firstSeen, ts)
                    nodes[k].lastSeen = max(nodes[k].lastSeen, ts)
                    if k < savedNodes { touchedNodes.insert(k) }
                }
                out.append(Int64(k + 1))
            } else {
                nodeIndex.insert(id.hash, id: nodes.count)
                nodes.append(Node(id: Identifier(id.type, String(decoding: value, as: UTF8.self)), firstSeen: ts, lastSeen: ts, source: source))
                nodePriority.append(priority)
                nodeBytes.append(contentsOf: value)
                nodeByteEnds.append(nodeBytes.count)
                out.append(Int64(nodes.count))
            }
        }
        guard out.count > 1 else { return }
        linkScratch.removeAll(keepingCapacity: true)
        linkScratch.append(contentsOf: out)
        linkScratch.sort()
        var distinct = 1
        for i in 1..<linkScratch.count where linkScratch[i] != linkScratch[distinct - 1] {
            linkScratch[distinct] = linkScratch[i]
            distinct += 1
        }
        linkScratch.removeLast(linkScratch.count - distinct)
        guard distinct > 1 else { return }
        let h = Self.hash(linkScratch)
        if let i = linkIndex.find(h, { linkNodes(of: $0).elementsEqual(linkScratch) }) {
            links[i].records += 1
            if ts < links[i].firstSeen {
                links[i].firstSeen = ts
                linkFirstSeen[i] = ts
            }
            if ts > links[i].lastSeen { links[i].lastSeen = ts }
            if i < savedLinks { touchedLinks.insert(i) }
        } else {
            linkIndex.insert(h, id: links.count)
            // The link takes the scratch array and the scratch starts afresh: reusing it after a hand-over (its
            // buffer then shared) reallocated it at least as large each time, and capacities ratcheted up to about
            // 200 slots per link, a gigabyte of link storage on a 10M-record ingest.
            linkNodes.append(contentsOf: linkScratch)
            linkStarts.append(linkNodes.count)
            linkFirstSeen.append(ts)
            links.append(Link(nodes: linkScratch, firstSeen: ts, lastSeen: ts, records: 1, location: location()))
            linkScratch = []
        }
    }

    /// The UTF-8 bytes of node `k`'s value (position in `nodes`).
    @inline(__always)
    func nodeValue<R>(_ k: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        nodeBytes.withUnsafeBytes { all in body(UnsafeRawBufferPointer(rebasing: all[(k == 0 ? 0 : nodeByteEnds[k - 1])..<nodeByteEnds[k]])) }
    }

    /// The nodes of link `i`, from the flat list.
    @inline(__always)
    func linkNodes(of i: Int) -> ArraySlice<Int64> { linkNodes[linkStarts[i]..<linkStarts[i + 1]] }
}

extension IdentityGraph {
    /// The nodes and links (positions, ascending) that are new or changed since the last call, or since loading;
    /// `previous` is the resolution written then, so nodes whose customer or status moved are included. Starts the
    /// next round of changes.
    mutating func takeChanges(resolution: Resolution, previous: Resolution?) -> (nodes: [Int], links: [Int]) {
        var changed = touchedNodes
        if let previous {
            let n = min(previous.customer.count, resolution.customer.count, savedNodes)
            for i in 0..<n where previous.customer[i] != resolution.customer[i] || previous.status[i] != resolution.status[i] {
                changed.insert(i)
            }
        } else {
            for i in 0..<savedNodes { changed.insert(i) }
        }
        let nodeList = changed.members(below: savedNodes) + Array(savedNodes..<nodes.count)
        let linkList = touchedLinks.members(below: savedLinks) + Array(savedLinks..<links.count)
        (savedNodes, savedLinks) = (nodes.count, links.count)
        (touchedNodes, touchedLinks) = (BitSet(), BitSet())
        return (nodeList, linkList)
    }
}

/// A growable set of small non-negative integers, one bit each.
struct BitSet: Sendable {
    private var words: [UInt64] = []

    mutating func insert(_ i: Int) {
        let w = i >> 6
        if w >= words.count { words.append(contentsOf: repeatElement(0, count: max(w + 1 - words.count, words.count))) }
        words[w] |= 1 << UInt64(i & 63)
    }

    /// The members below `limit`, ascending.
    func members(below limit: Int) -> [Int] {
        var out: [Int] = []
        for (w, word) in words.enumerated() where word != 0 {
            var bits = word
            while bits != 0 {
                let i = w << 6 + bits.trailingZeroBitCount
                if i < limit { out.append(i) }
                bits &= bits - 1
            }
        }
        return out
    }
}

/// The outcome of resolution: a customer per node, and why any node or merge was held back.
public struct Resolution: Sendable {
    public enum Status: String, Sendable { case ok, blocked, shared, detached }

    public struct Decision: Sendable {
        public var kind: String
        public var node: Int64
        public var other: Int64
        /// Index into ``IdentityGraph/links`` of the record set that asked for the merge, or -1.
        public var link: Int
        public var reason: String
    }

    /// `customer[n - 1]`: the customer of node n, 0 when the node identifies no one (blocked or shared).
    public var customer: [Int64]
    public var status: [Status]
    public var decisions: [Decision]

    /// The customer the `identities` table stores for the node at position `i` (node id `i + 1`): a node newer than
    /// this resolution is its own customer; nil for none (blocked or shared).
    func storedCustomer(ofNodeAt i: Int) -> Int64? {
        let c = i < customer.count ? customer[i] : Int64(i + 1)
        return c == 0 ? nil : c
    }

    public func customer(ofNode n: Int64) -> Int64? {
        guard n >= 1, Int(n) <= customer.count else { return nil }
        let c = customer[Int(n - 1)]
        return c == 0 ? nil : c
    }
}

extension IdentityGraph {
    /// Resolves the whole graph under `rules`: deterministic for the same graph and rules.
    ///
    /// 1. Blocked values and manual splits are set aside. 2. An identifier seen with at least
    /// `sharedThreshold` distinct values of a one-per-customer type is shared and set aside. 3. Links are
    /// replayed oldest first; each record's identifiers join the cluster of its highest-priority identifier
    /// unless that would exceed a per-type limit, which is refused and recorded. A cluster's customer id is its
    /// oldest node's id, so ids stay put as clusters grow.
    public func resolve(_ rules: IdentityRules) -> Resolution {
        var judged: [Resolution.Status] = []
        return resolve(rules, judged: &judged)
    }

    /// `resolve(rules)`, with each node's standing under the rules' lists (blocked, detached or ok) kept in `judged`
    /// for the next call with the same rules: a node's identifier never changes, so an ingest judges a node once,
    /// not once per commit.
    func resolve(_ rules: IdentityRules, judged: inout [Resolution.Status]) -> Resolution {
        let n = nodes.count
        if judged.count < n {
            let detached = Set(rules.detached.compactMap(Identifier.init(parsing:)))
            for i in judged.count..<n {
                judged.append(rules.blockReason(nodes[i].id) != nil ? .blocked : detached.contains(nodes[i].id) ? .detached : .ok)
            }
        }
        var status = Array(judged.prefix(n))
        var decisions: [Resolution.Decision] = []
        for i in 0..<n where status[i] != .ok {
            decisions.append(status[i] == .blocked
                ? .init(kind: "blocked", node: Int64(i + 1), other: 0, link: -1, reason: rules.blockReason(nodes[i].id) ?? "")
                : .init(kind: "detached", node: Int64(i + 1), other: 0, link: -1, reason: "split off by hand"))
        }
        // Shared identifiers: distinct partners of each single-valued type. Every (node, partner type, partner)
        // triple packed into one UInt64 and sorted: runs of one (node, type) count the distinct partners, with no
        // dictionary per node.
        let types = IdentifierType.allCases
        let singleValued = types.filter { rules.limit($0) == 1 }
        precondition(n < 1 << 30 && singleValued.count <= 8, "identity graph too large for packed partner triples")
        // Each node's type priority, read once: touching `nodes[i].id` in the loops below retains its strings.
        let priority = nodePriority
        var typeSlot = [Int](repeating: -1, count: types.count)
        for (k, t) in singleValued.enumerated() { typeSlot[t.priority] = k }
        var triples: [UInt64] = []
        for li in 0..<links.count {
            let members = linkNodes[linkStarts[li]..<linkStarts[li + 1]]
            for a in members where status[Int(a - 1)] == .ok {
                for b in members where b != a {
                    let slot = typeSlot[Int(priority[Int(b - 1)])]
                    guard slot >= 0, status[Int(b - 1)] != .blocked else { continue }
                    triples.append(UInt64(a) << 33 | UInt64(slot) << 30 | UInt64(b))
                }
            }
        }
        RadixSort.sort(&triples)
        var i = 0
        while i < triples.count {
            let a = Int64(triples[i] >> 33)
            let ownType = types[Int(priority[Int(a - 1)])]
            var shared = false
            // The node's runs come in slot order, i.e. in priority order: the first one over the threshold names it.
            while i < triples.count && Int64(triples[i] >> 33) == a {
                let group = triples[i] >> 30
                var distinct = 0
                var last: UInt64 = .max
                while i < triples.count && triples[i] >> 30 == group {
                    if triples[i] != last { distinct += 1 }
                    last = triples[i]
                    i += 1
                }
                let pt = singleValued[Int(group & 7)]
                if !shared && pt != ownType && distinct >= rules.sharedThreshold {
                    shared = true
                    status[Int(a - 1)] = .shared
                    decisions.append(.init(kind: "shared", node: a, other: 0, link: -1,
                        reason: "seen with \(distinct) different \(pt.rawValue) values (threshold \(rules.sharedThreshold))"))
                }
            }
        }
        // Union-find with per-type counts per cluster.
        var parent = [Int32](0..<Int32(n))
        let oldest = [Int64](1...Int64(max(n, 1))).prefix(n).map { $0 }
        var counts = [Int32](repeating: 0, count: n * types.count)
        for i in 0..<n { counts[i * types.count + Int(priority[i])] = 1 }
        func find(_ x: Int32) -> Int32 {
            var r = x
            while parent[Int(r)] != r { r = parent[Int(r)] }
            var c = x
            while parent[Int(c)] != r {
                let next = parent[Int(c)]
                parent[Int(c)] = r
                c = next
            }
            return r
        }
        let limits = types.map { rules.limit($0) }
        let firstSeen = linkFirstSeen
        // Links oldest first, ties in link order (a stable sort of the times, sign bit flipped to order as unsigned).
        let order = RadixSort.order(firstSeen.map { UInt64(bitPattern: $0) ^ (1 << 63) })
        var valid: [Int64] = []
        for li32 in order {
            let li = Int(li32)
            valid.removeAll(keepingCapacity: true)
            for x in linkNodes[linkStarts[li]..<linkStarts[li + 1]] where status[Int(x - 1)] == .ok { valid.append(x) }
            guard valid.count > 1 else { continue }
            // By (priority, node): an insertion sort, as a record links a handful of identifiers.
            for i in 1..<valid.count {
                let x = valid[i], px = priority[Int(x - 1)]
                var j = i
                while j > 0, (priority[Int(valid[j - 1] - 1)], valid[j - 1]) > (px, x) {
                    valid[j] = valid[j - 1]
                    j -= 1
                }
                valid[j] = x
            }
            let a = Int32(valid[0] - 1)
            for bNode in valid.dropFirst() {
                let ra = find(a), rb = find(Int32(bNode - 1))
                if ra == rb { continue }
                var over: IdentifierType?
                for (k, t) in types.enumerated() where counts[Int(ra) * types.count + k] + counts[Int(rb) * types.count + k] > limits[k] {
                    over = t
                    break
                }
                if let t = over {
                    decisions.append(.init(kind: "refused_merge", node: valid[0], other: bNode, link: li,
                        reason: "joining would give one customer \(counts[Int(ra) * types.count + t.priority] + counts[Int(rb) * types.count + t.priority]) \(t.rawValue) values (limit \(limits[t.priority]))"))
                    continue
                }
                // The older cluster survives, so its id stays.
                let (keep, gone) = oldest[Int(ra)] <= oldest[Int(rb)] ? (ra, rb) : (rb, ra)
                parent[Int(gone)] = keep
                for k in 0..<types.count { counts[Int(keep) * types.count + k] += counts[Int(gone) * types.count + k] }
            }
        }
        var customer = [Int64](repeating: 0, count: n)
        for i in 0..<n where status[i] == .ok || status[i] == .detached {
            customer[i] = oldest[Int(find(Int32(i)))]
        }
        return Resolution(customer: customer, status: status, decisions: decisions)
    }
}
