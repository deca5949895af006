import SeamColumnar

/// A problem the generator put into a file on purpose, at a 1-based line number (`truth/injected_errors.csv`).
struct InjectedError: Sendable {
    var line: Int
    var kind: String
}

/// The store tills' export: one row per receipt line, local time with its UTC offset.
///
/// Mess: shoppers identified by loyalty card, by a phone in national spelling, by a placeholder phone
/// (`0000000000`) or the till's own number, or not at all; rows with a column missing, unparseable times,
/// and negative quantities on sale lines.
struct POSWriter {
    let world: World
    static let fileID: UInt64 = 3
    static let header = "receipt_id,store_id,till,local_time,loyalty_id,phone,sku,product_name,quantity,unit_price,currency,line_type"

    func render(_ e: SimEvent, firstLine: Int, into out: inout TextOutput, injected: inout [InjectedError]) -> Int {
        let p = world.people[Int(e.person)]
        let order = world.orders(of: Int(e.person))[Int(e.ref)]
        let store = world.catalog.stores[Int(order.store)]
        let c = Countries.all[p.country]
        let isReturn = e.kind == .posReturn
        let ts = isReturn ? order.refundedAt : order.ts
        let offset = c.offsetMinutes(atUTC: ts)
        let local = SeamColumnar.Timestamp.parts(ts + Int64(offset) * 60_000_000)
        let sign = offset < 0 ? "-" : "+"
        var time = "\(pad4(local.year))-\(pad2(local.month))-\(pad2(local.day))T\(pad2(local.hour)):\(pad2(local.minute)):\(pad2(local.second))"
        time += "\(sign)\(pad2(abs(offset) / 60)):\(pad2(abs(offset) % 60))"
        var loyalty = "", phone = ""
        switch order.identification {
        case .loyalty: loyalty = p.loyaltyID ?? ""
        case .phone: phone = (Int(e.seq) % 4 == 0) ? c.formatInternational(p.phoneSubscriber!) : c.formatNational(p.phoneSubscriber!)
        case .placeholderZeros: phone = "0000000000"
        case .tillPhone: phone = store.tillPhone
        case .none: break
        }
        let receipt = (isReturn ? "R-" : "S-") + store.id + "-" + String(order.id.dropFirst(4))
        let lines = isReturn ? order.refundedLines.map { order.lines[$0] } : order.lines
        var line = firstLine
        for l in lines {
            let prod = world.catalog.products[Int(l.product)]
            let h = lineHash(world.params.seed, Self.fileID, line)
            var fields = [
                receipt, store.id, "till-\(Int(e.person) % 4 + 1)", time, loyalty, phone, prod.sku, prod.name, String(l.quantity),
                money(l.unitPrice), c.currency, isReturn ? "return" : "sale",
            ]
            if h < 0.001 {
                fields.removeLast()
                injected.append(InjectedError(line: line, kind: "wrong_column_count"))
            } else if h < 0.002 {
                fields[3] = ["2025-02-30T25:61:00+01:00", "n/a", "14/03/2025 15:02"][line % 3]
                injected.append(InjectedError(line: line, kind: "unparseable_date"))
            } else if h < 0.0025 && !isReturn {
                fields[8] = "-" + fields[8]
                injected.append(InjectedError(line: line, kind: "negative_quantity"))
            }
            out.csvRow(fields)
            line += 1
        }
        return line
    }
}

/// The email service's activity export. The service lower-cases addresses it sends to, but addresses
/// typed into its forms keep their case; times are UTC ISO 8601.
struct EmailWriter {
    let world: World
    static let fileID: UInt64 = 4
    static let header = "email,event,campaign_id,campaign_name,event_time"

    func render(_ e: SimEvent, line: Int, into out: inout TextOutput, injected: inout [InjectedError]) {
        let p = world.people[Int(e.person)]
        let c = world.campaigns[Int(e.ref)]
        let event: String
        switch e.kind {
        case .emailSent: event = "sent"
        case .emailOpen: event = "open"
        case .emailClick: event = "click"
        case .unsubscribe: event = "unsubscribe"
        default: event = "bounce"
        }
        var email = p.espEmail ?? ""
        if e.kind == .unsubscribe && Int(e.seq) % 2 == 0 { email = email.uppercased() }
        var fields = [email, event, c.id, c.name, SeamColumnar.Timestamp.iso8601(e.ts)]
        let h = lineHash(world.params.seed, Self.fileID, line)
        if h < 0.001 {
            fields.append("extra")
            injected.append(InjectedError(line: line, kind: "wrong_column_count"))
        } else if h < 0.002 {
            fields[4] = "yesterday"
            injected.append(InjectedError(line: line, kind: "unparseable_date"))
        }
        out.csvRow(fields)
    }
}

