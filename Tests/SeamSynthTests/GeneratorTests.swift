import Foundation
import SeamColumnar
@testable import SeamSynth
import SeamTestSupport
import Testing

@Suite struct GeneratorTests {
    static let options = GeneratorOptions(customers: 300, seed: 7)

    static func generate(_ o: GeneratorOptions = options) throws -> (String, GeneratorReport) {
        let dir = VectorFixtures.temporaryDirectory("gen")
        return (dir, try Generator.writeRawFiles(o, to: dir))
    }

    static let files = ["web_events.jsonl", "mobile_events.jsonl", "pos_transactions.csv", "email_activity.csv", "call_center.csv", "crm_contacts.csv"]

    @Test func sameSeedSameBytesOtherSeedOtherBytes() throws {
        let (a, _) = try Self.generate()
        let (b, _) = try Self.generate()
        var o = Self.options
        o.seed = 8
        let (c, _) = try Self.generate(o)
        for f in Self.files + ["truth/identifiers.csv", "truth/persons.csv", "truth/injected_errors.csv"] {
            let x = try Data(contentsOf: URL(fileURLWithPath: a + "/" + f))
            #expect(x == (try Data(contentsOf: URL(fileURLWithPath: b + "/" + f))), "\(f) differs for the same seed")
            if !f.hasPrefix("truth/injected") {
                #expect(x != (try Data(contentsOf: URL(fileURLWithPath: c + "/" + f))), "\(f) same for another seed")
            }
        }
    }

    /// Lines the generator says it broke are exactly the lines that do not parse; all other lines do.
    @Test func injectedErrorsAreExactlyTheMalformedLines() throws {
        let (dir, report) = try Self.generate()
        let injected = try String(contentsOfFile: dir + "/truth/injected_errors.csv", encoding: .utf8)
            .split(separator: "\n").dropFirst().map { $0.split(separator: ",").map(String.init) }
        #expect(injected.count == report.injectedErrors)
        func listed(_ file: String, _ kind: String) -> Set<Int> {
            Set(injected.filter { $0[0] == file && $0[2] == kind }.map { Int($0[1])! })
        }
        for f in ["web_events.jsonl", "mobile_events.jsonl"] {
            let lines = try String(contentsOfFile: dir + "/" + f, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).dropLast()
            var broken = Set<Int>()
            var ids: [String: Int] = [:]
            for (i, l) in lines.enumerated() {
                guard let obj = try? JSONSerialization.jsonObject(with: Data(l.utf8)) as? [String: Any] else {
                    broken.insert(i + 1)
                    continue
                }
                #expect(obj["messageId"] is String && obj["type"] is String && obj["sentAt"] is String)
                ids[obj["messageId"] as! String, default: 0] += 1
            }
            #expect(broken == listed(f, "broken_json"), "\(f)")
            #expect(!broken.isEmpty || lines.count < 2000)
            // Re-sent messages share a messageId with their original.
            let dupLines = listed(f, "duplicate_message")
            #expect(ids.values.filter { $0 > 1 }.count >= dupLines.subtracting(broken).count / 2)
        }
        for f in ["pos_transactions.csv", "email_activity.csv", "call_center.csv", "crm_contacts.csv"] {
            let rows = try String(contentsOfFile: dir + "/" + f, encoding: .utf8).split(separator: "\n")
            let width = csvFields(String(rows[0])).count
            var wrong = Set<Int>()
            for (i, r) in rows.enumerated() where csvFields(String(r)).count != width { wrong.insert(i + 1) }
            #expect(wrong == listed(f, "wrong_column_count"), "\(f)")
        }
    }

    @Test func eventsPerCustomerAreRealisticAndHeavyTailed() throws {
        let (dir, report) = try Self.generate(GeneratorOptions(customers: 1500, seed: 3))
        let perCustomer = Double(report.canonicalEvents) / 1500
        #expect(perCustomer > 30 && perCustomer < 90, "events per customer \(perCustomer)")
        let persons = try String(contentsOfFile: dir + "/truth/persons.csv", encoding: .utf8).split(separator: "\n").dropFirst()
        #expect(persons.count == 1500)
        let orders = persons.map { Int(csvFields(String($0))[12])! }.sorted()
        // Heavy tail: the top 10 % of customers place far more orders than the median one.
        let median = orders[orders.count / 2], p90 = orders[orders.count * 9 / 10]
        #expect(p90 >= 3 * max(median, 1), "median \(median), p90 \(p90)")
        #expect(orders.filter { $0 == 0 }.count > 0)
    }

