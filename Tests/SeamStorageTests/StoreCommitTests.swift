import SeamColumnar
@testable import SeamStorage
import SeamTestSupport
import Testing
import Foundation

struct SimulatedCrash: Error {}

@Suite struct StoreCommitTests {
    static let schema = Schema([Field("customer_id", .bigint), Field("ts", .timestamp), Field("kind", .varchar)])
    static let layout = TableLayout(partitionColumn: "ts", granularity: .month, sortColumns: ["customer_id", "ts"])

    static func rows(_ n: Int, base: Int64) -> Chunk {
        var rng = FixtureRandom(seed: UInt64(base))
        let jan2025 = Timestamp.micros(year: 2025, month: 1, day: 1)
        return Chunk(
            schema: schema,
            rows: (0..<n).map { i in
                [
                    .bigint(Int64.random(in: 1...50, using: &rng)),
                    .timestamp(jan2025 + Int64.random(in: 0..<(90 * 86_400), using: &rng) * 1_000_000),
                    .varchar(["view", "cart", "purchase"][i % 3]),
                ]
            })
    }

    func multiset(_ c: Chunk) -> [String] { c.rows.map { $0.map(\.description).joined(separator: "|") }.sorted() }

    @Test func appendPartitionsByMonthAndSortsByCustomer() throws {
        let dir = VectorFixtures.temporaryDirectory()
        let store = try Store(path: dir, create: true)
        try store.createTable("events", schema: Self.schema, layout: Self.layout)
        let input = Self.rows(3000, base: 1)
        let result = try store.append(input, to: "events")
        #expect(result.version == 1)
        let m = try store.manifest("events")
        #expect(Set(m.segments.compactMap(\.partition)) == ["2025-01", "2025-02", "2025-03"])
        for r in try store.readers(m) {
            let ids = try r.readColumn(0).flatMap(\.allValues).map { v -> Int64 in
                if case .bigint(let x) = v { return x } else { return -1 }
            }
            #expect(ids == ids.sorted())
            // The segment's time zone map lies inside its month.
            guard case .integer(let lo, let hi) = r.footer.columns[1][0].zone else { Issue.record("no zone"); continue }
            #expect(Timestamp.parts(lo).month == Timestamp.parts(hi).month)
        }
        #expect(multiset(try store.readAll("events")) == multiset(input))
    }

    /// A third sort column orders the rows tied on the first two (events' `event_id`: a customer's purchase lines
    /// share a time), so each segment is in one total order.
    @Test func aThirdSortColumnOrdersTheTies() throws {
        let schema = Schema([Field("event_id", .bigint), Field("ts", .timestamp), Field("customer_id", .bigint)])
        let layout = TableLayout(partitionColumn: "ts", granularity: .month, sortColumns: ["customer_id", "ts", "event_id"])
        var rng = FixtureRandom(seed: 11)
        let jan2025 = Timestamp.micros(year: 2025, month: 1, day: 1)
        // Five times a customer and unique ids in random order: most rows tie with others on both sort keys.
        let ids = (0..<2000).map { Int64($0) }.shuffled(using: &rng)
        let input = Chunk(schema: schema, rows: ids.map { id in
            [.bigint(id), .timestamp(jan2025 + Int64.random(in: 0..<5, using: &rng) * 1_000_000), .bigint(Int64.random(in: 1...20, using: &rng))]
        })
        let dir = VectorFixtures.temporaryDirectory()
        let store = try Store(path: dir, create: true)
        try store.createTable("events", schema: schema, layout: layout)
        try store.append(input, to: "events")
        let m = try store.manifest("events")
        #expect(m.segments.count == 1)
        for r in try store.readers(m) {
            func ints(_ c: Int) throws -> [Int64] {
                try r.readColumn(c).flatMap(\.allValues).map { v -> Int64 in
                    switch v {
                    case .bigint(let x), .timestamp(let x): return x
                    default: return -1
                    }
                }
            }
            let (event, ts, customer) = (try ints(0), try ints(1), try ints(2))
            let keys = (0..<event.count).map { [customer[$0], ts[$0], event[$0]] }
            #expect(keys.count == 2000)
            #expect(keys == keys.sorted { $0.lexicographicallyPrecedes($1) })
        }
    }

