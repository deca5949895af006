import SeamColumnar
import Foundation
import SeamKernels

/// Segment-spec messages (https://segment.com/docs/connections/spec/) to canonical rows: track, page, screen,
/// identify, group and alias; one message per line or a `batch` envelope.
public struct SegmentSource: Sendable {
    /// The channel a file's messages belong to (`web` for analytics.js, `mobile_app` for the mobile libraries).
    public var channel: String
    /// Region for phones in identify traits written without a country code, unless the traits name a country.
    public var phoneRegion: String

    public init(channel: String, phoneRegion: String = "US") {
        self.channel = channel
        self.phoneRegion = phoneRegion
    }

    /// Segment's e-commerce spec names → canonical event types. Anything else keeps its name (with a warning).
    public static let eventTypes: [String: String] = [
        "Product Viewed": "product_view", "Product Clicked": "product_click", "Product Added": "add_to_cart",
        "Product Removed": "remove_from_cart", "Cart Viewed": "cart_view", "Checkout Started": "checkout_start",
        "Payment Info Entered": "payment_info", "Order Completed": "purchase", "Order Updated": "order_update",
        "Order Refunded": "return", "Order Cancelled": "order_cancel", "Products Searched": "search",
        "Product List Viewed": "product_list_view", "Coupon Applied": "coupon_applied",
        "Product Added to Wishlist": "add_to_wishlist", "Signed Up": "sign_up", "Signed In": "sign_in",
        "Email Unsubscribed": "unsubscribe",
    ]

    /// The message types, looked up by the bytes of `type` (no String per message); `messageTypeNames` in the same
    /// order (identify, group and alias rows take their type's name as event type).
    enum MessageType: Int, CaseIterable { case track, page, screen, identify, group, alias }
    static let messageTypeNames = ["track", "page", "screen", "identify", "group", "alias"]
    static let messageTypes = JSONKeySet(strings: messageTypeNames)

    /// ``eventTypes`` as a key set over the names' bytes and the canonical types in the same order: a track call's
    /// event name is looked up without making a String of it or hashing one.
    static let eventNames = JSONKeySet(strings: eventTypes.keys.sorted())
    static let canonicalTypes: [String] = eventTypes.keys.sorted().map { eventTypes[$0]! }

    /// The top-level members a message is read from, looked up in one pass (``JSONDocument/members(_:_:into:)``).
    enum Root: Int, CaseIterable {
        case type, userId, anonymousId, context, previousId, timestamp, sentAt, receivedAt, messageId, properties, event, name,
            traits, groupId
    }
    static let rootKeys = JSONKeySet([
        "type", "userId", "anonymousId", "context", "previousId", "timestamp", "sentAt", "receivedAt", "messageId", "properties",
        "event", "name", "traits", "groupId",
    ])

    /// Parses one message (already parsed into `doc`). `receivedAt` overrides the message's own (HTTP ingest).
    public func record(_ doc: JSONDocument, receivedAt serverTime: Int64? = nil) -> RecordOutcome {
        var rec = ParsedRecord()
        if let issue = record(doc, into: &rec, receivedAt: serverTime) { return .rejected(issue) }
        return .parsed(rec)
    }

    /// Parses one message into `sink`; returns why it is rejected, or nil. A rejected message may have handed the
    /// sink identifiers, traits, consents and notes (the sink's owner drops them), never rows.
    func record<Sink: RecordSink>(_ doc: JSONDocument, into sink: inout Sink, receivedAt serverTime: Int64? = nil) -> QualityIssue? {
        withUnsafeTemporaryAllocation(of: JSONDocument.Ref?.self, capacity: Root.allCases.count) { found in
            withUnsafeTemporaryAllocation(of: KeptMembers.Member.self, capacity: 8) { kept in
                doc.members(doc.root, Self.rootKeys, into: found)
                return record(doc, { found[$0.rawValue] }, kept: kept, into: &sink, receivedAt: serverTime)
            }
        }
    }