/// The call centre's ticket export: US-style `MM/DD/YYYY HH:MM` times in UTC, phones as agents typed them.
struct CallCenterWriter {
    let world: World
    static let fileID: UInt64 = 5
    static let header = "ticket_id,customer_phone,customer_email,reason,opened_at,closed_at,satisfaction,agent"

    static func usTime(_ ts: Int64) -> String {
        let p = SeamColumnar.Timestamp.parts(ts)
        return "\(pad2(p.month))/\(pad2(p.day))/\(pad4(p.year)) \(pad2(p.hour)):\(pad2(p.minute))"
    }

    func render(_ e: SimEvent, line: Int, into out: inout TextOutput, injected: inout [InjectedError]) {
        let p = world.people[Int(e.person)]
        let t = world.tickets(of: Int(e.person))[Int(e.ref)]
        let c = Countries.all[p.country]
        var phone = "", email = ""
        if t.byPhone, let s = p.phoneSubscriber {
            switch Int(e.seq) % 4 {
            case 0: phone = c.formatNational(s)
            case 1: phone = c.formatInternational(s)
            default: phone = c.formatOther(s, variant: Int(e.seq))
            }
        } else if let m = p.email {
            email = Int(e.seq) % 3 == 0 ? "  " + m.uppercased() : m
        }
        var fields = [
            t.id, phone, email, t.reason, Self.usTime(t.opened), t.closed.map(Self.usTime) ?? "",
            t.satisfaction.map(String.init) ?? "", "agent\(Int(e.person) % 17 + 1)",
        ]
        let h = lineHash(world.params.seed, Self.fileID, line)
        if h < 0.002 {
            fields[4] = "13/45/2025 99:99"
            injected.append(InjectedError(line: line, kind: "unparseable_date"))
        } else if h < 0.003 {
            fields.removeLast(2)
            injected.append(InjectedError(line: line, kind: "wrong_column_count"))
        }
        out.csvRow(fields)
    }
}

/// The CRM's contact export: one row per contact revision, consent flags as Y/N, emails as typed.
struct CRMWriter {
    let world: World
    static let fileID: UInt64 = 6
    static let header =
        "crm_id,first_name,last_name,email,phone,loyalty_id,country,city,consent_email,consent_sms,consent_ads,updated_at"

    func render(_ e: SimEvent, line: Int, into out: inout TextOutput, injected: inout [InjectedError]) {
        let p = world.people[Int(e.person)]
        let row = world.crmRows(of: Int(e.person))[Int(e.ref)]
        let c = Countries.all[p.country]
        var email = p.email ?? ""
        if row.revision % 2 == 1 || p.index % 7 == 0 { email = " " + email.prefix(1).uppercased() + email.dropFirst() }
        let phone = p.phoneSubscriber.map { row.revision == 0 ? c.formatInternational($0) : c.formatNational($0) } ?? ""
        let tp = SeamColumnar.Timestamp.parts(row.updated)
        var fields = [
            p.crmID!, p.firstName, p.lastName, (row.revision == 0 && p.index % 23 == 0) ? "" : email, phone, p.loyaltyID ?? "", c.code,
            p.city, row.consentEmail ? "Y" : "N", row.consentSMS ? "Y" : "N", row.consentAds ? "Y" : "N",
            "\(pad4(tp.year))-\(pad2(tp.month))-\(pad2(tp.day)) \(pad2(tp.hour)):\(pad2(tp.minute)):\(pad2(tp.second))",
        ]
        let h = lineHash(world.params.seed, Self.fileID, line)
        if h < 0.002 {
            fields[11] = "2025-13-01 00:00:00"
            injected.append(InjectedError(line: line, kind: "unparseable_date"))
        } else if h < 0.003 {
            fields.insert("", at: 3)
            injected.append(InjectedError(line: line, kind: "wrong_column_count"))
        }
        out.csvRow(fields)
    }
}
