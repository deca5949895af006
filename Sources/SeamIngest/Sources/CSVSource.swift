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
    /// The event type map's entries as bytes, looked up before the map itself (a String and a hash per row);
    /// empty for a map too large to scan.
    let typeValues: [(key: [UInt8], value: String)]
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
        let values = m.eventType.values ?? [:]
        typeValues = values.count <= 32 ? values.sorted { $0.key < $1.key }.map { (Array($0.key.utf8), $0.value) } : []
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
        var rec = ParsedRecord()
        var scratch: [UInt8] = []
        if let issue = record(row, occurrence: occurrence, into: &rec, scratch: &scratch) { return .rejected(issue) }
        return .parsed(rec)
    }

    /// One record, its parts written into `sink`; nil when it parsed, else the issue that keeps it out (the sink's
    /// owner drops what it was given). `scratch` is room for the properties text, reused from record to record.
    func record<Sink: RecordSink>(_ row: CSVRecordView, occurrence: Int, into sink: inout Sink, scratch: inout [UInt8]) -> QualityIssue? {
        guard row.count == header.count else {
            return QualityIssue(.error, "wrong_column_count", "\(row.count) fields where the header has \(header.count)")
        }
        // Stable id from the bytes as written: the key columns or the whole row, seeded by the mapping's name.
        var h: UInt64
        if keyColumns.isEmpty {
            h = Hash64.hash(row.recordBytes, seed: seed)
        } else {
            h = seed
            for k in keyColumns { h = Hash64.combine(h, Hash64.hash(row.bytes(k))) }
        }
        let eventID = Int64(bitPattern: Hash64.combine(h, UInt64(occurrence)))
        // Each field's text is its bytes when no field has doubled quotes and the record is UTF-8 (a field is cut
        // from it at ASCII delimiters, so it is UTF-8 too).
        let utf8 = Text.isUTF8(row.recordBytes)
        if utf8 && !row.hasDoubledQuotes { return fill(row, eventID: eventID, into: &sink, scratch: &scratch) }
        // Otherwise the fields' texts (quotes undoubled, bad bytes as U+FFFD) are copied into a record of their own,
        // so the rest reads every field as its bytes.
        if !utf8 { sink.note(QualityIssue(.info, "invalid_utf8", "bytes that are not UTF-8 replaced by U+FFFD")) }
        var clean: [UInt8] = []
        var fields: [CSVField] = []
        for i in 0..<row.count {
            let start = clean.count
            clean.append(contentsOf: row.text(i).utf8)
            fields.append(CSVField(start: start, end: clean.count, doubledQuotes: false))
        }
        return clean.withUnsafeBytes { buf in
            let view = CSVRecordView(window: buf, quote: row.quote, fields: fields[...], start: 0, end: buf.count)
            return fill(view, eventID: eventID, into: &sink, scratch: &scratch)
        }
    }

    /// The record's parts from fields whose texts are their bytes (UTF-8, no doubled quotes). A String is made
    /// only where a value needs one (a name, a phone, a trait, a message); the event row's texts go to the sink as bytes.
    private func fill<Sink: RecordSink>(_ row: CSVRecordView, eventID: Int64, into sink: inout Sink, scratch: inout [UInt8]) -> QualityIssue? {
        func field(_ i: Int) -> UnsafeRawBufferPointer { Text.trim(row.bytes(i)) }
        func opt(_ i: Int?) -> UnsafeRawBufferPointer? {
            guard let i else { return nil }
            let t = field(i)
            return t.isEmpty ? nil : t
        }
        func string(_ b: UnsafeRawBufferPointer) -> String { String(decoding: b, as: UTF8.self) }
        func text(_ i: Int) -> String { string(field(i)) }
        guard let ts = time.parse(row.bytes(timeColumn), zone: zone) ?? opt(timeColumn).flatMap({ time.parse($0, zone: zone) }) else {
            return QualityIssue(.error, "unparseable_date", "\(header[timeColumn]) '\(text(timeColumn))' does not match \(time.pattern)")
        }
        var eventType = mapping.eventType.constant ?? ""
        if let c = typeColumn {
            let raw = field(c)
            if let mapped = typeValues.first(where: { e in e.key.withUnsafeBytes { StringSpans.equal($0, raw) } })?.value {
                eventType = mapped
            } else {
                let raw = string(raw)
                if let mapped = mapping.eventType.values?[raw] ?? mapping.eventType.values?[raw.lowercased()] {
                    eventType = mapped
                } else {
                    eventType = raw.lowercased()
                    sink.note(QualityIssue(.warning, "unmapped_event_type", "\(header[c]) '\(raw)' has no mapping; kept as '\(eventType)'"))
                }
            }
            guard !eventType.isEmpty else { return QualityIssue(.error, "missing_event_type", "\(header[c]) is empty") }
        }
        var out = CSVRow(eventID: eventID, ts: ts, channel: mapping.channel, eventType: eventType)
        out.productID = opt(product)
        out.category = opt(category)
        out.campaign = opt(campaign)
        out.storeID = opt(store)
        out.currency = opt(currency).map { Text.upper(string($0)) } ?? mapping.fields?.defaultCurrency
        var qty: Int64 = 1
        if let q = opt(quantity) {
            guard let v = Int64(string(q)), abs(v) <= Int64(Int32.max) else {
                return QualityIssue(.critical, "bad_quantity", "\(header[quantity!]) '\(string(q))' is not a whole number")
            }
            qty = v
            out.quantity = Int32(v)
            if v < 0, mapping.positiveQuantity?.contains(eventType) == true {
                return QualityIssue(.critical, "negative_quantity", "\(header[quantity!]) is \(v) on a \(eventType) row")
            }
        }
        // The amount column, then the unit price (× quantity), the later one winning. (Not a loop over an array of
        // the two: that array was an allocation per row.)
        func money(_ col: Int?, multiply: Bool) -> QualityIssue? {
            guard let c = col, let raw = opt(c) else { return nil }
            let parsed = Money.parse(raw, decimal: decimal, thousands: thousands)
            switch parsed {
            case .exact(let v), .rounded(let v):
                // A unit price × quantity past Int64's minor units is no amount at all.
                let (product, overflow) = multiply ? v.multipliedReportingOverflow(by: qty) : (v, false)
                guard !overflow else {
                    return QualityIssue(.critical, "bad_amount", "\(header[c]) '\(string(raw))' × quantity \(qty) is out of range")
                }
                out.amount = product
                if case .rounded = parsed { sink.note(QualityIssue(.info, "amount_rounded", "\(header[c]) '\(string(raw))' rounded to cents")) }
                return nil
            case .invalid:
                return QualityIssue(.critical, "bad_amount", "\(header[c]) '\(string(raw))' is not an amount")
            }
        }
        if let issue = money(amount, multiply: false) ?? money(unitPrice, multiply: true) { return issue }
        if out.amount != nil && out.currency == nil {
            return QualityIssue(.critical, "missing_currency", "an amount without a currency")
        }
        // Identity.
        var region = mapping.phoneRegion ?? "US"
        if let rc = regionColumn, let r = opt(rc) {
            let code = String(string(r).uppercased().prefix(2))
            if Phone.isKnownRegion(code) { region = code }
        }
        for (type, c) in identifierColumns {
            guard let raw = opt(c) else { continue }
            switch type {
            case .email:
                // Most addresses are lower-case ASCII already and go as their bytes; others through Text.email.
                if Text.isLowerCaseASCII(raw) {
                    sink.identifier(.email, utf8: raw)
                    if !Text.isPlausibleEmail(raw) {
                        sink.note(QualityIssue(.warning, "invalid_email", "\(header[c]) '\(string(raw))' is not a valid address"))
                    }
                } else {
                    let e = Text.email(string(raw))
                    sink.identifier(Identifier(.email, e))
                    if !Text.isPlausibleEmail(e) { sink.note(QualityIssue(.warning, "invalid_email", "\(header[c]) '\(string(raw))' is not a valid address")) }
                }
            case .phone:
                if let e = Phone.e164(string(raw), region: region) {
                    sink.identifier(Identifier(.phone, e))
                } else {
                    sink.note(QualityIssue(.warning, "invalid_phone", "\(header[c]) '\(string(raw))' is not a phone number"))
                }
            default:
                sink.identifier(type, utf8: raw)
            }
        }
        for (trait, c) in traitColumns {
            guard let raw = opt(c).map(string) else { continue }
            switch trait {
            case "email": sink.trait(trait, Text.email(raw))
            case "phone": if let e = Phone.e164(raw, region: region) { sink.trait(trait, e) }
            case "country": sink.trait(trait, Text.upper(raw))
            default: sink.trait(trait, Text.name(raw))
            }
        }
        for (purpose, c) in consentColumns {
            let raw = text(c).lowercased()
            if yes.contains(raw) {
                sink.consent(purpose, true)
            } else if no.contains(raw) {
                sink.consent(purpose, false)
            } else if !raw.isEmpty {
                return QualityIssue(.critical, "bad_consent", "\(header[c]) '\(text(c))' is neither yes nor no")
            }
        }
        if let ce = mapping.consent?.events?[eventType] { sink.consent(ce.purpose, ce.granted) }
        scratch.removeAll(keepingCapacity: true)
        for c in propertyColumns {
            guard let v = opt(c) else { continue }
            scratch.append(UInt8(ascii: scratch.isEmpty ? "{" : ","))
            scratch.append(contentsOf: propertyKeys[c])
            JSONText.appendQuoted(v, to: &scratch)
        }
        guard !scratch.isEmpty else {
            sink.row(out)
            return nil
        }
        scratch.append(UInt8(ascii: "}"))
        scratch.withUnsafeBytes { out.properties = $0; sink.row(out) }
        return nil
    }
}