    /// Every identifier in an identify call belongs, after normalization, to the person truth names.
    @Test func truthCoversTheIdentifiersInTheFiles() throws {
        let (dir, _) = try Self.generate()
        var truth: [String: String] = [:]
        for l in try String(contentsOfFile: dir + "/truth/identifiers.csv", encoding: .utf8).split(separator: "\n").dropFirst() {
            let f = csvFields(String(l))
            truth[f[0] + ":" + f[1]] = f[2]
        }
        var checked = 0
        for l in try String(contentsOfFile: dir + "/web_events.jsonl", encoding: .utf8).split(separator: "\n") {
            guard let obj = try? JSONSerialization.jsonObject(with: Data(l.utf8)) as? [String: Any], obj["type"] as? String == "identify",
                let user = obj["userId"] as? String, let traits = obj["traits"] as? [String: Any]
            else { continue }
            let person = truth["user_id:" + user]
            #expect(person != nil)
            if let anon = obj["anonymousId"] as? String { #expect(truth["anonymous_id:" + anon] == person) }
            if let email = traits["email"] as? String {
                let key = "email:" + email.trimmingCharacters(in: .whitespaces).lowercased()
                #expect(truth[key] != nil)
            }
            checked += 1
        }
        #expect(checked > 50)
    }

    @Test func canonicalEventsMatchTheRawFilesCount() throws {
        let (_, report) = try Self.generate()
        var rows = 0
        var chunks = 0
        try Generator.canonicalEvents(Self.options, batch: 120) { chunk in
            #expect(chunk.schema == CanonicalTables.events)
            let ids = chunk.column("customer_id")!.allValues
            #expect(ids.allSatisfy { if case .bigint(let c) = $0 { return c >= 1 && c <= 300 } else { return false } })
            rows += chunk.rowCount
            chunks += 1
        }
        #expect(chunks == 3)
        #expect(rows == report.canonicalEvents)
    }

    /// The store mode's `customers` rows agree with its `events` rows: one row per person, and orders, revenue and
    /// the seen/purchase times are what the person's purchase rows add up to.
    @Test func canonicalCustomersAgreeWithTheirEvents() throws {
        var customers = 0
        var checked = 0
        try Generator.canonicalTables(Self.options, batch: 120) { events, chunk in
            let c = try #require(chunk)
            #expect(c.schema == CanonicalTables.customers)
            customers += c.rowCount
            var revenue: [Int64: Int64] = [:], lastPurchase: [Int64: Int64] = [:], seen: [Int64: (Int64, Int64)] = [:]
            let ids = events.column("customer_id")!.allValues, types = events.column("event_type")!.allValues
            let amounts = events.column("amount")!.allValues, ts = events.column("ts")!.allValues
            for i in 0..<events.rowCount {
                guard case .bigint(let id) = ids[i], case .timestamp(let t) = ts[i] else { continue }
                let s = seen[id] ?? (t, t)
                seen[id] = (min(s.0, t), max(s.1, t))
                if case .varchar("purchase") = types[i], case .decimal(let a) = amounts[i] {
                    revenue[id, default: 0] += a
                    lastPurchase[id] = max(lastPurchase[id] ?? .min, t)
                }
            }
            let cid = c.column("customer_id")!.allValues, rev = c.column("revenue")!.allValues
            let orders = c.column("orders")!.allValues, last = c.column("last_purchase_at")!.allValues
            let first = c.column("first_seen")!.allValues, lastSeen = c.column("last_seen")!.allValues
            for r in 0..<c.rowCount {
                guard case .bigint(let id) = cid[r] else { Issue.record("customer_id is NULL"); continue }
                #expect(rev[r] == .decimal(revenue[id] ?? 0))
                #expect(last[r] == (lastPurchase[id].map { Value.timestamp($0) } ?? .null))
                if case .bigint(let n) = orders[r] { #expect((n > 0) == (revenue[id] != nil)) }
                #expect(first[r] == (seen[id].map { Value.timestamp($0.0) } ?? .null))
                #expect(lastSeen[r] == (seen[id].map { Value.timestamp($0.1) } ?? .null))
                checked += 1
            }
        }
        #expect(customers == 300)
        #expect(checked == 300)
    }
}

/// The committed sample is exactly what the generator makes for its seed: the fixtures and their
/// documentation cannot drift from the code (`make sample` regenerates them).
@Suite struct CommittedSampleTests {
    @Test func sampleMatchesAFreshGeneration() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let sample = root.appendingPathComponent("data/sample").path
        let dir = VectorFixtures.temporaryDirectory("sample")
        _ = try Generator.writeRawFiles(GeneratorOptions(customers: 150, seed: 1), to: dir)
        for f in GeneratorTests.files + ["truth/identifiers.csv", "truth/persons.csv", "truth/injected_errors.csv", "truth/params.json"] {
            let committed = try Data(contentsOf: URL(fileURLWithPath: sample + "/" + f))
            let fresh = try Data(contentsOf: URL(fileURLWithPath: dir + "/" + f))
            #expect(committed == fresh, "data/sample/\(f) is stale: run `make sample`")
        }
    }
}
