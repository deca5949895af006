import Foundation
import Synchronization
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
        // The customers' computed traits, taken from the rows as they landed, equal a rebuild that reads every
        // event back.
        let customers = { try store.readAll("customers").rows.map { $0.map(\.description).joined(separator: "|") }.sorted() }
        let landedTotals = try customers()
        let orders = try store.readAll("customers").rows.map { $0[13] }
        #expect(orders.filter { $0 != .bigint(0) && $0 != .null }.count > 10, "customers with orders")
        try Profiles.rebuild(store)
        #expect(try customers() == landedTotals)
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

    /// Commits inside an ingest append only the identity rows that changed; an ingest stopped between commits
    /// leaves tables whose last row per node and link is the current one, so readers (the key map, the graph
    /// loader) see exactly the whole resolution; the next ingest rewrites them with one row each.
    @Test func identityCommitsAppendChangesAndTheLastOneRewritesThem() throws {
        struct Stop: Error {}
        let dir = VectorFixtures.temporaryDirectory("ingest-delta")
        let store = try Store(path: dir, create: true)
        var o = try Self.options()
        o.batchRecords = 1500
        // Stop at the 25th commit: several batches in, past their identity appends.
        let commits = Mutex(0)
        o.faults = CommitFaults { step, phase in
            guard step == .renameManifest, phase == .after else { return }
            if commits.withLock({ n in n += 1; return n }) == 25 { throw Stop() }
        }
        #expect(throws: (any Error).self) { try Ingestor(store: store, options: o).run([Self.sample]) }
        let nodes = try store.manifest("identities").rowCount, links = try store.manifest("identity_links").rowCount
        let (graph, stored) = try IdentityStore.loadWithCustomers(store)
        #expect(nodes > graph.nodes.count && links > graph.links.count, "the stopped ingest had appended changed rows")
        let whole = graph.resolve(try IdentityRules.load(storePath: dir))
        let map = try store.denseKeyMap(IngestTables.customerKeyMap)
        for n in 1...graph.nodes.count {
            let expected = whole.customer[n - 1]
            #expect(map[n] == (expected == 0 ? Int64.min : expected), "node \(n)")
            #expect(stored.customer[n - 1] == expected && stored.status[n - 1] == whole.status[n - 1], "node \(n)")
        }
        // Resumed: one row per node and link again, and the same tables as one uninterrupted ingest.
        _ = try Ingestor(store: store, options: try Self.options()).run([Self.sample])
        let clean = try Store(path: VectorFixtures.temporaryDirectory("ingest-delta-clean"), create: true)
        _ = try Ingestor(store: clean, options: try Self.options()).run([Self.sample])
        // `customers` too: the resumed ingest read back the events stored before it, the clean one none.
        for table in ["identities", "identity_links", "identity_decisions", "customers"] {
            let rows = { (s: Store) in try s.readAll(table).rows.map { $0.map(\.description).joined(separator: "|") }.sorted() }
            #expect(try rows(store) == rows(clean), "\(table)")
        }
        #expect(try IdentityStore.load(store).nodes.count == store.manifest("identities").rowCount)
    }

    /// Near the end of the input a batch commits as soon as it holds what is left to read, so batches halve and the
    /// last commit (the one no parsing overlaps) is small; the tables end as with one whole batch.
    @Test func batchesHalveTowardsTheEndAndLandTheSame() throws {
        var whole = try Self.options()
        whole.batchRecords = 1_000_000
        whole.tailBatchRecords = Int.max
        var halving = whole
        halving.tailBatchRecords = 200
        var stores: [Store] = []
        var sizes: [[Int]] = []
        for o in [whole, halving] {
            let store = try Store(path: VectorFixtures.temporaryDirectory("ingest-tail"), create: true)
            var o = o
            // The rows of each events commit, from the segments each manifest version adds.
            let batches = Mutex<[Int]>([])
            o.faults = CommitFaults { step, phase in
                guard step == .renameManifest, phase == .after else { return }
                let m = try store.manifest("events")
                batches.withLock { b in
                    let total = m.rowCount
                    if total > b.reduce(0, +) { b.append(total - b.reduce(0, +)) }
                }
            }
            _ = try Ingestor(store: store, options: o).run([Self.sample])
            stores.append(store)
            sizes.append(batches.withLock { $0 })
        }
        #expect(sizes[0].count == 1, "one batch: \(sizes[0])")
        #expect(sizes[1].count >= 4, "halving batches: \(sizes[1])")
        // Each batch after the first holds at most about what was left when the one before it closed (a window's
        // worth of slack), and the last one is the smallest.
        #expect(sizes[1].last! == sizes[1].min()!, "\(sizes[1])")
        #expect(sizes[1].reduce(0, +) == sizes[0][0])
        for table in ["events", "customers", "identities", "consents", "profile_traits", "quality_issues"] {
            // An issue's `ts` is when its ingest ran.
            let columns = try stores[0].manifest(table).schema.fields.map(\.name).filter { table != "quality_issues" || $0 != "ts" }
            let rows = { (s: Store) in try s.readAll(table, columns: columns).rows.map { $0.map(\.description).joined(separator: "|") }.sorted() }
            #expect(try rows(stores[0]) == rows(stores[1]), "\(table)")
        }
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
            C3,Cy,Poe,cy@x.com,,,GB,York,Y,Y,Y,2025-04-01 09:00:00
            """.write(toFile: dir + "-in/crm_contacts.csv", atomically: true, encoding: .utf8)
        // Cy opts out by email at the very instant the CRM says yes: at the same instant an opt-out wins.
        try """
            email,event,campaign_id,campaign_name,event_time
            ANN@x.com ,unsubscribe,cmp_1,Spring,2025-02-01T09:00:00.000Z
            bob@x.com,unsubscribe,cmp_1,Spring,2025-02-01T09:00:00.000Z
            cy@x.com,unsubscribe,cmp_2,Summer,2025-04-01T09:00:00.000Z
            """.write(toFile: dir + "-in/email_activity.csv", atomically: true, encoding: .utf8)
        let store = try Store(path: dir, create: true)
        _ = try Ingestor(store: store, options: try Self.options()).run([dir + "-in"])
        let rows = try store.readAll("customers", columns: ["email", "consent_email", "consent_sms", "consent_ads", "city"]).rows
        #expect(rows.contains([.varchar("ann@x.com"), .boolean(false), .boolean(true), .boolean(false), .varchar("London")]))
        #expect(rows.contains([.varchar("bob@x.com"), .boolean(true), .boolean(false), .boolean(true), .varchar("Leeds")]))
        #expect(rows.contains([.varchar("cy@x.com"), .boolean(false), .boolean(true), .boolean(true), .varchar("York")]))
        #expect(rows.count == 3)
    }

    /// A CSV field goes to the tables as its bytes when it can; quoting, case and bad bytes still come out right.
    @Test func csvFieldsLandAsTheirTextsWhateverTheQuotingCaseOrBytes() throws {
        let dir = VectorFixtures.temporaryDirectory("csvtext")
        try FileManager.default.createDirectory(atPath: dir + "-in", withIntermediateDirectories: true)
        let rows: [[UInt8]] = [
            Array("email,event,campaign_id,campaign_name,event_time".utf8),
            Array("ann@x.com,sent,cmp_1,\"Big \"\"Sale\"\" now\",2025-01-01T09:00:00.000Z".utf8),
            Array("  ANN@X.com ,open,cmp_1,Plain,2025-01-01T09:01:00.000Z".utf8),
            Array("élise@x.fr,click,cmp_2,Café – news,2025-01-01T09:02:00.000Z".utf8),
            Array("bob@x.com,sent,cmp_3,Bad ".utf8) + [0xFF] + Array(" byte,2025-01-01T09:03:00.000Z".utf8),
            Array("\"bob@x.com\",\"SENT\",cmp_4,\"a, b\",2025-01-01T09:04:00.000Z".utf8),
            Array("not-an-email,sent,cmp_5,,2025-01-01T09:05:00.000Z".utf8),
        ]
        try Data(Array(rows.joined(separator: [0x0D, 0x0A]))).write(to: URL(fileURLWithPath: dir + "-in/email_activity.csv"))
        let store = try Store(path: dir, create: true)
        let s = try Ingestor(store: store, options: try Self.options()).run([dir + "-in"])
        #expect(s.sources.first?.landed == 6)
        let events = try store.readAll("events", columns: ["ts", "event_type", "campaign", "properties"]).rows.sorted { "\($0[0])" < "\($1[0])" }
        #expect(events.map { $0[1] } == ["email_sent", "email_open", "email_click", "email_sent", "email_sent", "email_sent"].map { .varchar($0) })
        #expect(events.map { $0[2] } == ["cmp_1", "cmp_1", "cmp_2", "cmp_3", "cmp_4", "cmp_5"].map { .varchar($0) })
        #expect(events.map { $0[3] } == [
            .varchar(#"{"campaign_name":"Big \"Sale\" now"}"#), .varchar(#"{"campaign_name":"Plain"}"#),
            .varchar(#"{"campaign_name":"Café – news"}"#), .varchar("{\"campaign_name\":\"Bad \u{FFFD} byte\"}"),
            .varchar(#"{"campaign_name":"a, b"}"#), .null,
        ])
        let ids = try store.readAll("identities", columns: ["identifier_type", "identifier"]).rows
        #expect(Set(ids.map { $0[1] }) == Set(["ann@x.com", "élise@x.fr", "bob@x.com", "not-an-email"].map { Value.varchar($0) }))
        let issues = try store.readAll("quality_issues", columns: ["location", "severity", "rule"]).rows
        #expect(issues.contains([.varchar("email_activity.csv:5"), .varchar("info"), .varchar("invalid_utf8")]))
        #expect(issues.contains([.varchar("email_activity.csv:7"), .varchar("warning"), .varchar("invalid_email")]))
        #expect(issues.count == 2)
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

    /// Runs `gzip -c` over `input` into `output` (the system's gzip, so the test does not trust our own code to make
    /// the files it reads).
    static func gzip(_ input: String, to output: String) throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/bin/sh")
        p.arguments = ["-c", "gzip -c -n '\(input)' > '\(output)'"]
        try p.run()
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "gzip failed for \(input)")
    }

    static func eventFingerprint(_ store: Store) throws -> [[Value]] {
        try store.readAll("events", columns: ["event_id", "ts", "event_type", "amount", "properties"]).rows.sorted { "\($0)" < "\($1)" }
    }

    @Test func gzipInputReadsAsPlainAndDamageIsLocated() throws {
        let dir = VectorFixtures.temporaryDirectory("gzip")
        let gz = dir + "-files"
        try FileManager.default.createDirectory(atPath: gz, withIntermediateDirectories: true)
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.sample).filter { $0.hasSuffix(".csv") || $0.hasSuffix(".jsonl") }
        #expect(files.count == 6)
        for f in files { try Self.gzip(Self.sample + "/" + f, to: gz + "/" + f + ".gz") }
        let plain = try Store(path: dir + "-plain", create: true)
        let p = try Ingestor(store: plain, options: try Self.options()).run([Self.sample])
        let packed = try Store(path: dir + "-gz", create: true)
        let g = try Ingestor(store: packed, options: try Self.options()).run([gz])
        #expect(g.failedFiles.isEmpty)
        #expect(g.sources.map(\.landed) == p.sources.map(\.landed))
        #expect(g.sources.map(\.quarantined) == p.sources.map(\.quarantined))
        #expect(g.sources.map(\.duplicates) == p.sources.map(\.duplicates))
        #expect(try Self.eventFingerprint(packed) == Self.eventFingerprint(plain))
        // The same files again, compressed: nothing new lands and nothing is quarantined a second time.
        let again = try Ingestor(store: plain, options: try Self.options()).run([gz])
        #expect(again.sources.allSatisfy { $0.landed == 0 && $0.quarantined == 0 && $0.duplicates == $0.read }, "\(again.sources)")

        // Two gzip members in one file (cat a.gz b.gz) are one stream.
        let web = Self.sample + "/web_events.jsonl"
        let lines = try String(contentsOfFile: web, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        let half = lines.count / 2
        try (lines[..<half].joined(separator: "\n") + "\n").write(toFile: dir + "-a.jsonl", atomically: true, encoding: .utf8)
        try lines[half...].joined(separator: "\n").write(toFile: dir + "-b.jsonl", atomically: true, encoding: .utf8)
        try Self.gzip(dir + "-a.jsonl", to: dir + "-a.gz")
        try Self.gzip(dir + "-b.jsonl", to: dir + "-b.gz")
        let joined = try Data(contentsOf: URL(fileURLWithPath: dir + "-a.gz")) + Data(contentsOf: URL(fileURLWithPath: dir + "-b.gz"))
        try joined.write(to: URL(fileURLWithPath: dir + "-web.jsonl.gz"))
        let whole = try Store(path: dir + "-members", create: true)
        let m = try Ingestor(store: whole, options: try Self.options()).run([dir + "-web.jsonl.gz"])
        let webOnly = try Store(path: dir + "-webplain", create: true)
        let w = try Ingestor(store: webOnly, options: try Self.options()).run([web])
        #expect(m.sources.first?.read == w.sources.first?.read)
        #expect(try Self.eventFingerprint(whole) == Self.eventFingerprint(webOnly))
        #expect(try whole.readAll("quality_issues", columns: ["rule"]).rows.allSatisfy { $0 != [.varchar("damaged_input")] })

        // A truncated file: what came before the cut lands, the cut is an error issue at the last line read, and
        // nothing is reported twice on a re-run.
        let cut = joined.prefix(joined.count * 2 / 3)
        try cut.write(to: URL(fileURLWithPath: dir + "-cut.jsonl.gz"))
        let truncated = try Store(path: dir + "-cut", create: true)
        let t = try Ingestor(store: truncated, options: try Self.options()).run([dir + "-cut.jsonl.gz"])
        let read = t.sources.first?.read ?? 0
        #expect(read > 0 && read < (w.sources.first?.read ?? 0))
        #expect(t.sources.allSatisfy { $0.balanced })
        #expect(t.damagedFiles.count == 1 && m.damagedFiles.isEmpty && g.damagedFiles.isEmpty)
        let damage = try truncated.readAll("quality_issues", columns: ["location", "severity", "rule", "message"]).rows.filter { $0[2] == .varchar("damaged_input") }
        #expect(damage.count == 1)
        if case .varchar(let location) = damage.first?[0], case .varchar(let message) = damage.first?[3] {
            #expect(location.hasPrefix(URL(fileURLWithPath: dir + "-cut.jsonl.gz").lastPathComponent + ":"))
            #expect(Int(location.split(separator: ":").last ?? "") ?? 0 >= read)
            #expect(message.contains("truncated"))
        }
        #expect(damage.first?[1] == .varchar("error"))
        _ = try Ingestor(store: truncated, options: try Self.options()).run([dir + "-cut.jsonl.gz"])
        #expect(try truncated.readAll("quality_issues", columns: ["rule"]).rows.filter { $0 == [.varchar("damaged_input")] }.count == 1)
    }

    /// A Segment file that is one JSON text over many lines: an array of messages, a pretty-printed message, a batch
    /// envelope. Each message is a record at the line it starts on; a broken element is quarantined there.
    @Test func oneJSONTextPerFileIsReadWhole() throws {
        let dir = VectorFixtures.temporaryDirectory("jsondoc")
        let input = dir + "-in"
        try FileManager.default.createDirectory(atPath: input, withIntermediateDirectories: true)
        func track(_ id: String, _ day: Int) -> String {
            """
              {
                "type": "track",
                "event": "Product Viewed",
                "messageId": "\(id)",
                "userId": "u-\(id)",
                "timestamp": "2025-01-0\(day)T10:00:00Z",
                "properties": {"product_id": "SKU-\(id)", "price": 1.5, "currency": "USD"}
              }
            """
        }
        // Element 3 has a track call without an event name: it is quarantined at its line, the others land.
        let broken = "  {\n    \"type\": \"track\",\n    \"messageId\": \"m3\",\n    \"timestamp\": \"2025-01-03T10:00:00Z\"\n  }"
        try ("[\n" + [track("m1", 1), track("m2", 2), broken, track("m4", 4)].joined(separator: ",\n") + "\n]\n")
            .write(toFile: input + "/export.json", atomically: true, encoding: .utf8)
        try ("{\n  \"type\": \"identify\",\n  \"messageId\": \"i1\",\n  \"userId\": \"u-m1\",\n"
            + "  \"timestamp\": \"2025-01-05T00:00:00Z\",\n  \"traits\": {\"email\": \" Ann@Example.com\"}\n}\n")
            .write(toFile: input + "/one.json", atomically: true, encoding: .utf8)
        try ("{\"batch\": [\n" + [track("b1", 6), track("b2", 7)].joined(separator: ",\n") + "\n]}\n")
            .write(toFile: input + "/batch.json", atomically: true, encoding: .utf8)
        let store = try Store(path: dir, create: true)
        let first = try Ingestor(store: store, options: try Self.options()).run([input])
        #expect(first.failedFiles.isEmpty)
        let segment = first.sources.first { $0.source == "segment" }
        #expect(segment?.files == 3 && segment?.read == 7 && segment?.landed == 6 && segment?.quarantined == 1)
        let issues = try store.readAll("quality_issues", columns: ["location", "rule"]).rows
        #expect(issues == [[.varchar("export.json:18#3"), .varchar("missing_event")]])
        let emails = try store.readAll("identities", columns: ["identifier_type", "identifier"]).rows.filter { $0[0] == .varchar("email") }
        #expect(emails == [[.varchar("email"), .varchar("ann@example.com")]])
        let again = try Ingestor(store: store, options: try Self.options()).run([input])
        #expect(again.sources.allSatisfy { $0.landed == 0 && $0.quarantined == 0 && $0.duplicates == $0.read })

        // A pretty-printed message with a missing comma is one broken record (not one per line), placed by line
        // and column; a JSON-lines file whose first lines are broken is still read line by line.
        let more = dir + "-more"
        try FileManager.default.createDirectory(atPath: more, withIntermediateDirectories: true)
        try (track("p1", 8).replacingOccurrences(of: "\"track\",", with: "\"track\"") + "\n").write(toFile: more + "/pretty.json", atomically: true, encoding: .utf8)
        let message = #"{"type":"track","event":"Product Viewed","messageId":"L","userId":"u","timestamp":"2025-01-09T00:00:00Z"}"#
        try (["{broken", "{\"also\": broken", "[nope", "{\"x\"", message].joined(separator: "\n") + "\n").write(toFile: more + "/lines.jsonl", atomically: true, encoding: .utf8)
        let other = try Store(path: dir + "-other", create: true)
        let r = try Ingestor(store: other, options: try Self.options()).run([more])
        let seg = r.sources.first { $0.source == "segment" }
        #expect(seg?.read == 6 && seg?.landed == 1 && seg?.quarantined == 5, "\(r.sources)")
        let prettyIssues = try other.readAll("quality_issues", columns: ["location", "rule", "message"]).rows.filter {
            if case .varchar(let l) = $0[0] { return l.hasPrefix("pretty.json") } else { return false }
        }
        #expect(prettyIssues.count == 1)
        #expect(prettyIssues.first?[0] == .varchar("pretty.json:1") && prettyIssues.first?[1] == .varchar("broken_json"))
        // The error is where `"event"` stands after the missing comma.
        if case .varchar(let m) = prettyIssues.first?[2] { #expect(m.contains("at line 3, column 5"), "\(m)") }
    }

    /// An array too large to read whole is read element by element as it streams (windows far smaller than one
    /// element here, so elements straddle them): the same records at the same places as when read whole; an
    /// element that is not JSON, or text between elements, costs only itself.
    @Test func aLargeJSONArrayIsReadElementByElement() throws {
        let dir = VectorFixtures.temporaryDirectory("jsonarray")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        func message(_ k: Int) -> String {
            "{\n  \"type\": \"track\", \"event\": \"Product Viewed\", \"messageId\": \"a\(k)\", \"userId\": \"u\(k % 7)\",\n"
                + "  \"timestamp\": \"2025-02-0\(k % 9 + 1)T10:00:00Z\", \"properties\": {\"note\": \"a ] , [ \\\" } in a string\", \"price\": 2, \"currency\": \"EUR\"}\n}"
        }
        let good = (1...40).map(message)
        try ("\u{FEFF}[\n" + good.joined(separator: ",\n") + "\n]\n").write(toFile: dir + "/whole.json", atomically: true, encoding: .utf8)
        var broken = good
        broken[9] = "{\"type\": \"track\", oops}"
        try ("[\n" + broken.joined(separator: ",\n") + "\n] trailing\n").write(toFile: dir + "/broken.json", atomically: true, encoding: .utf8)
        func ingest(_ file: String, streamed: Bool) throws -> (SourceSummary?, [[Value]], Store) {
            var o = try Self.options()
            if streamed {
                o.maxDocumentBytes = 1 << 10
                o.windowBytes = 100
            }
            let store = try Store(path: VectorFixtures.temporaryDirectory("jsonarray-store"), create: true)
            let r = try Ingestor(store: store, options: o).run([dir + "/" + file])
            let issues = try store.readAll("quality_issues", columns: ["location", "rule"]).rows.sorted { $0.description < $1.description }
            return (r.sources.first { $0.source == "segment" }, issues, store)
        }
        let (whole, wholeIssues, wholeStore) = try ingest("whole.json", streamed: false)
        let (streamed, streamedIssues, streamedStore) = try ingest("whole.json", streamed: true)
        #expect(whole?.landed == 40 && streamed?.landed == 40)
        #expect(streamedIssues == wholeIssues)
        #expect(try Self.eventFingerprint(streamedStore) == Self.eventFingerprint(wholeStore))
        for streamedToo in [false, true] {
            // A broken element: read element by element either way (the whole text does not parse).
            let (b, issues, _) = try ingest("broken.json", streamed: streamedToo)
            #expect(b?.landed == 39 && b?.quarantined == 2, "\(String(describing: b))")
            let broken = issues.filter { $0[1] == .varchar("broken_json") }.map { $0[0] }
            #expect(broken == [.varchar("broken.json:159"), .varchar("broken.json:38#10")], "\(broken)")  // 4 lines a message
        }
    }

    /// A till export whose date format changed for one row: the row is quarantined, and `replayQuarantine` with a
    /// fixed mapping lands it later, once; what still does not parse stays in the quarantine.
    @Test func aFixedMappingLandsQuarantinedRecords() throws {
        let dir = VectorFixtures.temporaryDirectory("replay")
        try FileManager.default.createDirectory(atPath: dir + "-in", withIntermediateDirectories: true)
        try """
            receipt_id,store_id,till,local_time,loyalty_id,phone,sku,product_name,quantity,unit_price,currency,line_type
            R1,US-104,till-4,2025-01-01T16:51:39-05:00,L1,,SKU-1,One,1,13.29,USD,sale
            R2,US-104,till-4,01/02/2025 16:51:39,L2,,SKU-2,Two,2,1.50,USD,sale
            R3,US-104,till-4,someday,L3,,SKU-3,Three,1,2.00,USD,sale

            """.write(toFile: dir + "-in/pos_transactions.csv", atomically: true, encoding: .utf8)
        let store = try Store(path: dir, create: true)
        let first = try Ingestor(store: store, options: try Self.options()).run([dir + "-in"])
        #expect(first.sources.first?.landed == 1 && first.sources.first?.quarantined == 2)
        // The fix: this store's tills wrote day/month/year in New York time.
        let pos = try String(contentsOfFile: Self.root + "/data/mappings/pos.yaml", encoding: .utf8)
        let fixed = pos.replacingOccurrences(of: "  format: iso8601          # carries its UTC offset",
            with: "  format: \"%d/%m/%Y %H:%M:%S\"\n  timezone: America/New_York")
        #expect(fixed != pos)
        try fixed.write(toFile: dir + "-fixed.yaml", atomically: true, encoding: .utf8)
        var o = try Self.options()
        o.mapping = try Mapping.load(dir + "-fixed.yaml")
        let replay = try Ingestor(store: store, options: o).replayQuarantine()
        #expect(replay.landed == 1 && replay.kept == 1)
        let rows = try store.readAll("events", columns: ["ts", "product_id", "amount"]).rows
        #expect(rows.contains([.timestamp(Timestamp.micros(year: 2025, month: 2, day: 1, hour: 21, minute: 51, second: 39)), .varchar("SKU-2"), .decimal(300)]))
        #expect(rows.count == 2)
        #expect(try QuarantineWriter.entries(storePath: dir).map(\.line) == [4])
        let again = try Ingestor(store: store, options: o).replayQuarantine()
        #expect(again.landed == 0 && again.kept == 1)
        #expect(try store.manifest("events").rowCount == 2)
    }
}
