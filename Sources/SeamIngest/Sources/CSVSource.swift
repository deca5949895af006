import SeamColumnar
import Foundation
import SeamKernels

/// A ``Mapping`` bound to one file's header: column positions resolved once, then applied to every record.
public struct CSVSource: Sendable {
    public let mapping: Mapping
    public let header: [String]
    let time: TimeFormat
    let zone: TimeZoneRule
    let timeColumn: Int
    let typeColumn: Int?
    let identifierColumns: [(IdentifierType, Int)]
    let traitColumns: [(String, Int)]
    let consentColumns: [(String, Int)]
    let yes: Set<String>, no: Set<String>
    let keyColumns: [Int]
    let propertyColumns: [Int]
    /// Each column's name as a JSON key with its colon (`"store_city":`), quoted once per file, not per row.
    let propertyKeys: [[UInt8]]
    let regionColumn: Int?
    let product, category, quantity, amount, unitPrice, currency, campaign, store: Int?
    let decimal: UInt8, thousands: UInt8?
    /// The source name, seeding stable ids so two exports with the same row bytes do not collide.
    let seed: UInt64

    /// Resolves the mapping's columns against `header`; a named column missing from the file is an error.
    public init(mapping m: Mapping, header: [String], file: String) throws(IngestError) {
        mapping = m
        self.header = header
        var index: [String: Int] = [:]
        for (i, h) in header.enumerated() where index[h] == nil { index[h] = i }
        var used = Set<Int>()
        func col(_ name: String?, _ what: String) throws(IngestError) -> Int? {
            guard let name else { return nil }
            guard let i = index[name] else {
                let near = header.min { Self.distance($0, name) < Self.distance($1, name) } ?? ""
                throw IngestError(
                    "\(file): mapping '\(m.name)' names column '\(name)' for \(what), but the header has no such column"
                        + (Self.distance(near, name) <= 3 ? " (did you mean '\(near)'?)" : ""))
            }
            used.insert(i)
            return i
        }
        time = try TimeFormat(m.time.format)
        zone = try TimeZoneRule(m.time.timezone ?? "UTC")
        timeColumn = try col(m.time.column, "time")!
        typeColumn = try col(m.eventType.column, "event_type")
        var ids: [(IdentifierType, Int)] = []
        for (k, c) in m.identifiers.sorted(by: { $0.key < $1.key }) {
            ids.append((IdentifierType(rawValue: k)!, try col(c, "identifier \(k)")!))
        }
        identifierColumns = ids
        var tr: [(String, Int)] = []
        for (k, c) in (m.traits ?? [:]).sorted(by: { $0.key < $1.key }) { tr.append((k, try col(c, "trait \(k)")!)) }
        traitColumns = tr
        var cc: [(String, Int)] = []
        for (k, c) in (m.consent?.columns ?? [:]).sorted(by: { $0.key < $1.key }) { cc.append((k, try col(c, "consent \(k)")!)) }
        consentColumns = cc
        yes = Set((m.consent?.yes ?? ["y", "yes", "true", "1", "opt-in", "granted"]).map { $0.lowercased() })
        no = Set((m.consent?.no ?? ["n", "no", "false", "0", "opt-out", "denied"]).map { $0.lowercased() })
        let f = m.fields
        product = try col(f?.productID, "product_id")
        category = try col(f?.category, "category")
        quantity = try col(f?.quantity, "quantity")
        amount = try col(f?.amount, "amount")
        unitPrice = try col(f?.unitPrice, "unit_price")
        currency = try col(f?.currency, "currency")
        campaign = try col(f?.campaign, "campaign")
        store = try col(f?.storeID, "store_id")
        regionColumn = try col(m.phoneRegionColumn, "phone_region_column")
        var keys: [Int] = []
        for k in m.key ?? [] { keys.append(try col(k, "key")!) }
        keyColumns = keys
        if let props = m.properties {
            var p: [Int] = []
            for k in props { p.append(try col(k, "properties")!) }
            propertyColumns = p
        } else {
            propertyColumns = header.indices.filter { !used.contains($0) }
        }
        propertyKeys = header.map { Array((JSONText.quoted($0) + ":").utf8) }
        decimal = m.decimal?.utf8.first ?? UInt8(ascii: ".")
        thousands = m.thousands?.utf8.first
        seed = Hash64.hash(m.name)
    }

