/// What happens to each person over the window: browsing sessions, purchases by a buy-till-you-die process,
/// returns, email campaigns, support tickets and CRM edits. Everything is true (un-messed) here; the writers
/// add the mess real exports have.
enum EventKind: UInt8, Sendable {
    case pageView, productView, addToCart, checkoutStarted, orderCompleted, orderRefunded, identify, alias
    case emailSent, emailOpen, emailClick, unsubscribe, bounce
    case posSale, posReturn
    case ticket
    case crmUpdate
}

enum Channel: UInt8, Sendable {
    case web, mobile, email, pos, callCenter, crm
    var canonical: String { CanonicalChannels.names[Int(rawValue)] }
}

enum CanonicalChannels {
    static let names = ["web", "mobile_app", "email", "store_pos", "call_center", "crm"]
}

/// How a till identified the shopper.
enum TillIdentification: UInt8, Sendable {
    case loyalty, phone, placeholderZeros, tillPhone, none
}

struct SimEvent: Sendable {
    /// True time of the interaction (µs UTC).
    var ts: Int64
    /// When the collector or export received it; files are written in this order.
    var received: Int64
    var person: Int32
    var kind: EventKind
    var channel: Channel
    /// Order index (purchases, returns), product index (views), campaign (email), ticket or CRM row index.
    var ref: Int32
    /// Browser or device index into the person's ids; -1 when not applicable.
    var device: Int8
    var loggedIn: Bool
    /// True delay between the event and the client sending it (µs).
    var sendDelay: Int64
    /// This copy is a client retry of the previous message (same messageId).
    var duplicate: Bool
    /// Sequence number within the person, for stable message ids.
    var seq: Int32
}

struct OrderLine: Sendable {
    var product: Int32
    var quantity: Int16
    var unitPrice: Int64
}

struct Order: Sendable {
    var id: String
    var person: Int32
    var ts: Int64
    var channel: Channel
    var store: Int32
    var lines: [OrderLine]
    var identification: TillIdentification
    /// Lines refunded later (indices), and when.
    var refundedLines: [Int]
    var refundedAt: Int64
}

struct Ticket: Sendable {
    var id: String
    var person: Int32
    var opened: Int64
    var closed: Int64?
    var reason: String
    var byPhone: Bool
    var satisfaction: Int?
}

struct CRMRow: Sendable {
    var person: Int32
    var updated: Int64
    var consentEmail: Bool
    var consentSMS: Bool
    var consentAds: Bool
    var revision: Int
}

struct Campaign: Sendable {
    var id: String
    var name: String
    var sentAt: Int64
    var category: Int
}

/// All activity of one person.
struct Activity: Sendable {
    var events: [SimEvent] = []
    var orders: [Order] = []
    var tickets: [Ticket] = []
    var crm: [CRMRow] = []
    /// When the person dropped out (µs), or nil if still alive at the end.
    var droppedAt: Int64? = nil
    var unsubscribedAt: Int64? = nil
}

enum Simulation {
    static let day: Int64 = 86_400_000_000
    static let minute: Int64 = 60_000_000

    static func campaigns(_ p: SynthParameters) -> [Campaign] {
        var rng = SeededRandom(seed: p.seed, stream: 0xCA4D_A161)
        var out: [Campaign] = []
        var t = p.start + 3 * day + 9 * 3_600_000_000  // weekly-ish, 09:00 UTC
        var k = 0
        let themes = ["Spring Sale", "New Arrivals", "Weekend Deals", "Loyalty Rewards", "Back in Stock", "Holiday Gifts"]
        while t < p.end {
            let cat = rng.int(0...(Catalog.categories.count - 1))
            out.append(Campaign(id: "cmp_\(String(1000 + k))", name: "\(rng.pick(themes)) – \(Catalog.categories[cat])", sentAt: t, category: cat))
            t += 14 * day
            k += 1
        }
        return out
    }

