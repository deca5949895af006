import Foundation
import SeamColumnar
import SeamStorage
import SeamTestSupport
import Testing

@testable import SeamIngest

/// Ingest of the committed sample (data/sample, 150 customers) into a fresh store, checked against its truth.
@Suite(.serialized) struct IngestEndToEndTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let sample = root + "/data/sample"

    static func options() throws -> IngestOptions {
        var o = IngestOptions()
        o.mappings = try FileManager.default.contentsOfDirectory(atPath: root + "/data/mappings").filter { $0.hasSuffix(".yaml") }.sorted()
            .map { try Mapping.load(root + "/data/mappings/" + $0) }
        o.windowBytes = 64 << 10  // many windows: exercises the carry-over between them
        o.batchRecords = 3000  // several commits per run
        return o
    }

    static func truthErrors() throws -> [String: Int] {
        var out: [String: Int] = [:]
        for line in try String(contentsOfFile: sample + "/truth/injected_errors.csv", encoding: .utf8).split(separator: "\n").dropFirst() {
            let f = line.split(separator: ",")
            out[String(f[2]), default: 0] += 1
        }
        return out
    }

    @Test func sampleLandsBalancedIdempotentAndMatchesTruth() throws {
        let dir = VectorFixtures.temporaryDirectory("ingest")
        let store = try Store(path: dir, create: true)
        let first = try Ingestor(store: store, options: try Self.options()).run([Self.sample])
        #expect(first.failedFiles.isEmpty)
        let truth = try Self.truthErrors()
        for s in first.sources { #expect(s.balanced, "\(s.source): \(s.read) ≠ \(s.landed) + \(s.quarantined) + \(s.duplicates)") }
        let bySource = Dictionary(uniqueKeysWithValues: first.sources.map { ($0.source, $0) })
        #expect(bySource["segment"]?.duplicates == truth["duplicate_message"])
        // Every injected problem that must not land is in the quarantine, and nothing else is.
        let rules = Dictionary(grouping: try QuarantineWriter.entries(storePath: dir), by: \.rule).mapValues(\.count)
        let expected = truth.filter { ["broken_json", "wrong_column_count", "unparseable_date", "negative_quantity"].contains($0.key) }
        #expect(rules == expected)
        // Every row the sources reported is in the table.
        let events = try store.manifest("events").rowCount
        #expect(events == first.sources.reduce(0) { $0 + $1.rows })
        // Re-ingest adds nothing, across runs.
        let second = try Ingestor(store: store, options: try Self.options()).run([Self.sample])
        #expect(second.sources.allSatisfy { $0.landed == 0 && $0.quarantined == 0 && $0.duplicates == $0.read })
        #expect(try store.manifest("events").rowCount == events)
        #expect(try QuarantineWriter.entries(storePath: dir).count == rules.values.reduce(0, +))
        // Identity against truth: no placeholder merges anyone; precision stays high on this small sample.
        let scores = try IdentityService.evaluate(store, truthDir: Self.sample + "/truth")
        #expect(scores.sharedMerged == 0)
        #expect(scores.precision >= 0.98)
        #expect(scores.linkableRecall >= 0.97)
        #expect(store.verify().isClean)
    }

    @Test func aSplitIsVisibleToReadersAtOnce() throws {
        let dir = VectorFixtures.temporaryDirectory("split")
        let store = try Store(path: dir, create: true)
        _ = try Ingestor(store: store, options: try Self.options()).run([Self.sample + "/crm_contacts.csv", Self.sample + "/pos_transactions.csv"])
        // A CRM contact's phone also identifies till receipts: split it off.
        let graph = try IdentityStore.load(store)
        let phones = graph.nodes.enumerated().filter { $0.element.id.type == .phone }.map { Int64($0.offset + 1) }
        let map = try store.denseKeyMap(IngestTables.customerKeyMap)
        let eventsBefore = try store.readAll("events", columns: ["customer_id"])
        let storedAnchors = try store.readAll("events", mapKeys: false)
        var target: (phone: Int64, customer: Int64)?
        for p in phones where map[Int(p)] != Int64.min && map[Int(p)] != p {
            // a phone merged into an older customer that also anchors events
            if (0..<storedAnchors.rowCount).contains(where: { storedAnchors.columns[2].value(at: $0) == .bigint(p) }) {
                target = (p, map[Int(p)])
                break
            }
        }
        let t = try #require(target, "the sample has a phone that joins a CRM contact and anchors receipts")
        let before = (0..<eventsBefore.rowCount).filter { eventsBefore.columns[0].value(at: $0) == .bigint(t.customer) }.count
        _ = try IdentityService.split(store, customer: t.customer, identifier: graph.identifier(t.phone))
        let after = try store.readAll("events", columns: ["customer_id"])
        let moved = (0..<after.rowCount).filter { after.columns[0].value(at: $0) == .bigint(t.phone) }.count
        let stayed = (0..<after.rowCount).filter { after.columns[0].value(at: $0) == .bigint(t.customer) }.count
        #expect(moved > 0)
        #expect(moved + stayed == before)
        // The split is a rule: a rebuild keeps it.
        try IdentityService.rebuild(store)
        #expect(try store.denseKeyMap(IngestTables.customerKeyMap)[Int(t.phone)] == t.phone)
        #expect(try IdentityService.explain(store, String(t.phone)).contains("detached"))
    }

    /// A later opt-out from any channel holds everywhere; a later opt-in after it holds again.
    @Test func latestConsentWinsAcrossChannels() throws {
        let dir = VectorFixtures.temporaryDirectory("consent")
        try FileManager.default.createDirectory(atPath: dir + "-in", withIntermediateDirectories: true)
        try """
            crm_id,first_name,last_name,email,phone,loyalty_id,country,city,consent_email,consent_sms,consent_ads,updated_at
            C1,Ann,Lee,ann@x.com,,,GB,London,Y,Y,N,2025-01-01 10:00:00
            C2,Bob,Roe,bob@x.com,,,GB,Leeds,Y,N,N,2025-01-01 10:00:00
            C2,Bob,Roe,bob@x.com,,,GB,Leeds,Y,N,Y,2025-03-01 10:00:00
            """.write(toFile: dir + "-in/crm_contacts.csv", atomically: true, encoding: .utf8)
        try """
            email,event,campaign_id,campaign_name,event_time
            ANN@x.com ,unsubscribe,cmp_1,Spring,2025-02-01T09:00:00.000Z
            bob@x.com,unsubscribe,cmp_1,Spring,2025-02-01T09:00:00.000Z
            """.write(toFile: dir + "-in/email_activity.csv", atomically: true, encoding: .utf8)
        let store = try Store(path: dir, create: true)
        _ = try Ingestor(store: store, options: try Self.options()).run([dir + "-in"])
        let rows = try store.readAll("customers", columns: ["email", "consent_email", "consent_sms", "consent_ads", "city"]).rows
        #expect(rows.contains([.varchar("ann@x.com"), .boolean(false), .boolean(true), .boolean(false), .varchar("London")]))
        #expect(rows.contains([.varchar("bob@x.com"), .boolean(true), .boolean(false), .boolean(true), .varchar("Leeds")]))
        #expect(rows.count == 2)
    }

    @Test func aNewExportShapeIsAMappingFile() throws {
        let dir = VectorFixtures.temporaryDirectory("kasse")
        let file = dir + "-kasse.csv"
        let csv = """
            Bon-Nr;Filiale;Datum;Art;Kundenkarte;Telefon;Artikel;Menge;Einzelpreis
            B-1;DE-101;15.07.2025 12:00;Verkauf;K77;0521 3904015;SKU-1;2;1.234,50
            B-1;DE-101;15.07.2025 12:00;Verkauf;K77;;SKU-2;1;0,99
            B-2;DE-101;31.02.2025 12:00;Verkauf;;;SKU-3;1;1,00
            B-3;DE-101;16.07.2025 09:30;Rückgabe;K77;;SKU-1;1;1.234,50

            """
        try csv.write(toFile: file, atomically: true, encoding: .utf8)
        let store = try Store(path: dir, create: true)
        var o = try Self.options()
        o.mapping = try Mapping.load(Self.root + "/data/mappings/example-kasse-de.yaml")
        let s = try Ingestor(store: store, options: o).run([file])
        #expect(s.sources.first?.landed == 3)
        #expect(s.sources.first?.quarantined == 1)
        let rows = try store.readAll("events", columns: ["ts", "event_type", "amount", "currency", "customer_id"]).rows
        #expect(rows.contains([.timestamp(Timestamp.micros(year: 2025, month: 7, day: 15, hour: 10)), .varchar("purchase"), .decimal(246_900), .varchar("EUR"), .bigint(1)]))
        #expect(rows.contains { $0[1] == .varchar("return") && $0[2] == .decimal(123_450) && $0[4] == .bigint(1) })
        let ids = try store.readAll("identities", columns: ["identifier_type", "identifier"]).rows
        #expect(ids.contains([.varchar("phone"), .varchar("+495213904015")]))
        // Computed traits: one order (two lines at one time), revenue net of the return, the last purchase time.
        let c = try store.readAll("customers", columns: ["customer_id", "orders", "revenue", "last_purchase_at", "first_seen", "last_seen"]).rows
        #expect(c == [[.bigint(1), .bigint(1), .decimal(246_900 + 99 - 123_450), .timestamp(Timestamp.micros(year: 2025, month: 7, day: 15, hour: 10)),
            .timestamp(Timestamp.micros(year: 2025, month: 7, day: 15, hour: 10)), .timestamp(Timestamp.micros(year: 2025, month: 7, day: 16, hour: 7, minute: 30))]])
    }
}
