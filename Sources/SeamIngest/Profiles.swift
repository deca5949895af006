public import SeamStorage
import SeamColumnar

/// Builds `customers`: one row per resolved person, with best-known traits (the most recent statement; at the
/// same instant the CRM beats other sources), the latest consent per purpose (a later opt-out anywhere wins), and
/// computed traits from `events`.
public enum Profiles {
    struct Acc {
        var traits: [String: (ts: Int64, rank: Int, value: String)] = [:]
        var consent: [String: (ts: Int64, granted: Bool)] = [:]
        var firstSeen = Int64.max, lastSeen = Int64.min
        var orderTimes = Set<Int64>()
        var revenue: Int64 = 0
        var lastPurchase: Int64?
        var identifiers: Int64 = 0

        mutating func add(ts t: Int64, eventType: UnsafeRawBufferPointer, amount: Int64) {
            firstSeen = min(firstSeen, t)
            lastSeen = max(lastSeen, t)
            if eventType.elementsEqual("purchase".utf8) {
                orderTimes.insert(t)
                revenue += amount
                lastPurchase = max(lastPurchase ?? t, t)
            } else if eventType.elementsEqual("return".utf8) {
                revenue -= amount
            }
        }
    }

    static func sourceRank(_ s: String) -> Int { s == "crm" ? 2 : (s == "web" || s == "mobile_app") ? 1 : 0 }

    /// Rebuilds the table from the store (reads go through the committed identity key map).
    public static func rebuild(_ store: Store) throws(StorageError) {
        // Events stream segment by segment (never the whole table in memory), through the identity key map.
        // Customer ids are node ids, so one dense slot per possible id: no hashing in the per-event loop.
        let map = try store.denseKeyMap(IngestTables.customerKeyMap)
        var acc = [Acc](repeating: Acc(), count: map.count)
        var present = [Bool](repeating: false, count: map.count)
        func slot(_ c: Int64) -> Int? { c >= 0 && c < acc.count ? Int(c) : nil }
        for c in map where c != Int64.min {
            acc[Int(c)].identifiers += 1
            present[Int(c)] = true
        }
        let em = try store.manifest("events")
        let cols = ["customer_id", "ts", "event_type", "amount"].map { em.schema.index(of: $0)! }
        for reader in try store.readers(em) {
            let blocks = try cols.map { c throws(StorageError) in try reader.readColumn(c) }
            for b in 0..<blocks[0].count {
                let cust = blocks[0][b], type = blocks[2][b], amount = blocks[3][b]
                cust.withValues(Int64.self) { nodes in
                    blocks[1][b].withValues(Int64.self) { times in
                        amount.withValues(Int64.self) { amounts in
                            for row in 0..<cust.count where !cust.isNull(row) {
                                let node = nodes[row]
                                guard node >= 0, node < map.count, map[Int(node)] != Int64.min else { continue }
                                let t = times[row]
                                // In place: a copy of the entry would copy its order set on every row.
                                acc[Int(map[Int(node)])].add(
                                    ts: t, eventType: type.stringBytes(row), amount: amount.isNull(row) ? 0 : amounts[row])
                            }
                        }
                    }
                }
            }
        }
        let tr = try store.readAll("profile_traits", columns: ["customer_id", "trait", "value", "ts", "source"])
        for row in 0..<tr.rowCount {
            guard case .bigint(let c) = tr.columns[0].value(at: row), case .varchar(let name) = tr.columns[1].value(at: row),
                case .varchar(let value) = tr.columns[2].value(at: row), case .timestamp(let t) = tr.columns[3].value(at: row),
                case .varchar(let source) = tr.columns[4].value(at: row)
            else { continue }
            let rank = sourceRank(source)
            guard let i = slot(c) else { continue }
            if let old = acc[i].traits[name], (old.ts, old.rank) > (t, rank) { continue }
            acc[i].traits[name] = (t, rank, value)
        }
        let co = try store.readAll("consents", columns: ["customer_id", "purpose", "granted", "ts"])
        for row in 0..<co.rowCount {
            guard case .bigint(let c) = co.columns[0].value(at: row), case .varchar(let p) = co.columns[1].value(at: row),
                case .boolean(let g) = co.columns[2].value(at: row), case .timestamp(let t) = co.columns[3].value(at: row)
            else { continue }
            // Latest wins; at the same instant an opt-out wins over an opt-in.
            guard let i = slot(c) else { continue }
            if let old = acc[i].consent[p], old.ts > t || (old.ts == t && !old.granted) { continue }
            acc[i].consent[p] = (t, g)
        }
        var out = RowBuilder(CanonicalTables.customers)
        for (c, a) in acc.enumerated() where present[c] {
            func trait(_ n: String) -> Value { .str(a.traits[n]?.value) }
            func consent(_ p: String) -> Value { a.consent[p].map { .boolean($0.granted) } ?? .null }
            out.add([
                .bigint(Int64(c)), trait("email"), trait("phone"), trait("first_name"), trait("last_name"), trait("country"), trait("city"),
                trait("loyalty_tier"), a.firstSeen == .max ? .null : .timestamp(a.firstSeen),
                a.lastSeen == .min ? .null : .timestamp(a.lastSeen), consent("email"), consent("sms"), consent("ads"),
                .bigint(Int64(a.orderTimes.count)), .decimal(a.revenue), .time(a.lastPurchase), .bigint(a.identifiers),
            ])
        }
        try IngestTables.replaceAll(store, "customers", out.finish())
    }
}