    /// The radix sort of two keys, and of two keys then a third for their ties, orders rows as the comparison sort
    /// does, ties in input order: narrow and wide spans, keys that fill all 64 bits together (radix) or more (the
    /// comparison fallback), many equal keys, the nulls' key (`UInt64.max`, ranked past the span instead of widening
    /// it), and digits every key shares (the skipped passes).
    @Test(arguments: [(2, 40), (17, 42), (30, 34), (0, 64), (64, 0), (33, 33), (64, 64), (1, 1)])
    func radixSortOfTwoKeysEqualsTheComparisonSort(bitsA: Int, bitsB: Int) {
        var rng = FixtureRandom(seed: UInt64(bitsA * 100 + bitsB))
        func key(_ bits: Int, base: UInt64) -> UInt64 {
            let r = bits == 0 ? 0 : rng.next() >> UInt64(64 - bits)
            return bits == 64 ? r : base &+ r
        }
        for n in [0, 1, 2, 5, 1000, 5000] {
            let rows = (0..<n).map { _ in rng.next() }
            // Every seventh first key and one of the second keys' values are the nulls' key.
            let first = (0..<n).map { i in i % 7 == 0 ? UInt64.max : key(bitsA, base: 1 << 40) }
            // Few distinct values in the second key, so ties on both keys are common.
            let pool = (0..<max(n / 10, 1)).map { k in k == 3 ? UInt64.max : key(bitsB, base: 123_456) }
            let second = (0..<n).map { _ in pool[Int(rng.next() % UInt64(pool.count))] }
            let same = TableWriter.sortByKeys(rows, first, second) == TableWriter.comparisonSort(rows, first, second)
            #expect(same, "\(n) rows")
            // A third key orders the rows tied on both (few values: some ties remain, in input order).
            let third = (0..<n).map { _ in rng.next() % 5 }
            let sameOnThree = TableWriter.sortByKeys(rows, first, second, then: third) == TableWriter.comparisonSort(rows, first, second, then: third)
            #expect(sameOnThree, "\(n) rows, three keys")
        }
    }

