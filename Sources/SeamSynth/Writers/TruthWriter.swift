import Foundation
import SeamColumnar

/// Writes `truth/`: who is behind every identifier, each person's process parameters, the injected errors
/// and the generator's parameters, so identity resolution and predictions can be scored.
struct TruthWriter {
    let world: World

    func write(to dir: String, injected: [(String, InjectedError)]) throws {
        var ids = TextOutput()
        ids.raw("identifier_type,identifier,person_id,note\n")
        func id(_ type: String, _ value: String, _ person: String, _ note: String = "") {
            ids.csvRow([type, value, person, note])
        }
        var persons = TextOutput()
        persons.raw(
            "person_id,customer_id,first_name,last_name,country,city,birth,dropped_at,lambda_per_day,p_dropout,mean_order_value,currency,orders,revenue,unsubscribed_at\n"
        )
        for (i, p) in world.people.enumerated() {
            let a = world.activity[i]
            if let u = p.userID { id("user_id", u, p.id) }
            for x in p.anonymousIDs { id("anonymous_id", x, p.id) }
            for d in p.deviceIDs {
                id("device_id", d, p.id)
                id("anonymous_id", "app-" + d.lowercased(), p.id)
            }
            if let e = p.email { id("email", e, p.id, p.householdWith != nil ? "household" : "") }
            if let e = p.espEmail, e != p.email { id("email", e, p.id, "typo") }
            if let ph = p.phoneE164 { id("phone", ph, p.id) }
            if let l = p.loyaltyID { id("loyalty_id", l, p.id) }
            if let c = p.crmID { id("crm_id", c, p.id) }
            let revenue = a.orders.reduce(Int64(0)) { t, o in t + o.lines.reduce(Int64(0)) { $0 + $1.unitPrice * Int64($1.quantity) } }
            let c = Countries.all[p.country]
            let fields = [
                p.id, String(i + 1), p.firstName, p.lastName, c.code, p.city, Timestamp.format(p.birth),
                a.droppedAt.map(Timestamp.format) ?? "", String(p.lambda), String(p.dropout), money(Int64(p.meanOrderValue)),
                c.currency, String(a.orders.count), money(revenue), a.unsubscribedAt.map(Timestamp.format) ?? "",
            ]
            persons.csvRow(fields)
        }
        // Shared identifiers: tied to many people or to none; they must never merge anyone.
        id("phone", "0000000000", "", "placeholder")
        for s in world.catalog.stores {
            let c = Countries.all[s.country]
            id("phone", c.e164(c.storePhone(world.catalog.stores.filter { $0.country == s.country }.firstIndex { $0.id == s.id }!)), "", "till_phone")
        }
        var errs = TextOutput()
        errs.raw("file,line,kind\n")
        for (file, e) in injected.sorted(by: { ($0.0, $0.1.line) < ($1.0, $1.1.line) }) {
            errs.raw("\(file),\(e.line),\(e.kind)\n")
        }
        try Generator.write(ids.bytes, to: dir + "/identifiers.csv")
        try Generator.write(persons.bytes, to: dir + "/persons.csv")
        try Generator.write(errs.bytes, to: dir + "/injected_errors.csv")
        let enc = JSONEncoder()
        enc.outputFormatting = [.prettyPrinted, .sortedKeys]
        try Generator.write([UInt8](try enc.encode(world.params)), to: dir + "/params.json")
    }
}