    static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a.lowercased().utf8), b = Array(b.lowercased().utf8)
        guard !a.isEmpty else { return b.count }
        guard !b.isEmpty else { return a.count }
        var prev = Array(0...b.count), cur = prev
        for i in 1...a.count {
            cur[0] = i
            for j in 1...b.count { cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)) }
            swap(&prev, &cur)
        }
        return prev[b.count]
    }

    /// One record. `occurrence` counts earlier identical rows in the file, so exact repeats keep distinct ids.
    public func record(_ row: CSVRecordView, occurrence: Int) -> RecordOutcome {
        guard row.count == header.count else {
            return .rejected(QualityIssue(.error, "wrong_column_count", "\(row.count) fields where the header has \(header.count)"))
        }
        func text(_ i: Int) -> String { Text.trim(row.text(i)) }
        func opt(_ i: Int?) -> String? {
            guard let i else { return nil }
            let t = text(i)
            return t.isEmpty ? nil : t
        }
        var rec = ParsedRecord()
        guard let ts = time.parse(row.bytes(timeColumn), zone: zone) ?? opt(timeColumn).flatMap({ time.parse($0, zone: zone) }) else {
            return .rejected(QualityIssue(.error, "unparseable_date", "\(header[timeColumn]) '\(text(timeColumn))' does not match \(time.pattern)"))
        }
        var eventType = mapping.eventType.constant ?? ""
        if let c = typeColumn {
            let raw = text(c)
            if let mapped = mapping.eventType.values?[raw] ?? mapping.eventType.values?[raw.lowercased()] {
                eventType = mapped
            } else {
                eventType = raw.lowercased()
                rec.notes.append(QualityIssue(.warning, "unmapped_event_type", "\(header[c]) '\(raw)' has no mapping; kept as '\(eventType)'"))
            }
            guard !eventType.isEmpty else {
                return .rejected(QualityIssue(.error, "missing_event_type", "\(header[c]) is empty"))
            }
        }
        // Stable id: the key columns or the whole row, seeded by the mapping's name.
        var h: UInt64
        if keyColumns.isEmpty {
            h = Hash64.hash(row.recordBytes, seed: seed)
        } else {
            h = seed
            for k in keyColumns { h = Hash64.combine(h, Hash64.hash(row.bytes(k))) }
        }
        h = Hash64.combine(h, UInt64(occurrence))
        var row = EventRow(eventID: Int64(bitPattern: h), ts: ts, channel: mapping.channel, eventType: eventType)
        row.productID = opt(product)
        row.category = opt(category)
        row.campaign = opt(campaign)
        row.storeID = opt(store)
        row.currency = opt(currency).map(Text.upper) ?? mapping.fields?.defaultCurrency
        var qty: Int64 = 1
        if let q = opt(quantity) {
            guard let v = Int64(q), abs(v) <= Int64(Int32.max) else {
                return .rejected(QualityIssue(.critical, "bad_quantity", "\(header[quantity!]) '\(q)' is not a whole number"))
            }
            qty = v
            row.quantity = Int32(v)
            if v < 0, mapping.positiveQuantity?.contains(eventType) == true {
                return .rejected(QualityIssue(.critical, "negative_quantity", "\(header[quantity!]) is \(v) on a \(eventType) row"))
            }
        }
        for (col, multiply) in [(amount, false), (unitPrice, true)] {
            guard let c = col, let raw = opt(c) else { continue }
            let parsed = Money.parse(raw, decimal: decimal, thousands: thousands)
            switch parsed {
            case .exact(let v), .rounded(let v):
                // A unit price × quantity past Int64's minor units is no amount at all.
                let (product, overflow) = multiply ? v.multipliedReportingOverflow(by: qty) : (v, false)
                guard !overflow else {
                    return .rejected(QualityIssue(.critical, "bad_amount", "\(header[c]) '\(raw)' × quantity \(qty) is out of range"))
                }
                row.amount = product
                if case .rounded = parsed { rec.notes.append(QualityIssue(.info, "amount_rounded", "\(header[c]) '\(raw)' rounded to cents")) }
            case .invalid:
                return .rejected(QualityIssue(.critical, "bad_amount", "\(header[c]) '\(raw)' is not an amount"))
            }
        }
        if row.amount != nil && row.currency == nil {
            return .rejected(QualityIssue(.critical, "missing_currency", "an amount without a currency"))
        }
        // Identity.
        var region = mapping.phoneRegion ?? "US"
        if let rc = regionColumn, let r = opt(rc) {
            let code = String(r.uppercased().prefix(2))
            if Phone.isKnownRegion(code) { region = code }
        }
        for (type, c) in identifierColumns {
            guard let raw = opt(c) else { continue }
            switch type {
            case .email:
                let e = Text.email(raw)
                rec.identifiers.append(Identifier(.email, e))
                if !Text.isPlausibleEmail(e) { rec.notes.append(QualityIssue(.warning, "invalid_email", "\(header[c]) '\(raw)' is not a valid address")) }
            case .phone:
                if let e = Phone.e164(raw, region: region) {
                    rec.identifiers.append(Identifier(.phone, e))
                } else {
                    rec.notes.append(QualityIssue(.warning, "invalid_phone", "\(header[c]) '\(raw)' is not a phone number"))
                }
            default:
                rec.identifiers.append(Identifier(type, raw))
            }
        }
        for (trait, c) in traitColumns {
            guard let raw = opt(c) else { continue }
            switch trait {
            case "email": rec.traits.append((trait, Text.email(raw)))
            case "phone": if let e = Phone.e164(raw, region: region) { rec.traits.append((trait, e)) }
            case "country": rec.traits.append((trait, Text.upper(raw)))
            default: rec.traits.append((trait, Text.name(raw)))
            }
        }
        for (purpose, c) in consentColumns {
            let raw = text(c).lowercased()
            if yes.contains(raw) {
                rec.consents.append((purpose, true))
            } else if no.contains(raw) {
                rec.consents.append((purpose, false))
            } else if !raw.isEmpty {
                return .rejected(QualityIssue(.critical, "bad_consent", "\(header[c]) '\(text(c))' is neither yes nor no"))
            }
        }
        if let ce = mapping.consent?.events?[eventType] { rec.consents.append((ce.purpose, ce.granted)) }
        if !propertyColumns.isEmpty {
            // Written as bytes, one String at the end (appending Strings per column cost more than the rest of a row).
            var p: [UInt8] = [UInt8(ascii: "{")]
            p.reserveCapacity(256)
            for c in propertyColumns {
                guard let v = opt(c) else { continue }
                if p.count > 1 { p.append(UInt8(ascii: ",")) }
                p.append(contentsOf: propertyKeys[c])
                JSONText.appendQuoted(v, to: &p)
            }
            if p.count > 1 {
                p.append(UInt8(ascii: "}"))
                row.properties = String(decoding: p, as: UTF8.self)
            }
        }
        rec.rows.append(row)
        return .parsed(rec)
    }
}