    /// Every step of a commit, before and after: a crash there leaves the previous commit intact and readable,
    /// reopening removes what the crash left, and the next commit succeeds.
    @Test func crashAtEveryCommitStepLosesNothingCommitted() throws {
        // Learn the steps of a commit by recording a successful one.
        let steps = Mutex<[(CommitStep, CommitPhase)]>([])
        do {
            let dir = VectorFixtures.temporaryDirectory()
            let s = try Store(path: dir, create: true)
            try s.createTable("events", schema: Self.schema, layout: Self.layout)
            try s.append(Self.rows(500, base: 2), to: "events", faults: CommitFaults { st, ph in steps.withLock { $0.append((st, ph)) } })
        }
        let allSteps = steps.withLock { $0 }
        #expect(allSteps.count >= 16)  // 3 segments × 2 steps + 5 more, before and after each

        for (crashStep, crashPhase) in allSteps {
            let dir = VectorFixtures.temporaryDirectory()
            let first = Self.rows(400, base: 3)
            do {
                let s = try Store(path: dir, create: true)
                try s.createTable("events", schema: Self.schema, layout: Self.layout)
                try s.append(first, to: "events")
                #expect(throws: StorageError.self) {
                    try s.append(Self.rows(500, base: 2), to: "events", faults: CommitFaults { st, ph in
                        if st == crashStep && ph == crashPhase { throw SimulatedCrash() }
                    })
                }
            }
            // "Restart": a new store object over the same directory.
            let reopened = try Store(path: dir)
            let m = try reopened.manifest("events")
            let data = try reopened.readAll("events")
            let landed = crashStep == .syncTableDirectory || crashStep == .removeReplaced
                || (crashStep == .renameManifest && crashPhase == .after)
            if landed {
                // The rename happened: the new commit is whole.
                #expect(m.version == 2 && data.rowCount == 900, "\(crashStep) \(crashPhase)")
            } else {
                #expect(m.version == 1, "\(crashStep) \(crashPhase)")
                #expect(multiset(data) == multiset(first), "\(crashStep) \(crashPhase)")
                let wroteSomething = !(crashStep == .writeSegment(0) && crashPhase == .before)
                #expect(reopened.recovery.isEmpty == !wroteSomething, "\(crashStep) \(crashPhase): \(reopened.recovery.removedFiles)")
            }
            #expect(reopened.verify().isClean)
            // No file outside the manifest survives recovery.
            let files = try FileIO.list(dir + "/tables/events/data")
            #expect(Set(files.map { "data/" + $0 }) == Set(m.segments.map(\.file)))
            // The next commit succeeds.
            try reopened.append(Self.rows(100, base: 4), to: "events")
            #expect(try reopened.readAll("events").rowCount == data.rowCount + 100)
        }
    }

    @Test func replaceSwapsSegmentsAtomically() throws {
        let dir = VectorFixtures.temporaryDirectory()
        let s = try Store(path: dir, create: true)
        try s.createTable("events", schema: Self.schema, layout: Self.layout)
        try s.append(Self.rows(300, base: 5), to: "events")
        try s.append(Self.rows(300, base: 6), to: "events")
        let before = try s.readAll("events")
        let m = try s.manifest("events")
        try s.replace(in: "events", removing: m.segments.map(\.file), adding: before)
        let after = try s.manifest("events")
        #expect(after.segments.count == 3)
        #expect(multiset(try s.readAll("events")) == multiset(before))
        #expect(try FileIO.list(dir + "/tables/events/data").count == 3)
    }

    @Test func secondWriterIsRefusedAndReadersNeedNoLock() throws {
        let dir = VectorFixtures.temporaryDirectory()
        let s = try Store(path: dir, create: true)
        try s.createTable("t", schema: Self.schema)
        #expect(throws: StorageError.self) { try Store(path: dir) }
        let reader = try Store(path: dir, mode: .readOnly)
        #expect(try reader.tableNames() == ["t"])
        _ = s
    }

    @Test func damagedManifestIsReportedByVerify() throws {
        let dir = VectorFixtures.temporaryDirectory()
        do {
            let s = try Store(path: dir, create: true)
            try s.createTable("t", schema: Self.schema)
            try s.append(Self.rows(10, base: 1), to: "t")
        }
        let path = dir + "/tables/t/manifest.json"
        var bytes = try FileIO.readAll(path)
        bytes[10] ^= 0x01
        try FileIO.remove(path)
        try FileIO.writeNew(path, bytes)
        let report = try Store(path: dir, mode: .readOnly).verify()
        #expect(report.problems.count == 1)
        #expect(report.problems.first?.code == .checksumMismatch)
        #expect(report.problems.first?.file == path)
    }

    /// A reader asks for a table's manifest and readers at every statement. Another process's commit must show at
    /// once, even a compaction that leaves the manifest file the same size, made in the same clock tick as the last
    /// one, in a file that may reuse the old one's inode: the version each commit writes into the nanoseconds of its
    /// manifest's modification time tells them apart where the rest of the stamp cannot.
    @Test func aReaderSeesEveryCommitOfAnotherStoreAtOnce() throws {
        let dir = VectorFixtures.temporaryDirectory()
        let writer = try Store(path: dir, create: true)
        try writer.createTable("events", schema: Self.schema, layout: TableLayout())
        try writer.append(Self.rows(50, base: 1), to: "events")
        let reader = try Store(path: dir, mode: .readOnly)
        let path = dir + "/tables/events/manifest.json"
        var sizes = Set<Int>()
        var reused = 0
        for _ in 0..<60 {
            let before = try reader.snapshot("events")
            let seen = try #require(FileIO.stamp(path))
            // Two commits while the reader looks away (the file it saw is freed by the first, and its inode free for
            // the second's), each the same rows again in one new segment: the manifest changes its version and a
            // file name only.
            var r = try writer.replace(in: "events", removing: before.manifest.segments.map(\.file), adding: Self.rows(50, base: 1))
            r = try writer.replace(in: "events", removing: try writer.manifest("events").segments.map(\.file), adding: Self.rows(50, base: 1))
            if let now = FileIO.stamp(path), now.inode == seen.inode, now.size == seen.size { reused += 1 }
            let after = try reader.snapshot("events")
            #expect(after.manifest.version == r.version)
            #expect(after.manifest == (try writer.manifest("events")))
            #expect(after.readers.map(\.path) == after.manifest.segments.map { dir + "/tables/events/" + $0.file })
            #expect(try reader.snapshot("events").manifest.version == r.version)
            sizes.insert(FileIO.fileSize(path) ?? -1)
            let stamp = try #require(FileIO.stamp(path))
            #expect(stamp.modifiedNanoseconds == r.version)
        }
        // The manifests were mostly of one size, and most took the inode of the one the reader had seen (56-57 of 60
        // on this machine's ext4): a stamp of inode and size alone gave stale manifests here. The times told them
        // apart on this machine, as each commit's fsyncs outlast a clock tick; the version does not depend on that.
        #expect(sizes.count <= 3)
        print("manifest files on the inode of the one seen before, of the same size: \(reused) of 60")
    }

    /// A manifest file put in place by other means than a commit (restored by hand, here an earlier version's
    /// bytes) carries no version stamp: readers read it each time, and see it.
    @Test func aManifestPutInPlaceByHandIsReadEachTime() throws {
        let dir = VectorFixtures.temporaryDirectory()
        let writer = try Store(path: dir, create: true)
        try writer.createTable("events", schema: Self.schema, layout: TableLayout())
        try writer.append(Self.rows(50, base: 1), to: "events")
        let path = dir + "/tables/events/manifest.json"
        let first = try FileIO.readAll(path)
        try writer.append(Self.rows(50, base: 2), to: "events")
        let reader = try Store(path: dir, mode: .readOnly)
        #expect(try reader.snapshot("events").manifest.version == 2)
        try FileIO.writeNew(path + ".restored", first)
        try FileIO.rename(path + ".restored", path)
        #expect(try reader.snapshot("events").manifest.version == 1)
        #expect(try reader.snapshot("events").readers.count == 1)
    }
}

