import SeamColumnar

/// Renders web and app events as Segment-spec messages, one JSON object per line, in receipt order.
///
/// Mess added here: re-sent messages (same messageId), events that arrive late, device clock skew on
/// mobile (timestamp and sentAt both off by the device's skew), messages without `timestamp` or
/// `receivedAt`, identify traits with emails in mixed case and phones in international spelling, and a few
/// broken lines (truncated JSON).
struct SegmentEventsWriter {
    let world: World
    let fileID: UInt64

    static let brokenJSONRate = 0.001
    static let missingTimestampRate = 0.003
    static let missingReceivedAtRate = 0.02

    func messageID(_ e: SimEvent) -> String {
        var r = SeededRandom(seed: world.params.seed ^ 0x4D53_4749_44, stream: UInt64(e.person) << 24 | UInt64(e.seq))
        return Population.uuid(&r)
    }

    func render(_ e: SimEvent, line: Int, into out: inout TextOutput, injected: inout [InjectedError]) {
        let p = world.people[Int(e.person)]
        let mobile = e.channel == .mobile
        let skew = mobile ? p.clockSkew : 0
        var o = TextOutput(capacity: 512)
        let type: String
        var event: String? = nil
        switch e.kind {
        case .pageView: type = mobile ? "screen" : "page"
        case .identify: type = "identify"
        case .alias: type = "alias"
        case .productView: type = "track"; event = "Product Viewed"
        case .addToCart: type = "track"; event = "Product Added"
        case .checkoutStarted: type = "track"; event = "Checkout Started"
        case .orderCompleted: type = "track"; event = "Order Completed"
        case .orderRefunded: type = "track"; event = "Order Refunded"
        default: type = "track"
        }
        o.raw("{")
        o.jsonField("type", type, comma: false)
        if let event { o.jsonField("event", event) }
        o.jsonField("messageId", messageID(e))
        let anon: String? = mobile ? nil : p.anonymousIDs[Int(e.device)]
        if e.kind == .alias {
            o.jsonField("previousId", anon ?? p.deviceIDs[Int(e.device)])
            o.jsonField("userId", p.userID!)
        } else {
            if let anon { o.jsonField("anonymousId", anon) }
            if mobile { o.jsonField("anonymousId", "app-" + p.deviceIDs[Int(e.device)].lowercased()) }
            if e.loggedIn, let u = p.userID { o.jsonField("userId", u) }
        }
        let h = lineHash(world.params.seed, fileID, line)
        if h >= Self.missingTimestampRate { o.jsonField("timestamp", Timestamp.iso8601(e.ts + skew)) }
        o.jsonField("sentAt", Timestamp.iso8601(e.ts + e.sendDelay + skew))
        if lineHash(world.params.seed, fileID &+ 99, line) >= Self.missingReceivedAtRate {
            o.jsonField("receivedAt", Timestamp.iso8601(e.received))
        }
        // Context: library, device (mobile), locale.
        let c = Countries.all[p.country]
        if mobile {
            o.raw(",\"context\":{\"library\":{\"name\":\"analytics-ios\",\"version\":\"4.1.8\"},\"device\":{\"id\":")
            o.jsonString(p.deviceIDs[Int(e.device)])
            o.raw(",\"manufacturer\":\"Apple\",\"model\":\"iPhone15,2\"},\"os\":{\"name\":\"iOS\",\"version\":\"17.4\"},\"locale\":")
        } else {
            o.raw(",\"context\":{\"library\":{\"name\":\"analytics.js\",\"version\":\"5.2.0\"},\"page\":{\"path\":\"/\"},\"locale\":")
        }
        o.jsonString(c.code == "US" ? "en-US" : c.code == "GB" ? "en-GB" : c.code == "DE" ? "de-DE" : "fr-FR")
        o.raw("}")
        switch e.kind {
        case .identify:
            o.raw(",\"traits\":{")
            var first = true
            if let email = p.email {
                // Apps send what the user typed: case and stray spaces vary.
                let typed = Int(e.seq) % 5 == 0 ? " " + email.capitalized + " " : (Int(e.seq) % 3 == 0 ? email.uppercased() : email)
                o.jsonField("email", typed, comma: false)
                first = false
            }
            o.jsonField("firstName", p.firstName, comma: !first)
            o.jsonField("lastName", p.lastName)
            if let s = p.phoneSubscriber { o.jsonField("phone", c.formatInternational(s)) }
            o.raw(",\"address\":{")
            o.jsonField("city", p.city, comma: false)
            o.jsonField("country", c.code)
            o.raw("}}")
        case .pageView:
            o.jsonField("name", mobile ? "Home" : "Home Page")
            o.raw(",\"properties\":{\"path\":\"/\",\"title\":\"Shop\"}")
        case .productView, .addToCart:
            let prod = world.catalog.products[Int(e.ref)]
            o.raw(",\"properties\":{")
            o.jsonField("product_id", prod.sku, comma: false)
            o.jsonField("sku", prod.sku)
            o.jsonField("name", prod.name)
            o.jsonField("category", Catalog.categories[prod.category])
            o.jsonRaw("price", money(prod.price * c.rate / 100 / 10 * 10 + 9))
            o.jsonField("currency", c.currency)
            if e.kind == .addToCart { o.jsonRaw("quantity", "1") }
            o.raw("}")
        case .checkoutStarted, .orderCompleted, .orderRefunded:
            let order = world.orders(of: Int(e.person))[Int(e.ref)]
            let lines = e.kind == .orderRefunded ? order.refundedLines.map { order.lines[$0] } : order.lines
            let total = lines.reduce(Int64(0)) { $0 + $1.unitPrice * Int64($1.quantity) }
            o.raw(",\"properties\":{")
            o.jsonField("order_id", order.id, comma: false)
            o.jsonRaw(e.kind == .checkoutStarted ? "value" : "total", money(total))
            if e.kind == .orderCompleted { o.jsonRaw("revenue", money(total)) }
            o.jsonField("currency", c.currency)
            if e.kind != .checkoutStarted {
                o.raw(",\"products\":[")
                for (k, l) in lines.enumerated() {
                    let prod = world.catalog.products[Int(l.product)]
                    o.raw(k == 0 ? "{" : ",{")
                    o.jsonField("product_id", prod.sku, comma: false)
                    o.jsonField("sku", prod.sku)
                    o.jsonField("name", prod.name)
                    o.jsonField("category", Catalog.categories[prod.category])
                    o.jsonRaw("price", money(l.unitPrice))
                    o.jsonRaw("quantity", String(l.quantity))
                    o.raw("}")
                }
                o.raw("]")
            }
            o.raw("}")
        default:
            break
        }
        o.raw("}")
        if h >= Self.missingTimestampRate && h < Self.missingTimestampRate + Self.brokenJSONRate {
            // A line cut short, as a crashed collector leaves it.
            let cut = max(1, Int(Double(o.bytes.count) * (0.3 + 0.4 * lineHash(world.params.seed, fileID &+ 7, line))))
            o.bytes.removeLast(o.bytes.count - cut)
            injected.append(InjectedError(line: line, kind: "broken_json"))
        } else if h < Self.missingTimestampRate {
            injected.append(InjectedError(line: line, kind: "missing_timestamp"))
        }
        if e.duplicate { injected.append(InjectedError(line: line, kind: "duplicate_message")) }
        out.bytes.append(contentsOf: o.bytes)
        out.newline()
    }
}