/// An event row of a CSV record whose texts are still the record's bytes (trimmed, quotes undoubled, UTF-8): an
/// ingest worker's piece copies them straight into its columns (``RowBuilder/addEvent(_:)``), without a String per
/// field. Valid while the record (and the properties text) is.
struct CSVRow {
    var eventID: Int64
    var ts: Int64
    var channel: String
    var eventType: String
    var productID: UnsafeRawBufferPointer?
    var category: UnsafeRawBufferPointer?
    var campaign: UnsafeRawBufferPointer?
    var storeID: UnsafeRawBufferPointer?
    var currency: String?
    var quantity: Int32?
    var amount: Int64?
    /// The JSON object of the record's other columns.
    var properties: UnsafeRawBufferPointer?

    init(eventID: Int64, ts: Int64, channel: String, eventType: String) {
        (self.eventID, self.ts, self.channel, self.eventType) = (eventID, ts, channel, eventType)
    }

    /// The row with its texts as Strings, as ``ParsedRecord`` keeps them.
    var eventRow: EventRow {
        func string(_ b: UnsafeRawBufferPointer?) -> String? { b.map { String(decoding: $0, as: UTF8.self) } }
        var r = EventRow(eventID: eventID, ts: ts, channel: channel, eventType: eventType)
        (r.productID, r.category, r.campaign, r.storeID) = (string(productID), string(category), string(campaign), string(storeID))
        (r.currency, r.quantity, r.amount, r.properties) = (currency, quantity, amount, string(properties))
        return r
    }
}