import Synchronization

@Suite struct CompactionTests {
    @Test func compactionMergesEachPartitionIntoOneSortedSegment() throws {
        let dir = VectorFixtures.temporaryDirectory()
        let s = try Store(path: dir, create: true)
        try s.createTable("events", schema: StoreCommitTests.schema, layout: StoreCommitTests.layout)
        for base in [11, 12, 13] as [Int64] { try s.append(StoreCommitTests.rows(700, base: base), to: "events") }
        let before = try s.readAll("events")
        #expect(try s.manifest("events").segments.count == 9)
        let r = try s.compact("events")
        #expect(r.segmentsBefore == 9 && r.segmentsAfter == 3 && r.partitions == 3)
        let m = try s.manifest("events")
        #expect(Set(m.segments.compactMap(\.partition)) == ["2025-01", "2025-02", "2025-03"])
        let rowsOf = { (c: Chunk) in c.rows.map { $0.map(\.description).joined(separator: "|") }.sorted() }
        #expect(rowsOf(try s.readAll("events")) == rowsOf(before))
        for reader in try s.readers(m) {
            let ids = try reader.readColumn(0).flatMap(\.allValues).map { v -> Int64 in if case .bigint(let x) = v { x } else { -1 } }
            #expect(ids == ids.sorted())
        }
        #expect(s.verify().isClean)
        #expect(try FileIO.list(dir + "/tables/events/data").count == 3)
        // Compacting a compact table changes nothing.
        #expect(try s.compact("events").partitions == 0)
    }