    private func record<Sink: RecordSink>(
        _ doc: JSONDocument, _ member: (Root) -> JSONDocument.Ref?, kept: UnsafeMutableBufferPointer<KeptMembers.Member>,
        into rec: inout Sink, receivedAt serverTime: Int64?
    ) -> QualityIssue? {
        let root = doc.root
        guard doc.kind(root) == .object else {
            return QualityIssue(.error, "not_an_object", "a Segment message must be a JSON object")
        }
        guard let typeRef = member(.type), doc.kind(typeRef) == .string else {
            return QualityIssue(.error, "missing_type", "the message has no \"type\"")
        }
        // An unknown type is reported once the parts every message has (identity, times) are checked.
        let messageType = doc.withText(typeRef, { Self.messageTypes.index(of: $0).flatMap(MessageType.init) }) ?? nil
        // Identity.
        if let r = member(.userId) { identifier(.userID, r, doc, into: &rec) }
        if let r = member(.anonymousId) { identifier(.anonymousID, r, doc, into: &rec) }
        if let c = member(.context), let r = doc.path(c, "device", "id") { identifier(.deviceID, r, doc, into: &rec) }
        if messageType == .alias, let r = member(.previousId) { identifier(.anonymousID, r, doc, into: &rec) }
        // Time, with Segment's clock-skew correction: receivedAt - (sentAt - timestamp).
        func time(_ key: Root) -> (ok: Int64?, present: Bool) {
            guard let r = member(key), doc.kind(r) != .null else { return (nil, false) }
            guard let t = doc.numberText(r).flatMap({ TimeFormat.iso.parse($0, zone: .utc) }) else { return (nil, true) }
            return (t, true)
        }
        let timestamp = time(.timestamp), sentAt = time(.sentAt), received = time(.receivedAt)
        if timestamp.present && timestamp.ok == nil || sentAt.present && sentAt.ok == nil || received.present && received.ok == nil {
            let name = timestamp.present && timestamp.ok == nil ? "timestamp" : sentAt.present && sentAt.ok == nil ? "sentAt" : "receivedAt"
            return QualityIssue(.error, "bad_time", "\"\(name)\" is not an ISO 8601 time")
        }
        let receipt = serverTime ?? received.ok
        var ts: Int64
        if let t = timestamp.ok {
            if let s = sentAt.ok, let r = receipt { ts = r - (s - t) } else { ts = t }
        } else if let r = receipt {
            ts = r
            rec.note(QualityIssue(.info, "missing_timestamp", "no \"timestamp\": the time of receipt is used"))
        } else if let s = sentAt.ok {
            ts = s
            rec.note(QualityIssue(.info, "missing_timestamp", "no \"timestamp\" nor \"receivedAt\": \"sentAt\" is used"))
        } else {
            return QualityIssue(.error, "missing_time", "the message has no timestamp, sentAt or receivedAt")
        }
        // Stable id: the message id (hashed from the message's bytes, no String made); without one, the whole message.
        let baseID: UInt64
        if let r = member(.messageId), let h = doc.withText(r, { $0.isEmpty ? nil : Hash64.hash($0, seed: 0x5345_474D) }) ?? nil {
            baseID = h
        } else {
            baseID = Hash64.hash(doc.bytes, seed: 0x5345_474E)
            rec.note(QualityIssue(.info, "missing_message_id", "no \"messageId\": the id is derived from the message's bytes"))
        }
        // What did not map, plus the raw times, stays in properties: the message's own JSON (already validated) for
        // each kept member, written by the sink straight where it keeps the text.
        // At most six members are kept (three times, properties or traits, name or groupId): `kept` has room for 8.
        var keptCount = 0
        func add(_ key: StaticString, raw: UnsafeRawBufferPointer) {
            kept[keptCount] = (key, raw)
            keptCount += 1
        }
        func props() -> KeptMembers { KeptMembers(UnsafeBufferPointer(rebasing: kept[..<keptCount])) }
        for (key, name): (Root, StaticString) in [(.timestamp, "timestamp"), (.sentAt, "sentAt"), (.receivedAt, "receivedAt")] {
            if let r = member(key) { add(name, raw: doc.raw(r)) }
        }
        let propsRef = member(.properties)
        func row(_ eventType: String, index: UInt64 = 0) -> SegmentRow {
            SegmentRow(eventID: Int64(bitPattern: Hash64.combine(baseID, index)), ts: ts, channel: channel, eventType: eventType)
        }
        guard let type = messageType else {
            return QualityIssue(.error, "unknown_type", "unknown message type '\(doc.string(typeRef) ?? "")'")
        }
        switch type {
        case .track:
            guard let er = member(.event), doc.kind(er) == .string else {
                return QualityIssue(.error, "missing_event", "a track call has no \"event\" name")
            }
            if let p = propsRef { add("properties", raw: doc.raw(p)) }
            let eventType: String
            if let k = doc.withText(er, { Self.eventNames.index(of: $0) }) ?? nil {
                eventType = Self.canonicalTypes[k]
            } else {
                let name = doc.string(er) ?? ""
                rec.note(QualityIssue(.warning, "unknown_event", "unknown event name '\(name)' kept as it is"))
                eventType = name
            }
            if eventType == "purchase" || eventType == "return", let p = propsRef, let products = doc.member(p, "products"),
                doc.kind(products) == .array, !doc.elements(products).isEmpty
            {
                // Every line is checked before any is handed over: a bad line rejects the whole order.
                var lines: [SegmentRow] = []
                for (k, item) in doc.elements(products).enumerated() {
                    var r = row(eventType, index: UInt64(k + 1))
                    if let issue = fillProduct(&r, doc, item, currencyFrom: p) { return issue }
                    lines.append(r)
                }
                let text = props()  // the same text for each of the order's lines
                for r in lines { rec.row(r, of: doc, properties: text) }
            } else {
                var r = row(eventType)
                if let p = propsRef {
                    if let issue = fillProduct(&r, doc, p, currencyFrom: p) { return issue }
                    if r.amount == nil {  // order-level money: total, revenue or value
                        for key: StaticString in ["total", "revenue", "value"] {
                            guard let m = doc.member(p, key) else { continue }
                            switch doc.numberText(m).map({ Money.parse($0) }) ?? .invalid {
                            case .exact(let v): r.amount = v
                            case .rounded(let v):
                                r.amount = v
                                rec.note(QualityIssue(.info, "amount_rounded", "\(key) rounded to cents"))
                            case .invalid:
                                return QualityIssue(.critical, "bad_amount", "\"\(key)\" is not a number")
                            }
                            break
                        }
                    }
                    r.campaign = doc.member(p, "campaign")
                }
                rec.row(r, of: doc, properties: props())
            }
            if eventType == "unsubscribe" { rec.consent("email", false) }
        case .page, .screen:
            if let p = propsRef { add("properties", raw: doc.raw(p)) }
            if let n = member(.name) { add("name", raw: doc.raw(n)) }
            rec.row(row("page_view"), of: doc, properties: props())
        case .identify, .group, .alias:
            if let t = member(.traits) {
                add("traits", raw: doc.raw(t))
                readTraits(doc, t, into: &rec)
            }
            if type == .group, let g = member(.groupId) { add("groupId", raw: doc.raw(g)) }
            rec.row(row(Self.messageTypeNames[type.rawValue]), of: doc, properties: props())
        }
        return nil
    }

