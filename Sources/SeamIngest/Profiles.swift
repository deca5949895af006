public import SeamStorage
import SeamColumnar
import Foundation
import Synchronization

/// Builds `customers`: one row per resolved person, with best-known traits (the most recent statement; at the
/// same instant the CRM beats other sources), the latest consent per purpose (a later opt-out anywhere wins), and
/// computed traits from `events`.
public enum Profiles {
    struct Acc {
        var firstSeen = Int64.max, lastSeen = Int64.min
        var orderTimes = Set<Int64>()
        var revenue: Int64 = 0
        var lastPurchase: Int64?
        var identifiers: Int64 = 0

        /// Folds in another worker's share of the same customer's events.
        mutating func merge(_ o: Acc) {
            firstSeen = min(firstSeen, o.firstSeen)
            lastSeen = max(lastSeen, o.lastSeen)
            if !o.orderTimes.isEmpty { orderTimes.formUnion(o.orderTimes) }
            revenue += o.revenue
            if let p = o.lastPurchase { lastPurchase = max(lastPurchase ?? p, p) }
            identifiers += o.identifiers
        }

        mutating func add(ts t: Int64, kind: EventKind, amount: Int64) {
            firstSeen = min(firstSeen, t)
            lastSeen = max(lastSeen, t)
            switch kind {
            case .purchase:
                orderTimes.insert(t)
                revenue += amount
                lastPurchase = max(lastPurchase ?? t, t)
            case .return:
                revenue -= amount
            case .other:
                break
            }
        }
    }

    enum EventKind: UInt8 {
        case other, purchase, `return`

        init(_ eventType: UnsafeRawBufferPointer) {
            self = eventType.elementsEqual("purchase".utf8) ? .purchase : eventType.elementsEqual("return".utf8) ? .return : .other
        }

        /// String equality, not a byte loop: both names are small strings, compared as two words (a generic
        /// `elementsEqual` over the UTF-8 view ran per event row here).
        init(_ eventType: String) {
            self = eventType == "purchase" ? .purchase : eventType == "return" ? .return : .other
        }
    }

    /// The event totals of what one ingest landed, per node (the record's anchor), gathered as rows land, so
    /// ``rebuild(_:landed:)`` reads back only the segments that were in the store before: after a first ingest
    /// none at all. At the end of a 1.2M-record ingest, with one core idle, the rebuild took 0.22 s reading every
    /// event back and 0.16 s without; with the traits pass specialized it takes 0.06-0.09 s, while the last commit
    /// writes its events (``Ingestor/run(_:)``).
    struct LandedEvents {
        /// The `events` segments already stored when counting began; every other segment holds rows counted here.
        let storedBefore: Set<String>
        /// Indexed by node id.
        var byNode: [Acc] = []

        init(storedBefore: Set<String>) { self.storedBefore = storedBefore }

        mutating func add(node: Int64, ts: Int64, kind: EventKind, amount: Int64) {
            let n = Int(node)
            if n >= byNode.count { byNode.append(contentsOf: repeatElement(Acc(), count: n + 1 - byNode.count)) }
            byNode[n].add(ts: ts, kind: kind, amount: amount)
        }
    }

    static func sourceRank(_ s: UnsafeRawBufferPointer) -> Int8 {
        s.elementsEqual("crm".utf8) ? 2 : (s.elementsEqual("web".utf8) || s.elementsEqual("mobile_app".utf8)) ? 1 : 0
    }

    /// Per row, the position of the row's text in `names`, or -1 (also for NULL).
    static func slots(_ v: ColumnVector, _ names: [String]) -> [Int8] {
        let found = v.mapText { text in Int8(names.firstIndex { $0.utf8.elementsEqual(text) } ?? -1) }
        return v.validity == nil ? found : (0..<v.count).map { v.isNull($0) ? -1 : found[$0] }
    }

    /// Calls `body` for each block of `columns` of `table`, with each row's customer slot (from the node in the first
    /// column, through `nodeSlot`; -1 when unknown).
    static func forEachBlock(
        _ store: Store, _ table: String, _ columns: [String], nodeSlot: [Int32], _ body: ([Int32], [ColumnVector]) throws -> Void
    ) throws {
        let m = try store.manifest(table)
        let idx = columns.map { m.schema.index(of: $0)! }
        for reader in try store.readers(m) {
            let blocks = try idx.map { c throws(StorageError) in try reader.readColumn(c) }
            for b in 0..<blocks[0].count {
                let cols = blocks.map { $0[b] }
                let customers = cols[0].withValues(Int64.self) { nodes in
                    (0..<cols[0].count).map { row -> Int32 in
                        let n = nodes[row]
                        return cols[0].isNull(row) || n < 0 || n >= nodeSlot.count ? -1 : nodeSlot[Int(n)]
                    }
                }
                try body(customers, cols)
            }
        }
    }