    @Test func readersHeldAcrossACompactionStillRead() throws {
        let dir = VectorFixtures.temporaryDirectory()
        let s = try Store(path: dir, create: true)
        try s.createTable("events", schema: StoreCommitTests.schema, layout: StoreCommitTests.layout)
        for base in [31, 32] as [Int64] { try s.append(StoreCommitTests.rows(500, base: base), to: "events") }
        let held = try s.readers(try s.manifest("events"))
        _ = try s.compact("events")
        let after = try s.readers(try s.manifest("events"))
        #expect(after.count == 3 && !after.contains { r in held.contains { $0 === r } })
        #expect(try FileIO.list(dir + "/tables/events/data").count == 3)
        // The replaced segments' files are gone; readers opened before still read them (mapped).
        #expect(held.count == 6 && held.reduce(0) { $0 + $1.rowCount } == 1000)
        for r in held { #expect(try r.readColumn(0).reduce(0) { $0 + $1.count } == r.rowCount) }
    }

    @Test func readersOfAReplacedSegmentAreNotCachedAgain() throws {
        let dir = VectorFixtures.temporaryDirectory()
        let s = try Store(path: dir, create: true)
        try s.createTable("events", schema: StoreCommitTests.schema, layout: StoreCommitTests.layout)
        for base in [41, 42] as [Int64] { try s.append(StoreCommitTests.rows(300, base: base), to: "events") }
        weak var old: SegmentReader? = nil
        do {
            let before = try s.manifest("events")
            old = try s.readers(before).first
            #expect(old != nil)
            _ = try s.compact("events")
            _ = try s.readers(try s.manifest("events"))
        }
        #expect(old == nil, "a reader of a segment the newest manifest no longer lists stayed in the cache")
    }

    @Test func appendingChosenRowsOfSeveralChunksEqualsAppendingThemGathered() throws {
        let a = StoreCommitTests.rows(900, base: 21), b = StoreCommitTests.rows(400, base: 22), c = StoreCommitTests.rows(50, base: 23)
        let pickA: [Int32] = (0..<900).filter { $0 % 3 != 1 }.map { Int32($0) }.reversed()
        let pickC: [Int32] = [49, 0, 7]
        let dirs = (VectorFixtures.temporaryDirectory(), VectorFixtures.temporaryDirectory())
        let parts = try Store(path: dirs.0, create: true), gathered = try Store(path: dirs.1, create: true)
        let layout = TableLayout(partitionColumn: "ts", granularity: .month, sortColumns: ["customer_id", "ts"], maxSegmentRows: 256)
        for s in [parts, gathered] { try s.createTable("events", schema: StoreCommitTests.schema, layout: layout) }
        let r = try parts.append([AppendRows(a, rows: pickA), AppendRows(b), AppendRows(c, rows: pickC)], to: "events")
        #expect(r.rowsAdded == pickA.count + 400 + 3)
        let whole = Gather.concat([
            Chunk(schema: a.schema, columns: a.columns.map { Gather.rows($0, pickA) }), b,
            Chunk(schema: c.schema, columns: c.columns.map { Gather.rows($0, pickC) }),
        ])
        try gathered.append(whole, to: "events")
        // Same segments (partition, rows in sort order), same bytes read back.
        let (m1, m2) = (try parts.manifest("events"), try gathered.manifest("events"))
        #expect(m1.segments.map(\.partition) == m2.segments.map(\.partition))
        #expect(m1.segments.map(\.rows) == m2.segments.map(\.rows))
        #expect(m1.segments.count > 3)
        let rowsOf = { (c: Chunk) in c.rows.map { $0.map(\.description).joined(separator: "|") } }
        #expect(rowsOf(try parts.readAll("events")) == rowsOf(try gathered.readAll("events")))
        #expect(parts.verify().isClean)
        // Both go through the same writer, so check it on its own: the rows appended are the rows picked, each
        // segment holds one month's rows, sorted by (customer_id, ts).
        #expect(rowsOf(try parts.readAll("events")).sorted() == rowsOf(whole).sorted())
        for (entry, reader) in zip(m1.segments, try parts.readers(m1)) {
            let ids = try reader.readColumn(0).flatMap(\.allValues), times = try reader.readColumn(1).flatMap(\.allValues)
            #expect(ids.count == entry.rows)
            var keys: [(Int64, Int64)] = []
            for (id, t) in zip(ids, times) {
                guard case .bigint(let c) = id, case .timestamp(let ts) = t else { Issue.record("unexpected null"); continue }
                keys.append((c, ts))
                let month = String(Value.timestamp(ts).description.prefix(7))
                #expect(month == entry.partition, "a row of \(month) in segment \(entry.partition ?? "-")")
            }
            #expect(zip(keys, keys.dropFirst()).allSatisfy { $0 <= $1 }, "segment rows are not sorted")
        }
    }

    @Test func concatKeepsValuesAndNulls() {
        for type in LogicalType.allCases {
            let parts = [0, 5, 130, 1].enumerated().map { k, n in
                VectorFixtures.vector(type, count: n, shape: .random, nulls: k == 2 ? .sparse : .none, seed: UInt64(k))
            }
            let all = Gather.concat(parts, type: type)
            #expect(sameValues(all.allValues, parts.flatMap(\.allValues)), "\(type)")
        }
    }
}

import SeamKernels