    /// An identifier from a message's value (a string, or a number or bool as written), trimmed; none when nothing
    /// is left. Its bytes go to the sink as they are in the message (the parser checked them as UTF-8).
    private func identifier<Sink: RecordSink>(_ type: IdentifierType, _ r: JSONDocument.Ref, _ doc: JSONDocument, into rec: inout Sink) {
        _ = doc.withText(r) { raw in
            let t = Text.trim(raw)
            if !t.isEmpty { rec.identifier(type, utf8: t) }
        }
    }

    /// The members of a product (or order line) object ``fillProduct(_:_:_:currencyFrom:)`` reads, found in one
    /// pass over the object (one `member` lookup per name scanned all its members each time).
    enum ProductKey: Int, CaseIterable { case productID, sku, category, currency, quantity, price }
    static let productKeys = JSONKeySet(["product_id", "sku", "category", "currency", "quantity", "price"])

    /// Product fields of a product or order-line object; nil when fine, else the issue that stops the record.
    func fillProduct(_ r: inout SegmentRow, _ doc: JSONDocument, _ p: JSONDocument.Ref, currencyFrom order: JSONDocument.Ref) -> QualityIssue? {
        withUnsafeTemporaryAllocation(of: JSONDocument.Ref?.self, capacity: ProductKey.allCases.count) { found in
            doc.members(p, Self.productKeys, into: found)
            return fillProduct(&r, doc, { found[$0.rawValue] }, currencyFrom: order)
        }
    }