    static func simulate(_ person: Person, catalog: Catalog, campaigns: [Campaign], params: SynthParameters) -> Activity {
        var rng = SeededRandom(seed: params.seed ^ 0x51_4D55_4C41, stream: UInt64(person.index) &+ 7)
        var act = Activity()
        let pid = Int32(person.index)
        var seq: Int32 = 0
        let country = Countries.all[person.country]

        func add(_ ts: Int64, _ kind: EventKind, _ ch: Channel, ref: Int32 = -1, device: Int8 = -1, loggedIn: Bool = false) {
            guard ts < params.end else { return }
            var delay: Int64 = Int64(rng.int(5...1500)) * 1000
            if ch == .mobile {
                // Apps queue events and flush in batches; some sit offline for hours or days.
                delay = Int64(rng.int(0...600)) * 1_000_000
                if rng.chance(0.01) { delay += Int64(rng.int(1...96)) * 3_600_000_000 }
            }
            let network = Int64(rng.int(20...900)) * 1000
            let received = (ch == .web || ch == .mobile) ? ts + delay + network : ts
            seq += 1
            act.events.append(
                SimEvent(
                    ts: ts, received: received, person: pid, kind: kind, channel: ch, ref: ref, device: device, loggedIn: loggedIn,
                    sendDelay: delay, duplicate: false, seq: seq))
            if (ch == .web || ch == .mobile) && rng.chance(0.008) {
                var dup = act.events[act.events.count - 1]
                dup.received += Int64(rng.int(1...300)) * 1_000_000
                dup.duplicate = true
                act.events.append(dup)
            }
        }

        func pickProduct() -> Int {
            let c = rng.weighted(person.categoryAffinity)
            return c * 40 + min(39, Int(rng.exponential(rate: 0.12)))
        }

        // Buy till you die: purchases are Poisson(λ) while alive; after each, the person drops out with probability p.
        var purchaseTimes: [Int64] = []
        var t = person.birth
        var alive = true
        while alive {
            t += Int64(rng.exponential(rate: max(person.lambda, 1e-6)) * Double(day))
            if t >= params.end { break }
            purchaseTimes.append(t)
            if rng.chance(person.dropout) {
                alive = false
                act.droppedAt = t
            }
        }
        if purchaseTimes.isEmpty && rng.chance(0.3) {
            // Everyone in the data did something: a first purchase at acquisition for some, browsing only for others.
            purchaseTimes.append(person.birth + Int64(rng.int(0...3600)) * 1_000_000)
        }
        let activeUntil = min(params.end, (act.droppedAt ?? params.end) + 60 * day)

        // Identify on first login per browser/device.
        var identified = Set<Int>()
        func session(at start: Int64, channel: Channel, purchase: Bool) {
            let isWeb = channel == .web
            let devices = isWeb ? person.anonymousIDs.count : person.deviceIDs.count
            guard devices > 0 else { return }
            let device = rng.int(0...(devices - 1))
            let loggedIn = person.userID != nil && (purchase ? rng.chance(0.85) : rng.chance(0.4))
            var ts = start
            let key = (isWeb ? 0 : 100) + device
            if loggedIn && !identified.contains(key) {
                identified.insert(key)
                add(ts, rng.chance(0.06) && isWeb ? .alias : .identify, channel, device: Int8(device), loggedIn: true)
                ts += Int64(rng.int(1...20)) * 1_000_000
            }
            add(ts, .pageView, channel, device: Int8(device), loggedIn: loggedIn)
            let views = 1 + rng.poisson(purchase ? 2.5 : 1.8)
            var viewed: [Int] = []
            for _ in 0..<views {
                ts += Int64(rng.int(5...180)) * 1_000_000
                let prod = pickProduct()
                viewed.append(prod)
                add(ts, .productView, channel, ref: Int32(prod), device: Int8(device), loggedIn: loggedIn)
                if !purchase && rng.chance(0.08) {
                    ts += Int64(rng.int(5...60)) * 1_000_000
                    add(ts, .addToCart, channel, ref: Int32(prod), device: Int8(device), loggedIn: loggedIn)
                }
            }
            guard purchase else { return }
            let order = makeOrder(at: ts, channel: channel, first: viewed)
            for line in order.lines {
                ts += Int64(rng.int(5...60)) * 1_000_000
                add(ts, .addToCart, channel, ref: line.product, device: Int8(device), loggedIn: loggedIn)
            }
            ts += Int64(rng.int(20...300)) * 1_000_000
            add(ts, .checkoutStarted, channel, ref: Int32(act.orders.count), device: Int8(device), loggedIn: loggedIn)
            ts += Int64(rng.int(30...600)) * 1_000_000
            var o = order
            o.ts = ts
            act.orders.append(o)
            add(ts, .orderCompleted, channel, ref: Int32(act.orders.count - 1), device: Int8(device), loggedIn: loggedIn)
            if !o.refundedLines.isEmpty {
                add(o.refundedAt, .orderRefunded, channel, ref: Int32(act.orders.count - 1), device: Int8(device), loggedIn: loggedIn)
            }
        }

        func makeOrder(at ts: Int64, channel: Channel, first: [Int]) -> Order {
            // Basket: spend around the person's mean order value (Gamma-Gamma), with co-purchased companions.
            let target = rng.gamma(shape: 6, scale: person.meanOrderValue / 6)
            var lines: [OrderLine] = []
            var total: Double = 0
            var candidates = first.isEmpty ? [pickProduct()] : first
            while total < target || lines.isEmpty {
                let prod = candidates.isEmpty ? pickProduct() : candidates.removeFirst()
                if lines.contains(where: { Int($0.product) == prod }) {
                    if candidates.isEmpty && lines.count > 6 { break }
                    continue
                }
                let price = catalog.products[prod].price * country.rate / 100 / 10 * 10 + 9
                let qty = Int16(rng.chance(0.8) ? 1 : rng.int(2...4))
                lines.append(OrderLine(product: Int32(prod), quantity: qty, unitPrice: price))
                total += Double(price) * Double(qty)
                if rng.chance(0.35) { candidates.append(catalog.products[prod].companion) }
                if lines.count >= 8 { break }
            }
            var refunded: [Int] = []
            if rng.chance(0.07) { refunded = lines.indices.filter { _ in rng.chance(0.6) } }
            if rng.chance(0.02) && refunded.isEmpty { refunded = [0] }
            let stores = catalog.stores.indices.filter { catalog.stores[$0].country == person.country }
            var ident = TillIdentification.none
            if channel == .pos {
                if person.loyaltyID != nil && rng.chance(0.85) {
                    ident = .loyalty
                } else if person.phoneSubscriber != nil && rng.chance(0.5) {
                    ident = .phone
                } else if rng.chance(0.3) {
                    ident = rng.chance(0.5) ? .placeholderZeros : .tillPhone
                }
            }
            return Order(
                id: "ord_\(person.index)_\(act.orders.count)", person: pid, ts: ts, channel: channel,
                store: Int32(stores.isEmpty ? 0 : stores[(person.index + act.orders.count) % stores.count]), lines: lines,
                identification: ident, refundedLines: refunded, refundedAt: ts + Int64(rng.int(2...30)) * day + Int64(rng.int(0...36_000)) * 1_000_000)
        }

        // Purchase sessions in the person's channel mix.
        for pt in purchaseTimes {
            let ch = rng.weighted(person.channelWeights)
            if ch == 2 {
                var o = makeOrder(at: pt, channel: .pos, first: [])
                o.ts = pt
                act.orders.append(o)
                add(pt, .posSale, .pos, ref: Int32(act.orders.count - 1))
                if !o.refundedLines.isEmpty { add(o.refundedAt, .posReturn, .pos, ref: Int32(act.orders.count - 1)) }
            } else {
                session(at: pt, channel: ch == 0 ? .web : .mobile, purchase: true)
            }
        }
        // Browsing sessions while active; heavy-tailed through the person's browse rate.
        var bt = person.birth
        let onlineWeights = [person.channelWeights[0], person.channelWeights[1]]
        while true {
            bt += Int64(rng.exponential(rate: person.browseRate) * Double(day))
            if bt >= activeUntil { break }
            session(at: bt, channel: rng.weighted(onlineWeights) == 0 ? .web : .mobile, purchase: false)
        }

        // Email: the ESP sends campaigns to opted-in addresses it has; opens, clicks, unsubscribes, bounces.
        if let espEmail = person.espEmail, person.consentEmail {
            let bounces = espEmail.contains("@@")
            for (k, c) in campaigns.enumerated() where c.sentAt > person.birth {
                if act.unsubscribedAt != nil { break }
                let relevance = person.categoryAffinity[c.category] > 0.5 ? 0.5 : 0.25
                guard rng.chance(relevance) else { continue }
                let sent = c.sentAt + Int64(rng.int(0...7200)) * 1_000_000
                add(sent, .emailSent, .email, ref: Int32(k))
                if bounces {
                    add(sent + Int64(rng.int(1...120)) * 1_000_000, .bounce, .email, ref: Int32(k))
                    break
                }
                let active = sent < activeUntil
                if rng.chance(active ? person.openRate : person.openRate / 4) {
                    let opened = sent + Int64(rng.exponential(rate: 1.0 / 7200) * 1_000_000)
                    add(opened, .emailOpen, .email, ref: Int32(k))
                    if rng.chance(0.18) { add(opened + Int64(rng.int(5...300)) * 1_000_000, .emailClick, .email, ref: Int32(k)) }
                    if rng.chance(0.012) {
                        let at = opened + Int64(rng.int(10...600)) * 1_000_000
                        add(at, .unsubscribe, .email, ref: Int32(k))
                        act.unsubscribedAt = at
                    }
                }
            }
        }

        // Support tickets.
        var tt = person.birth
        while true {
            tt += Int64(rng.exponential(rate: 0.25 / 365) * Double(day))
            if tt >= params.end { break }
            let reasons = ["delivery", "refund", "account", "product_question", "complaint"]
            let closed: Int64? = rng.chance(0.9) ? tt + Int64(rng.int(5...4320)) * minute : nil
            act.tickets.append(
                Ticket(
                    id: "T\(String(person.index))-\(act.tickets.count)", person: pid, opened: tt, closed: closed, reason: rng.pick(reasons),
                    byPhone: person.phoneSubscriber != nil && (person.email == nil || rng.chance(0.6)),
                    satisfaction: closed != nil && rng.chance(0.7) ? rng.int(1...5) : nil))
            add(tt, .ticket, .callCenter, ref: Int32(act.tickets.count - 1))
        }

        // CRM: a contact on sign-up, and edits later (consent changes, re-typed phone numbers).
        if person.crmID != nil {
            var row = CRMRow(
                person: pid, updated: person.birth + Int64(rng.int(0...(30 * 86_400))) * 1_000_000, consentEmail: person.consentEmail,
                consentSMS: person.consentSMS, consentAds: person.consentAds, revision: 0)
            if row.updated < params.end {
                act.crm.append(row)
                add(row.updated, .crmUpdate, .crm, ref: Int32(act.crm.count - 1))
            }
            var edits = rng.chance(0.35) ? rng.int(1...3) : 0
            while edits > 0 {
                edits -= 1
                row.updated += Int64(rng.int(10...300)) * day
                guard row.updated < params.end else { break }
                row.revision += 1
                if rng.chance(0.4) { row.consentEmail.toggle() }
                if rng.chance(0.2) { row.consentSMS.toggle() }
                if rng.chance(0.3) { row.consentAds = false }
                act.crm.append(row)
                add(row.updated, .crmUpdate, .crm, ref: Int32(act.crm.count - 1))
            }
        }
        return act
    }
}
