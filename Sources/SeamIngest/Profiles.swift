public import SeamStorage
public import SeamColumnar

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
    }

    static func sourceRank(_ s: String) -> Int { s == "crm" ? 2 : (s == "web" || s == "mobile_app") ? 1 : 0 }

    /// Rebuilds the table from the store (reads go through the committed identity key map).
    public static func rebuild(_ store: Store) throws(StorageError) {
        var acc: [Int64: Acc] = [:]
        let ids = try store.readAll("identities", columns: ["customer_id"])
        for row in 0..<ids.rowCount {
            if case .bigint(let c) = ids.columns[0].value(at: row) { acc[c, default: Acc()].identifiers += 1 }
        }
        // Events stream segment by segment (never the whole table in memory), through the identity key map.
        let map = try store.denseKeyMap(IngestTables.customerKeyMap)
        let em = try store.manifest("events")
        let cols = ["customer_id", "ts", "event_type", "amount"].map { em.schema.index(of: $0)! }
        for reader in try store.readers(em) {
            let blocks = try cols.map { c throws(StorageError) in try reader.readColumn(c) }
            for b in 0..<blocks[0].count {
                let cust = blocks[0][b], ts = blocks[1][b], type = blocks[2][b], amount = blocks[3][b]
                for row in 0..<cust.count where !cust.isNull(row) {
                    let node = cust.withValues(Int64.self) { $0[row] }
                    guard node >= 0, node < map.count, map[Int(node)] != Int64.min else { continue }
                    let c = map[Int(node)]
                    let t = ts.withValues(Int64.self) { $0[row] }
                    var a = acc[c, default: Acc()]
                    a.firstSeen = min(a.firstSeen, t)
                    a.lastSeen = max(a.lastSeen, t)
                    let et = type.stringBytes(row)
                    let isPurchase = et.elementsEqual("purchase".utf8), isReturn = et.elementsEqual("return".utf8)
                    if isPurchase || isReturn {
                        let amt = amount.isNull(row) ? 0 : amount.withValues(Int64.self) { $0[row] }
                        if isPurchase {
                            a.orderTimes.insert(t)
                            a.revenue += amt
                            a.lastPurchase = max(a.lastPurchase ?? t, t)
                        } else {
                            a.revenue -= amt
                        }
                    }
                    acc[c] = a
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
            if let old = acc[c]?.traits[name], (old.ts, old.rank) > (t, rank) { continue }
            acc[c, default: Acc()].traits[name] = (t, rank, value)
        }
        let co = try store.readAll("consents", columns: ["customer_id", "purpose", "granted", "ts"])
        for row in 0..<co.rowCount {
            guard case .bigint(let c) = co.columns[0].value(at: row), case .varchar(let p) = co.columns[1].value(at: row),
                case .boolean(let g) = co.columns[2].value(at: row), case .timestamp(let t) = co.columns[3].value(at: row)
            else { continue }
            // Latest wins; at the same instant an opt-out wins over an opt-in.
            if let old = acc[c]?.consent[p], old.ts > t || (old.ts == t && !old.granted) { continue }
            acc[c, default: Acc()].consent[p] = (t, g)
        }
        var out = RowBuilder(CanonicalTables.customers)
        for (c, a) in acc.sorted(by: { $0.key < $1.key }) {
            func trait(_ n: String) -> Value { .str(a.traits[n]?.value) }
            func consent(_ p: String) -> Value { a.consent[p].map { .boolean($0.granted) } ?? .null }
            out.add([
                .bigint(c), trait("email"), trait("phone"), trait("first_name"), trait("last_name"), trait("country"), trait("city"),
                trait("loyalty_tier"), a.firstSeen == .max ? .null : .timestamp(a.firstSeen),
                a.lastSeen == .min ? .null : .timestamp(a.lastSeen), consent("email"), consent("sms"), consent("ads"),
                .bigint(Int64(a.orderTimes.count)), .decimal(a.revenue), .time(a.lastPurchase), .bigint(a.identifiers),
            ])
        }
        try IngestTables.replaceAll(store, "customers", out.finish())
    }
}