    private func fillProduct(
        _ r: inout SegmentRow, _ doc: JSONDocument, _ member: (ProductKey) -> JSONDocument.Ref?, currencyFrom order: JSONDocument.Ref
    ) -> QualityIssue? {
        r.productID = member(.productID) ?? member(.sku)
        r.category = member(.category)
        r.currency = member(.currency) ?? doc.member(order, "currency")
        var qty: Int64 = 1
        if let q = member(.quantity) {
            guard let t = doc.numberText(q), case .exact(let minor) = Money.parse(t), minor % 100 == 0,
                abs(minor / 100) <= Int64(Int32.max)
            else { return QualityIssue(.critical, "bad_quantity", "\"quantity\" is not a whole number") }
            qty = minor / 100
            r.quantity = Int32(qty)
        }
        if let pr = member(.price) {
            guard let t = doc.numberText(pr) else { return QualityIssue(.critical, "bad_amount", "\"price\" is not a number") }
            switch Money.parse(t) {
            case .exact(let v), .rounded(let v):
                // A line's amount is price × quantity; a product past Int64's minor units is no amount at all.
                let (amount, overflow) = v.multipliedReportingOverflow(by: qty)
                guard !overflow else { return QualityIssue(.critical, "bad_amount", "\"price\" × \"quantity\" is out of range") }
                r.amount = amount
            case .invalid: return QualityIssue(.critical, "bad_amount", "\"price\" is not a number")
            }
        }
        if r.amount != nil && !(r.currency.map(doc.hasText) ?? false) {
            return QualityIssue(.critical, "missing_currency", "an amount without a currency")
        }
        return nil
    }

    func readTraits<Sink: RecordSink>(_ doc: JSONDocument, _ t: JSONDocument.Ref, into rec: inout Sink) {
        var country: String?
        if let a = doc.member(t, "address"), let c = doc.member(a, "country").flatMap(doc.text) {
            country = Text.upper(c)
            rec.trait("country", country!)
        }
        if let a = doc.member(t, "address"), let c = doc.member(a, "city").flatMap(doc.text) { rec.trait("city", Text.name(c)) }
        if let e = doc.member(t, "email").flatMap(doc.text), !e.isEmpty {
            let n = Text.email(e)
            rec.identifier(Identifier(.email, n))
            rec.trait("email", n)
            if !Text.isPlausibleEmail(n) { rec.note(QualityIssue(.warning, "invalid_email", "'\(e)' is not a valid email address")) }
        }
        if let ph = doc.member(t, "phone").flatMap(doc.text), !ph.isEmpty {
            let region = country.flatMap { Phone.isKnownRegion($0) ? $0 : nil } ?? phoneRegion
            if let e = Phone.e164(ph, region: region) {
                rec.identifier(Identifier(.phone, e))
                rec.trait("phone", e)
            } else {
                rec.note(QualityIssue(.warning, "invalid_phone", "'\(ph)' is not a phone number"))
            }
        }
        for (key, trait): (StaticString, String) in [("firstName", "first_name"), ("first_name", "first_name"), ("lastName", "last_name"), ("last_name", "last_name")] {
            if let v = doc.member(t, key).flatMap(doc.text) { rec.trait(trait, Text.name(v)) }
        }
        if let v = doc.member(t, "loyaltyTier").flatMap(doc.text) { rec.trait("loyalty_tier", v) }
        // Consent in traits: {"consent": {"email": true, "sms": false, "ads": true}} or "unsubscribed": true.
        if let c = doc.member(t, "consent"), doc.kind(c) == .object {
            for (purpose, key): (String, StaticString) in [("email", "email"), ("sms", "sms"), ("ads", "ads")] {
                if let v = doc.member(c, key).flatMap(doc.bool) { rec.consent(purpose, v) }
            }
        }
        if doc.member(t, "unsubscribed").flatMap(doc.bool) == true { rec.consent("email", false) }
    }
}

extension TimeFormat {
    /// The ISO 8601 reader (Segment's times).
    public static let iso = try! TimeFormat("iso8601")
}

/// Where the parts of a parsed record go. A ``ParsedRecord`` collects them (the public `record` calls); an ingest
/// worker's piece writes them straight into its columns and flat lists, with no String for the properties text and
/// no arrays per record. Rows arrive only once the record can no longer be rejected; identifiers, traits, consents
/// and notes may arrive before a rejection, and the sink's owner drops them then.
protocol RecordSink {
    mutating func identifier(_ id: Identifier)
    /// An identifier given as the UTF-8 bytes of its value (trimmed, not empty).
    mutating func identifier(_ type: IdentifierType, utf8: UnsafeRawBufferPointer)
    mutating func trait(_ name: String, _ value: String)
    mutating func consent(_ purpose: String, _ granted: Bool)
    mutating func note(_ issue: QualityIssue)
    /// One event row; `properties`, when given, is its properties text (the row's own field is then unset).
    mutating func row(_ r: EventRow, properties: KeptMembers?)
    /// One event row of a Segment message, its texts still values of `doc`.
    mutating func row(_ r: SegmentRow, of doc: JSONDocument, properties: KeptMembers?)
    /// One event row of a CSV record, its texts still the record's bytes.
    mutating func row(_ r: CSVRow)
}

