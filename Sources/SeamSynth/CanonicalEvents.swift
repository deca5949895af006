import SeamColumnar

/// Builds rows of the canonical `events` table directly from simulated activity (the generator's store mode).
enum CanonicalEvents {
    static func eventID(_ person: Int, _ seq: Int32, _ line: Int) -> Int64 {
        var r = SeededRandom(seed: UInt64(person) << 32 | UInt64(UInt32(bitPattern: seq)), stream: UInt64(line))
        return Int64(bitPattern: r.next() >> 1)
    }

    static func chunk(world: World, personOffset: Int) -> Chunk {
        let schema = CanonicalTables.events
        let expected = world.activity.reduce(0) { $0 + Generator.canonicalCount($1) }
        var eventID = ColumnBuilder(.bigint, capacity: expected), ts = ColumnBuilder(.timestamp, capacity: expected)
        var customer = ColumnBuilder(.bigint, capacity: expected), channel = ColumnBuilder(.varchar, capacity: expected)
        var type = ColumnBuilder(.varchar, capacity: expected), product = ColumnBuilder(.varchar, capacity: expected)
        var category = ColumnBuilder(.varchar, capacity: expected), quantity = ColumnBuilder(.integer, capacity: expected)
        var amount = ColumnBuilder(.decimal, capacity: expected), currency = ColumnBuilder(.varchar, capacity: expected)
        var campaign = ColumnBuilder(.varchar, capacity: expected), store = ColumnBuilder(.varchar, capacity: expected)
        var properties = ColumnBuilder(.varchar, capacity: expected)

        for (localIndex, a) in world.activity.enumerated() {
            let p = world.people[localIndex]
            let personIndex = personOffset + localIndex
            let cur = Countries.all[p.country].currency
            func row(_ e: SimEvent, _ t: String, line: Int = 0, at: Int64? = nil) {
                eventID.append(int64: CanonicalEvents.eventID(personIndex, e.seq, line))
                ts.append(int64: at ?? e.ts)
                customer.append(int64: Int64(personIndex + 1))
                channel.append(string: e.channel.canonical)
                type.append(string: t)
            }
            func noProduct() {
                product.appendNull(); category.appendNull(); quantity.appendNull(); amount.appendNull(); currency.appendNull()
            }
            func tail(campaign c: String?, store s: String?, props: String) {
                if let c { campaign.append(string: c) } else { campaign.appendNull() }
                if let s { store.append(string: s) } else { store.appendNull() }
                properties.append(string: props)
            }
            for e in a.events where !e.duplicate {
                switch e.kind {
                case .identify, .alias:
                    continue
                case .orderCompleted, .posSale, .orderRefunded, .posReturn:
                    let o = a.orders[Int(e.ref)]
                    let isReturn = e.kind == .orderRefunded || e.kind == .posReturn
                    let lines = isReturn ? o.refundedLines.map { o.lines[$0] } : o.lines
                    for (k, l) in lines.enumerated() {
                        let prod = world.catalog.products[Int(l.product)]
                        row(e, isReturn ? "return" : "purchase", line: k, at: isReturn ? o.refundedAt : o.ts)
                        product.append(string: prod.sku)
                        category.append(string: Catalog.categories[prod.category])
                        quantity.append(int32: Int32(l.quantity))
                        amount.append(int64: l.unitPrice * Int64(l.quantity))
                        currency.append(string: cur)
                        tail(
                            campaign: nil, store: e.channel == .pos ? world.catalog.stores[Int(o.store)].id : nil,
                            props: "{\"order_id\":\"\(o.id)\"}")
                    }
                case .productView, .addToCart:
                    let prod = world.catalog.products[Int(e.ref)]
                    row(e, e.kind == .productView ? "product_view" : "add_to_cart")
                    product.append(string: prod.sku)
                    category.append(string: Catalog.categories[prod.category])
                    if e.kind == .addToCart { quantity.append(int32: 1) } else { quantity.appendNull() }
                    amount.appendNull()
                    currency.appendNull()
                    tail(campaign: nil, store: nil, props: "{}")
                case .pageView, .checkoutStarted, .ticket, .crmUpdate:
                    let names: [EventKind: String] = [.pageView: "page_view", .checkoutStarted: "checkout", .ticket: "support_ticket", .crmUpdate: "crm_update"]
                    row(e, names[e.kind]!)
                    noProduct()
                    tail(campaign: nil, store: nil, props: e.kind == .ticket ? "{\"reason\":\"\(a.tickets[Int(e.ref)].reason)\"}" : "{}")
                case .emailSent, .emailOpen, .emailClick, .unsubscribe, .bounce:
                    let names: [EventKind: String] = [.emailSent: "email_sent", .emailOpen: "email_open", .emailClick: "email_click", .unsubscribe: "unsubscribe", .bounce: "email_bounce"]
                    row(e, names[e.kind]!)
                    noProduct()
                    tail(campaign: world.campaigns[Int(e.ref)].id, store: nil, props: "{}")
                }
            }
        }
        return Chunk(
            schema: schema,
            columns: [eventID, ts, customer, channel, type, product, category, quantity, amount, currency, campaign, store, properties]
                .map { $0.finish() })
    }
}