    /// Adds the events of one segment to `acc` (customer slots through `nodeSlot`).
    static func accumulate(_ reader: SegmentReader, schema: Schema, nodeSlot: [Int32], into acc: inout [Acc]) throws {
        let cols = ["customer_id", "ts", "event_type", "amount"].map { schema.index(of: $0)! }
        let blocks = try cols.map { c throws(StorageError) in try reader.readColumn(c) }
        for b in 0..<blocks[0].count {
            let cust = blocks[0][b], amount = blocks[3][b]
            let kinds = blocks[2][b].mapText(EventKind.init)
            // Nulls: an unknown customer is skipped, an unknown amount counts as 0. Validity words taken once.
            let custValid = cust.validity?.typed(UInt64.self, count: Bitmap.wordCount(cust.count))
            let amountValid = amount.validity?.typed(UInt64.self, count: Bitmap.wordCount(amount.count))
            withExtendedLifetime((cust.validity, amount.validity)) {
                cust.withValues(Int64.self) { nodes in
                    blocks[1][b].withValues(Int64.self) { times in
                        amount.withValues(Int64.self) { amountValues in
                            for row in 0..<cust.count where custValid.map({ Bitmap.isSet($0, row) }) ?? true {
                                let node = nodes[row]
                                guard node >= 0, node < nodeSlot.count, nodeSlot[Int(node)] >= 0 else { continue }
                                let known = amountValid.map { Bitmap.isSet($0, row) } ?? true
                                // In place: a copy of the entry would copy its order set on every row.
                                acc[Int(nodeSlot[Int(node)])].add(ts: times[row], kind: kinds[row], amount: known ? amountValues[row] : 0)
                            }
                        }
                    }
                }
            }
        }
    }

    /// Rebuilds the table from the store (reads go through the committed identity key map).
    public static func rebuild(_ store: Store) throws { try rebuild(store, landed: nil) }

    /// Rebuilds the table; with `landed`, the event totals of the segments stored since `landed.storedBefore`
    /// are taken from it instead of being read back.
    static func rebuild(_ store: Store, landed: LandedEvents?) throws {
        try IngestTables.replaceAll(store, "customers", build(store, landed: landed))
    }