extension RecordSink {
    mutating func identifier(_ type: IdentifierType, utf8: UnsafeRawBufferPointer) {
        identifier(Identifier(type, String(decoding: utf8, as: UTF8.self)))
    }

    mutating func row(_ r: SegmentRow, of doc: JSONDocument, properties: KeptMembers?) {
        row(r.eventRow(doc), properties: properties)
    }

    mutating func row(_ r: CSVRow) { row(r.eventRow, properties: nil) }
}

/// An event row of a Segment message whose texts stay values of the message (``JSONDocument/Ref``) until a sink takes
/// them: an ingest worker's piece copies their bytes straight into its columns (``RowBuilder/addEvent(_:of:properties:)``),
/// without a String per field. Valid while the message's document is.
struct SegmentRow {
    var eventID: Int64
    var ts: Int64
    var channel: String
    var eventType: String
    /// Each a string, or a number or bool as written (``JSONDocument/text(_:)``); any other value is NULL.
    var productID: JSONDocument.Ref?
    var category: JSONDocument.Ref?
    /// Upper-cased when taken (``Text/upper(_:)``).
    var currency: JSONDocument.Ref?
    var campaign: JSONDocument.Ref?
    var quantity: Int32?
    var amount: Int64?

    init(eventID: Int64, ts: Int64, channel: String, eventType: String) {
        (self.eventID, self.ts, self.channel, self.eventType) = (eventID, ts, channel, eventType)
    }

    /// The row with its texts as Strings, as ``ParsedRecord`` keeps them.
    func eventRow(_ doc: JSONDocument) -> EventRow {
        var r = EventRow(eventID: eventID, ts: ts, channel: channel, eventType: eventType)
        r.productID = productID.flatMap(doc.text)
        r.category = category.flatMap(doc.text)
        r.currency = currency.flatMap(doc.text).map(Text.upper)
        r.campaign = campaign.flatMap(doc.text)
        (r.quantity, r.amount) = (quantity, amount)
        return r
    }
}

extension ParsedRecord: RecordSink {
    mutating func identifier(_ id: Identifier) { identifiers.append(id) }
    mutating func trait(_ name: String, _ value: String) { traits.append((name, value)) }
    mutating func consent(_ purpose: String, _ granted: Bool) { consents.append((purpose, granted)) }
    mutating func note(_ issue: QualityIssue) { notes.append(issue) }
    mutating func row(_ r: EventRow, properties: KeptMembers?) {
        var r = r
        if let properties { r.properties = properties.string }
        rows.append(r)
    }
}

/// The members of a Segment message kept in `properties`, written as one JSON object: `{` + `"key":value` joined
/// by `,` + `}`, each value the message's own (already validated) JSON. Valid while the message is.
struct KeptMembers {
    /// A kept member: its name (a plain ASCII name: nothing to escape) and its JSON as written.
    typealias Member = (key: StaticString, raw: UnsafeRawBufferPointer)
    let members: UnsafeBufferPointer<Member>
    let byteCount: Int

    init(_ members: UnsafeBufferPointer<Member>) {
        self.members = members
        byteCount = 2 + members.reduce(0) { $0 + $1.key.utf8CodeUnitCount + 3 + $1.raw.count } + max(members.count - 1, 0)
    }

    /// Writes the object into `out` (room for at least `byteCount` bytes); returns `byteCount`.
    @discardableResult
    func write(into out: UnsafeMutableRawBufferPointer) -> Int {
        var at = 0
        func put(_ b: UInt8) {
            out[at] = b
            at += 1
        }
        func put(_ bytes: UnsafeRawBufferPointer) {
            guard !bytes.isEmpty else { return }
            (out.baseAddress! + at).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
            at += bytes.count
        }
        put(UInt8(ascii: "{"))
        for (k, m) in members.enumerated() {
            if k > 0 { put(UInt8(ascii: ",")) }
            put(UInt8(ascii: "\""))
            put(UnsafeRawBufferPointer(start: m.key.utf8Start, count: m.key.utf8CodeUnitCount))
            put(UInt8(ascii: "\""))
            put(UInt8(ascii: ":"))
            put(m.raw)
        }
        put(UInt8(ascii: "}"))
        return at
    }

    var string: String {
        String(unsafeUninitializedCapacity: byteCount) { write(into: UnsafeMutableRawBufferPointer($0)) }
    }
}
