import SeamColumnar

/// Builds rows of the canonical `customers` table straight from the simulation's truth (the generator's store mode),
/// so scan benchmarks can join events to consent without going through ingest.
///
/// `customer_id` is the person's index + 1, as in ``CanonicalEvents``. Traits are the person's true ones; consent is
/// the truth at the end of the simulation (an email unsubscribe withdraws email consent); `orders` counts completed
/// orders and till sales, `revenue` sums their lines (returns are not subtracted), as the `purchase` rows of `events`
/// do. `loyalty_tier` is NULL: the simulation has no tiers.
enum CanonicalCustomers {
    static func chunk(world: World, personOffset: Int) -> Chunk {
        let n = world.people.count
        var id = ColumnBuilder(.bigint, capacity: n), email = ColumnBuilder(.varchar, capacity: n)
        var phone = ColumnBuilder(.varchar, capacity: n), first = ColumnBuilder(.varchar, capacity: n)
        var last = ColumnBuilder(.varchar, capacity: n), country = ColumnBuilder(.varchar, capacity: n)
        var city = ColumnBuilder(.varchar, capacity: n), tier = ColumnBuilder(.varchar, capacity: n)
        var firstSeen = ColumnBuilder(.timestamp, capacity: n), lastSeen = ColumnBuilder(.timestamp, capacity: n)
        var consentEmail = ColumnBuilder(.boolean, capacity: n), consentSMS = ColumnBuilder(.boolean, capacity: n)
        var consentAds = ColumnBuilder(.boolean, capacity: n), orders = ColumnBuilder(.bigint, capacity: n)
        var revenue = ColumnBuilder(.decimal, capacity: n), lastPurchase = ColumnBuilder(.timestamp, capacity: n)
        var identifiers = ColumnBuilder(.bigint, capacity: n)

        for (localIndex, a) in world.activity.enumerated() {
            let p = world.people[localIndex]
            var seenMin = Int64.max, seenMax = Int64.min
            var orderCount: Int64 = 0, total: Int64 = 0, lastOrder: Int64? = nil
            for e in a.events where !e.duplicate {
                switch e.kind {
                case .identify, .alias: continue
                case .orderCompleted, .posSale:
                    let o = a.orders[Int(e.ref)]
                    orderCount += 1
                    total += o.lines.reduce(0) { $0 + $1.unitPrice * Int64($1.quantity) }
                    lastOrder = max(lastOrder ?? .min, o.ts)
                    seenMin = min(seenMin, o.ts)
                    seenMax = max(seenMax, o.ts)
                case .orderRefunded, .posReturn:
                    let o = a.orders[Int(e.ref)]
                    guard !o.refundedLines.isEmpty else { continue }
                    seenMin = min(seenMin, o.refundedAt)
                    seenMax = max(seenMax, o.refundedAt)
                default:
                    seenMin = min(seenMin, e.ts)
                    seenMax = max(seenMax, e.ts)
                }
            }
            id.append(int64: Int64(personOffset + localIndex + 1))
            if let v = p.email { email.append(string: v) } else { email.appendNull() }
            if let v = p.phoneE164 { phone.append(string: v) } else { phone.appendNull() }
            first.append(string: p.firstName)
            last.append(string: p.lastName)
            country.append(string: Countries.all[p.country].code)
            city.append(string: p.city)
            tier.appendNull()
            if seenMin <= seenMax {
                firstSeen.append(int64: seenMin)
                lastSeen.append(int64: seenMax)
            } else {
                firstSeen.appendNull()
                lastSeen.appendNull()
            }
            consentEmail.append(bool: p.consentEmail && a.unsubscribedAt == nil)
            consentSMS.append(bool: p.consentSMS)
            consentAds.append(bool: p.consentAds)
            orders.append(int64: orderCount)
            revenue.append(int64: total)
            if let lastOrder { lastPurchase.append(int64: lastOrder) } else { lastPurchase.appendNull() }
            let count = [p.email, p.phoneSubscriber, p.userID, p.loyaltyID, p.crmID].compactMap { $0 }.count
                + p.anonymousIDs.count + p.deviceIDs.count
            identifiers.append(int64: Int64(count))
        }
        return Chunk(
            schema: CanonicalTables.customers,
            columns: [id, email, phone, first, last, country, city, tier, firstSeen, lastSeen, consentEmail, consentSMS,
                      consentAds, orders, revenue, lastPurchase, identifiers].map { $0.finish() })
    }
}