    /// The table's rows, from the committed identities, traits and consents, and the events stored (only those in
    /// `landed.storedBefore`, with `landed`; the totals of the others are `landed`'s).
    /// `keyMap`: node → customer (`Int64.min` for none), as the store's identity key map says; read from the store
    /// when not given.
    static func build(_ store: Store, landed: LandedEvents?, keyMap: [Int64]? = nil) throws -> Chunk {
        // Events stream segment by segment (never the whole table in memory), through the identity key map.
        // Customer ids are node ids, so one dense slot per possible id: no hashing in the per-event loop.
        let map = try keyMap ?? store.denseKeyMap(IngestTables.customerKeyMap)
        // One slot per customer, in ascending id order (ids are node ids, far more nodes than customers), and per
        // node the slot of its customer.
        var present = [Bool](repeating: false, count: map.count)
        for c in map where c != Int64.min { present[Int(c)] = true }
        var customerIDs: [Int64] = []
        var slotOfCustomer = [Int32](repeating: -1, count: map.count)
        for c in present.indices where present[c] {
            slotOfCustomer[c] = Int32(customerIDs.count)
            customerIDs.append(Int64(c))
        }
        let nodeSlot = map.map { $0 == Int64.min ? Int32(-1) : slotOfCustomer[Int($0)] }
        slotOfCustomer = []
        // Segments are read on every core, each worker into its own accumulators, merged after.
        var unread = try store.manifest("events")
        if let landed { unread.segments = unread.segments.filter { landed.storedBefore.contains($0.file) } }
        let em = unread
        let readers = try store.readers(em)
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, readers.count))
        let customerCount = customerIDs.count
        let partial = Mutex([[Acc]?](repeating: nil, count: workers))
        let failure = Mutex<(any Error)?>(nil)
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            var mine = [Acc](repeating: Acc(), count: customerCount)
            do {
                for r in stride(from: w, to: readers.count, by: workers) { try accumulate(readers[r], schema: em.schema, nodeSlot: nodeSlot, into: &mine) }
            } catch {
                failure.withLock { $0 = $0 ?? error }
            }
            partial.withLock { $0[w] = mine }
        }
        if let error = failure.withLock({ $0 }) { throw error }
        var parts = partial.withLock { p in p.map { $0! } }
        var acc = parts.removeFirst()
        for p in parts {
            for i in acc.indices { acc[i].merge(p[i]) }
        }
        parts = []
        for (node, totals) in (landed?.byNode ?? []).enumerated() where node < nodeSlot.count && nodeSlot[node] >= 0 {
            acc[Int(nodeSlot[node])].merge(totals)
        }
        for s in nodeSlot where s >= 0 { acc[Int(s)].identifiers += 1 }
        // Traits and consent: one slot per (customer, name), kept in flat arrays; only a winning value becomes a String.
        let traitNames = ["email", "phone", "first_name", "last_name", "country", "city", "loyalty_tier"]
        let purposes = ["email", "sms", "ads"]
        var traitTime = [Int64](repeating: .min, count: acc.count * traitNames.count)
        var traitRank = [Int8](repeating: -1, count: acc.count * traitNames.count)
        // The winning statement per slot, as (block, row) of the values read: only winners become Strings, at the end.
        var traitWinner = [Int64](repeating: -1, count: acc.count * traitNames.count)
        var valueBlocks: [ColumnVector] = []
        try forEachBlock(store, "profile_traits", ["customer_id", "trait", "value", "ts", "source"], nodeSlot: nodeSlot) { c, cols in
            let name = slots(cols[1], traitNames), source = cols[4].mapText(sourceRank)
            let block = Int64(valueBlocks.count) << 32
            valueBlocks.append(cols[2])
            cols[3].withValues(Int64.self) { times in
                // A statement without a value, time or source says nothing (as before: every field must be there).
                for row in 0..<cols[0].count where !(cols[2].isNull(row) || cols[3].isNull(row) || cols[4].isNull(row)) {
                    guard c[row] >= 0, name[row] >= 0 else { continue }
                    let k = Int(c[row]) * traitNames.count + Int(name[row])
                    let (t, rank) = (times[row], source[row])
                    // (time, rank) compared field by field: the tuple operator was a generic call per row here.
                    if traitRank[k] >= 0, traitTime[k] > t || traitTime[k] == t && traitRank[k] > rank { continue }
                    traitTime[k] = t
                    traitRank[k] = rank
                    traitWinner[k] = block | Int64(row)
                }
            }
        }
        let traitValue = traitWinner.map { w -> String? in
            guard w >= 0 else { return nil }
            return withExtendedLifetime(valueBlocks[Int(w >> 32)]) { v in String(decoding: v.stringBytes(Int(w & 0xFFFF_FFFF)), as: UTF8.self) }
        }
        valueBlocks = []
        var consentTime = [Int64](repeating: .min, count: acc.count * purposes.count)
        var consentState = [Int8](repeating: -1, count: acc.count * purposes.count)  // -1 unknown, 0 no, 1 yes
        try forEachBlock(store, "consents", ["customer_id", "purpose", "granted", "ts"], nodeSlot: nodeSlot) { c, cols in
            let purpose = slots(cols[1], purposes)
            cols[2].withValues(UInt8.self) { granted in
                cols[3].withValues(Int64.self) { times in
                    for row in 0..<cols[0].count where !(cols[2].isNull(row) || cols[3].isNull(row)) {
                        guard c[row] >= 0, purpose[row] >= 0 else { continue }
                        let k = Int(c[row]) * purposes.count + Int(purpose[row])
                        // Latest wins; at the same instant an opt-out wins over an opt-in.
                        let t = times[row]
                        if consentState[k] >= 0, consentTime[k] > t || (consentTime[k] == t && consentState[k] == 0) { continue }
                        consentTime[k] = t
                        consentState[k] = granted[row] != 0 ? 1 : 0
                    }
                }
            }
        }
        var out = RowBuilder(CanonicalTables.customers)
        for (c, a) in acc.enumerated() {
            func trait(_ k: Int) -> Value { .str(traitValue[c * traitNames.count + k]) }
            func consent(_ k: Int) -> Value {
                let v = consentState[c * purposes.count + k]
                return v < 0 ? .null : .boolean(v == 1)
            }
            out.add([
                .bigint(customerIDs[c]), trait(0), trait(1), trait(2), trait(3), trait(4), trait(5), trait(6),
                a.firstSeen == .max ? .null : .timestamp(a.firstSeen), a.lastSeen == .min ? .null : .timestamp(a.lastSeen),
                consent(0), consent(1), consent(2), .bigint(Int64(a.orderTimes.count)), .decimal(a.revenue), .time(a.lastPurchase),
                .bigint(a.identifiers),
            ])
        }
        return out.finish()
    }
}
