import SeamColumnar
import SeamKernels
import SeamTestSupport
import Testing

@Suite struct KernelTests {
    /// Quickselect puts the value a sort would at every asked position, nothing larger before it and nothing smaller
    /// after it: random values, few distinct values, sorted and reversed input (the median-of-three's easy and hard
    /// cases), extremes of Int64, sizes around the cut-over to sorting small ranges.
    @Test(arguments: ["random", "few", "sorted", "reversed", "extremes"])
    func selectionAgreesWithSorting(shape: String) {
        var rng = FixtureRandom(seed: UInt64(shape.utf8.count) &* 31)
        for n in [1, 2, 3, 15, 16, 17, 100, 1000, 20000] {
            let values: [Int64] = (0..<n).map { i in
                switch shape {
                case "few": return Int64(rng.next() % 3)
                case "sorted": return Int64(i)
                case "reversed": return Int64(n - i)
                case "extremes": return [Int64.min, .max, 0, -1][Int(rng.next() % 4)]
                default: return Int64(bitPattern: rng.next())
                }
            }
            let sorted = values.sorted()
            for k in Set([0, n / 3, n / 2, n - 1, Int(rng.next() % UInt64(n))]) {
                var work = values
                work.withUnsafeMutableBufferPointer { Select.nth($0, k) }
                #expect(work[k] == sorted[k], "\(shape), \(n) values, position \(k)")
                #expect(work[..<k].allSatisfy { $0 <= work[k] } && work[(k + 1)...].allSatisfy { $0 >= work[k] }, "\(shape), \(n), \(k)")
                #expect(work.sorted() == sorted, "\(shape): the same values")
                if k + 1 < n {
                    let next = work.withUnsafeBufferPointer { Select.minimum(UnsafeBufferPointer(rebasing: $0[(k + 1)...])) }
                    #expect(next == sorted[k + 1], "\(shape), \(n), after \(k)")
                }
            }
        }
    }

    /// Radix sorts equal the standard library's: values ascending, and positions in key order with ties in position
    /// order, over spans of 0 to 64 bits (digits every key shares skip their pass), few or no distinct keys, and
    /// keys at both ends of UInt64.
    @Test(arguments: [0, 1, 5, 11, 12, 33, 63, 64])
    func radixSortsEqualTheComparisonSort(bits: Int) {
        var rng = FixtureRandom(seed: UInt64(bits) + 7)
        for n in [0, 1, 2, 3, 100, 4000] {
            let base: UInt64 = bits == 64 ? 0 : (rng.next() >> UInt64(bits)) << UInt64(bits)
            let pool = (0..<max(n / 8, 1)).map { _ in bits == 0 ? base : base | rng.next() >> UInt64(64 - bits) }
            var keys = (0..<n).map { _ in pool[Int(rng.next() % UInt64(pool.count))] }
            if bits == 64 && n > 2 { keys[0] = .max; keys[1] = 0 }
            let order = RadixSort.order(keys)
            let expected = keys.indices.sorted { (keys[$0], $0) < (keys[$1], $1) }
            #expect(order.map(Int.init) == expected, "\(n) keys of \(bits) bits")
            var sorted = keys
            RadixSort.sort(&sorted)
            #expect(sorted == keys.sorted(), "\(n) keys of \(bits) bits")
        }
    }

    /// Published check values of CRC-32C (RFC 3720 appendix B.4 and the "123456789" check value).
    /// Counting the valid rows of flagged runs equals expanding the runs to rows and counting, for runs of one row
    /// up to several words, runs ending on every bit of a word (bit 63 included), no validity, all NULL and none.
    @Test func runCountsEqualCountingTheExpandedRows() {
        var rng = FixtureRandom(seed: 2026)
        for trial in 0..<300 {
            let longest = [1, 3, 8, 64, 200][trial % 5]
            var lengths: [UInt32] = []
            var rows = 0
            for _ in 0...Int(rng.next() % 300) {
                let n = Int(rng.next() % UInt64(longest)) + 1
                lengths.append(UInt32(n))
                rows += n
            }
            let flags = lengths.map { _ in UInt8(rng.next() % 3 == 0 ? 0 : (rng.next() % 2 == 0 ? 1 : 255)) }
            let nullEvery = [0, 1, 2, 7][trial % 4]  // 0: no NULL; 1: all NULL
            var words = [UInt64](repeating: 0, count: (rows + 63) / 64)
            var valid = [Bool](repeating: true, count: rows)
            for r in 0..<rows {
                if nullEvery != 0 && (nullEvery == 1 || rng.next() % UInt64(nullEvery) == 0) { valid[r] = false }
                if valid[r] { words[r >> 6] |= 1 << UInt64(r & 63) }
            }
            var perRow: [UInt8] = []
            for (k, n) in lengths.enumerated() { perRow += [UInt8](repeating: flags[k] != 0 ? 1 : 0, count: Int(n)) }
            let expected = (0..<rows).filter { perRow[$0] != 0 && valid[$0] }.count
            let expectedIgnoringNulls = perRow.filter { $0 != 0 }.count
            flags.withUnsafeBufferPointer { f in
                lengths.withUnsafeBufferPointer { l in
                    let got = words.withUnsafeBufferPointer {
                        Runs.countSelected(flags: f.baseAddress!, lengths: l.baseAddress!, runs: l.count, validity: $0.baseAddress!)
                    }
                    #expect(got == expected, "trial \(trial)")
                    let noValidity = Runs.countSelected(flags: f.baseAddress!, lengths: l.baseAddress!, runs: l.count, validity: nil)
                    #expect(noValidity == expectedIgnoringNulls, "trial \(trial)")
                    var spread = [UInt8](repeating: 9, count: rows)
                    spread.withUnsafeMutableBufferPointer { out in
                        Runs.spread(flags: f.baseAddress!, lengths: l.baseAddress!, runs: l.count, into: out.baseAddress!)
                    }
                    #expect(spread == perRow, "trial \(trial)")
                }
            }
        }
    }

    @Test func crc32cMatchesPublishedCheckValues() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
        #expect(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)) == 0x62A8_AB43)
        #expect(CRC32C.checksum((0..<32).map { UInt8($0) }) == 0x46DD_794E)
        #expect(CRC32C.checksum([]) == 0)
    }

    /// The CPU instruction path and the table path agree at every length, alignment and seed (on a CPU without the
    /// instruction both calls take the table, and the test says so).
    @Test func crc32cInstructionAndTablesAgree() {
        if !CRC32C.usesHardware { print("note: this CPU has no CRC-32C instruction; only the table path is checked") }
        var rng = FixtureRandom(seed: 2)
        let data = (0..<4200).map { _ in UInt8.random(in: 0...255, using: &rng) }
        data.withUnsafeBytes { all in
            for start in 0..<9 {
                for length in [0, 1, 3, 7, 8, 9, 15, 16, 17, 63, 64, 65, 1000, 4096] {
                    let bytes = UnsafeRawBufferPointer(rebasing: all[start..<(start + length)])
                    for seed: UInt32 in [0, 0xDEAD_BEEF] {
                        #expect(CRC32C.checksum(bytes, seed: seed) == CRC32C.tableChecksum(bytes, seed: seed), "start \(start) length \(length)")
                    }
                }
            }
        }
    }

    @Test func crc32cIsIncrementalAndSeesEveryBit() {
        var rng = FixtureRandom(seed: 1)
        let data = (0..<1000).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let whole = CRC32C.checksum(data)
        for split in [0, 1, 7, 8, 9, 500, 999, 1000] {
            let a = CRC32C.checksum(Array(data[0..<split]))
            #expect(CRC32C.checksum(Array(data[split...]), seed: a) == whole)
        }
        for bit in stride(from: 0, to: 8000, by: 97) {
            var d = data
            d[bit / 8] ^= UInt8(1 << (bit % 8))
            #expect(CRC32C.checksum(d) != whole)
        }
    }

    /// The table hash: equal bytes hash equal wherever they sit (an unaligned copy too), every byte of a long text
    /// counts (one flipped bit in any lane or in the tail changes it), and distinct texts of one shape rarely meet.
    @Test func tableHashSeesEveryByteAndKeepsEqualsEqual() {
        var rng = FixtureRandom(seed: 0x7AB1E)
        for length in [0, 1, 7, 8, 31, 32, 33, 63, 64, 65, 100, 257] {
            let text = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            let h = text.withUnsafeBytes { Hash64.tableHash($0) }
            let shifted = [0x55] + text
            #expect(shifted.withUnsafeBytes { Hash64.tableHash(UnsafeRawBufferPointer(rebasing: $0[1...])) } == h, "length \(length)")
            for at in stride(from: 0, to: length, by: max(1, length / 9)) {
                var flipped = text
                flipped[at] ^= 0x10
                #expect(flipped.withUnsafeBytes { Hash64.tableHash($0) } != h, "length \(length), byte \(at)")
            }
        }
        let hashes = Set((0..<20_000).map { k in Array("{\"timestamp\":\"2024-11-11T08:58:\(k)Z\",\"name\":\"Home\"}".utf8).withUnsafeBytes { Hash64.tableHash($0) } })
        #expect(hashes.count == 20_000)
    }

    @Test func gatherKeepsValuesAndNulls() {
        for type in LogicalType.allCases {
            let v = VectorFixtures.vector(type, count: 300, shape: .random, nulls: .sparse, seed: 4)
            let idx: [Int32] = [299, 0, 5, 5, 150]
            let g = Gather.rows(v, idx)
            #expect(sameValues(g.allValues, idx.map { v.value(at: Int($0)) }), "\(type)")
            #expect(Gather.rows(v, []).count == 0)
        }
    }

    /// Dictionary parts concatenate into one dictionary with each text once (NULL entries too), and every row keeps
    /// its value; row validity carries over.
    @Test func concatenatedDictionariesKeepEachTextOnce() {
        func dictionary(_ texts: [String?], _ codes: [UInt32], nullRows: Set<Int> = []) -> ColumnVector {
            var b = ColumnBuilder(.varchar, capacity: texts.count)
            for t in texts { b.append(string: t) }
            let codeBuffer = Buffer(copying: codes)
            let validity: Buffer? = nullRows.isEmpty ? nil : Buffer(byteCount: Bitmap.wordCount(codes.count) * 8) { raw in
                let words = raw.bindMemory(to: UInt64.self)
                for r in 0..<codes.count where !nullRows.contains(r) { words[r >> 6] |= 1 << UInt64(r & 63) }
            }
            return ColumnVector(codes: codeBuffer, entries: b.finish(), count: codes.count, validity: validity)
        }
        let parts = [
            dictionary(["view", "cart"], [0, 1, 1, 0]),
            dictionary(["cart", "buy", nil, "view"], [3, 0, 2, 1, 2], nullRows: [1]),
            dictionary([nil, "buy"], [1, 0, 1]),
        ]
        let all = Gather.concat(parts, type: .varchar)
        #expect(all.dictionary?.entries.count == 4, "view, cart, buy, NULL")
        #expect(sameValues(all.allValues, parts.flatMap(\.allValues)))
    }

    @Test func gatherFromPartsEqualsConcatThenGather() {
        var rng = FixtureRandom(seed: 9)
        for type in LogicalType.allCases {
            // A dictionary-form part among the flat ones (its flat form is read), empty and null-free parts too.
            var parts = [70, 0, 130, 3].enumerated().map { k, n in
                VectorFixtures.vector(type, count: n, shape: .random, nulls: k == 2 ? .sparse : .none, seed: UInt64(k + 20))
            }
            if type == .varchar {
                let entries = VectorFixtures.vector(.varchar, count: 5, shape: .random, nulls: .none, seed: 3)
                let codes = Buffer(byteCount: 40 * 4) { raw in for i in 0..<40 { raw.storeBytes(of: UInt32(i % 5), toByteOffset: i * 4, as: UInt32.self) } }
                parts.append(ColumnVector(codes: codes, entries: entries, count: 40))
            }
            let all = Gather.concat(parts, type: type)
            let starts = parts.indices.map { k in parts[..<k].reduce(0) { $0 + $1.count } }
            var refs: [UInt64] = []
            var flat: [Int32] = []
            for _ in 0..<500 {
                let k = [0, 2, 3, parts.count - 1].randomElement(using: &rng)!
                let row = Int.random(in: 0..<parts[k].count, using: &rng)
                refs.append(Gather.ref(part: k, row: row))
                flat.append(Int32(starts[k] + row))
            }
            let g = refs.withUnsafeBufferPointer { Gather.rows(of: parts, $0) }
            #expect(g.count == refs.count)
            #expect(sameValues(g.allValues, Gather.rows(all, flat).allValues), "\(type)")
        }
    }

    @Test func minMaxSkipsNulls() {
        let v = Chunk(schema: Schema([Field("x", .bigint)]), rows: [[.null], [.bigint(5)], [.bigint(-3)], [.null], [.bigint(9)]]).columns[0]
        let r = v.withValues(Int64.self) { MinMax.of($0, validity: v.validity!.typed(UInt64.self, count: 1)) }
        #expect(r?.min == -3 && r?.max == 9)
        let empty = ColumnBuilder(.bigint).finish()
        #expect(empty.withValues(Int64.self) { MinMax.of($0, validity: nil) } == nil)
    }

    /// Expanding compact values over a validity bitmap puts each valid row's value in place and, in a NULL row, the
    /// value of the next valid row (the last value after it, 0 when none is valid), as the row-by-row definition says:
    /// densities from none to all, runs of full and empty words, row counts off a word's end, and bits set past the
    /// last row (not promised clear).
    @Test(arguments: ["none", "sparse", "half", "dense", "all", "words"])
    func expandAgreesWithTheRowByRowDefinition(density: String) {
        var rng = FixtureRandom(seed: UInt64(density.utf8.count) &* 97)
        for rows in [1, 63, 64, 65, 130, 1000, 4096, 5000] {
            let words = (rows + 63) / 64 + 1
            var bits = [UInt64](repeating: 0, count: words)
            for r in 0..<rows {
                let on: Bool
                switch density {
                case "none": on = false
                case "sparse": on = rng.next() % 9 == 0
                case "half": on = rng.next() % 2 == 0
                case "dense": on = rng.next() % 20 != 0
                case "all": on = true
                default: on = (r / 64) % 3 == 0 || ((r / 64) % 3 == 1 && rng.next() % 4 == 0)
                }
                if on { bits[r >> 6] |= 1 << UInt64(r & 63) }
            }
            // Garbage past the last row.
            bits[rows >> 6] |= ~0 << UInt64(rows & 63)
            bits[words - 1] = ~0
            let valid = (0..<rows).filter { bits[$0 >> 6] >> UInt64($0 & 63) & 1 == 1 }.count
            let src = (0..<valid).map { _ in Int64(bitPattern: rng.next()) }
            var expected = [Int64](repeating: 0, count: rows)
            var k = 0
            for r in 0..<rows {
                expected[r] = valid == 0 ? 0 : src[min(k, valid - 1)]
                if bits[r >> 6] >> UInt64(r & 63) & 1 == 1 { k += 1 }
            }
            var out = [Int64](repeating: 7, count: rows)
            src.withUnsafeBufferPointer { s in
                bits.withUnsafeBufferPointer { b in
                    out.withUnsafeMutableBytes { o in
                        Gather.expandFixed(s.baseAddress ?? UnsafePointer(bitPattern: 8)!, valid, b.baseAddress!, rows, o)
                    }
                }
            }
            #expect(out == expected, "\(density), \(rows) rows, \(valid) valid")
        }
    }

    /// Masked reductions equal counting, summing and comparing the kept valid rows one by one: values one per row or
    /// compact (a sparse block's), with and without validity and flags (any byte, its low bit deciding), checked and
    /// wrapping, and a range decided on
    /// the values; row counts off a word's end.
    @Test(arguments: [false, true])
    func maskedReductionsAgreeWithTheRows(compact: Bool) {
        var rng = FixtureRandom(seed: compact ? 11 : 12)
        for rows in [1, 63, 64, 65, 1000, 4099] {
            for withValidity in compact ? [true] : [false, true] {
                for withFlags in [false, true] {
                    let valid = (0..<rows).map { _ in !withValidity || rng.next() % 3 == 0 }
                    // Flag bytes 0-3: their low bit decides, as Selection reads them.
                    let flags = (0..<rows).map { _ in withFlags ? UInt8(rng.next() & 3) : 1 }
                    let full = (0..<rows).map { _ in Int64(rng.next() % 2_000_001) - 1_000_000 }
                    var words = [UInt64](repeating: 0, count: (rows + 63) / 64)
                    for r in 0..<rows where valid[r] { words[r >> 6] |= 1 << UInt64(r & 63) }
                    let stored = compact ? (0..<rows).filter { valid[$0] }.map { full[$0] } : full
                    let kept = (0..<rows).filter { valid[$0] && flags[$0] & 1 == 1 }.map { full[$0] }
                    for checked in [false, true] {
                        let t = stored.withUnsafeBufferPointer { v in
                            words.withUnsafeBufferPointer { w in
                                flags.withUnsafeBufferPointer { f in
                                    MaskedReduce.reduce(v.baseAddress ?? UnsafePointer(bitPattern: 8)!, count: stored.count, rows: rows, validity: withValidity ? w.baseAddress : nil,
                                                        compact: compact, flags: withFlags ? f.baseAddress : nil, minMax: true, checked: checked)
                                }
                            }
                        }
                        let what = "\(rows) rows, validity \(withValidity), flags \(withFlags), checked \(checked)"
                        #expect(t.count == kept.count && t.sum == kept.reduce(0, +) && !t.overflow, "\(what)")
                        #expect(t.min == (kept.min() ?? .max) && t.max == (kept.max() ?? .min), "\(what)")
                    }
                    guard !withFlags else { continue }
                    let (lo, hi) = (Int64(-300_000), Int64(450_000))
                    let inRange = (0..<rows).filter { valid[$0] && full[$0] >= lo && full[$0] <= hi }.map { full[$0] }
                    for checked in [false, true] {
                        let t = stored.withUnsafeBufferPointer { v in
                            words.withUnsafeBufferPointer { w in
                                MaskedReduce.reduceInRange(v.baseAddress ?? UnsafePointer(bitPattern: 8)!, count: stored.count, rows: rows, validity: withValidity ? w.baseAddress : nil,
                                                           compact: compact, lo: lo, hi: hi, minMax: true, checked: checked)
                            }
                        }
                        #expect(t.count == inRange.count && t.sum == inRange.reduce(0, +) && t.min == (inRange.min() ?? .max)
                                && t.max == (inRange.max() ?? .min), "range, \(rows) rows, validity \(withValidity), checked \(checked)")
                    }
                }
            }
        }
        // A checked sum reports leaving 64 bits; the wrapping one is not asked to.
        let huge: [Int64] = [.max, 1]
        let t = huge.withUnsafeBufferPointer { MaskedReduce.reduce($0.baseAddress!, count: 2, rows: 2, validity: nil, compact: false, flags: nil, minMax: false, checked: true) }
        #expect(t.overflow && t.count == 2)
    }

    /// Depositing per-value flags over a validity bitmap gives each valid row the next flag and each NULL row 0, at
    /// every density (full words copied, empty ones zeroed), for row counts off a word's end with bits set past it.
    @Test func depositedFlagsFollowTheValidRows() {
        var rng = FixtureRandom(seed: 0xF1A6)
        for rows in [1, 63, 64, 65, 640, 1000, 4099] {
            for density in [0, 1, 9, 64] {
                var words = [UInt64](repeating: 0, count: (rows + 63) / 64 + 1)
                for r in 0..<rows where density == 64 || (density > 0 && rng.next() % UInt64(density) == 0) { words[r >> 6] |= 1 << UInt64(r & 63) }
                words[rows >> 6] |= ~0 << UInt64(rows & 63)
                let valid = (0..<rows).filter { words[$0 >> 6] >> UInt64($0 & 63) & 1 == 1 }
                let compact = valid.map { _ in UInt8(1 + rng.next() % 200) }
                var expected = [UInt8](repeating: 0, count: rows)
                for (k, r) in valid.enumerated() { expected[r] = compact[k] }
                var out = [UInt8](repeating: 0xEE, count: rows)
                compact.withUnsafeBufferPointer { c in
                    words.withUnsafeBufferPointer { w in
                        out.withUnsafeMutableBufferPointer { Gather.depositFlags(c.baseAddress ?? UnsafePointer(bitPattern: 1)!, validity: w.baseAddress!, rows: rows, into: $0.baseAddress!) }
                    }
                }
                #expect(out == expected, "\(rows) rows, density \(density)")
            }
        }
    }

    /// Selecting and counting flagged rows equal filtering the row numbers: dense and sparse flags (runs of eight clear
    /// bytes skipped), with and without validity, counts off a multiple of eight.
    @Test func selectionEqualsFilteringTheRows() {
        var rng = FixtureRandom(seed: 0x5E1)
        for n in [0, 1, 7, 8, 9, 64, 1000, 4099] {
            for density in [0, 2, 50, 1000] {
                let flags = (0..<n).map { _ in density > 0 && rng.next() % UInt64(density) == 0 ? UInt8(1) : 0 }
                var words = [UInt64](repeating: 0, count: (n + 63) / 64 + 1)
                for r in 0..<n where rng.next() % 4 != 0 { words[r >> 6] |= 1 << UInt64(r & 63) }
                for withValidity in [false, true] {
                    func kept(_ r: Int) -> Bool {
                        let valid = words[r >> 6] >> UInt64(r & 63) & 1 == 1
                        return flags[r] == 1 && (!withValidity || valid)
                    }
                    let expected: [Int32] = (0..<n).filter(kept).map { Int32($0) }
                    var out = [Int32](repeating: -1, count: n + 1)
                    let k = flags.withUnsafeBufferPointer { f in
                        words.withUnsafeBufferPointer { w in
                            out.withUnsafeMutableBufferPointer {
                                Selection.select(f.baseAddress ?? UnsafePointer(bitPattern: 1)!, withValidity ? w.baseAddress : nil, n, $0.baseAddress!)
                            }
                        }
                    }
                    let counted = flags.withUnsafeBufferPointer { f in
                        words.withUnsafeBufferPointer { Selection.count(f.baseAddress ?? UnsafePointer(bitPattern: 1)!, withValidity ? $0.baseAddress : nil, n) }
                    }
                    #expect(Array(out.prefix(k)) == expected && counted == expected.count, "\(n) rows, density \(density), validity \(withValidity)")
                }
            }
        }
    }

    /// The positions of a bitmap's set bits equal testing every row: empty, sparse, dense and full words, bits set past
    /// the last row in the last word (not reported), counts off a multiple of 64.
    @Test func setBitPositionsEqualTestingEveryRow() {
        var rng = FixtureRandom(seed: 0xB175)
        for n in [0, 1, 63, 64, 65, 1000, 4099] {
            for density in [0, 1, 3, 4] {
                var words = [UInt64](repeating: 0, count: (n + 63) / 64 + 1)
                for r in 0..<(words.count * 64) where density > 0 && rng.next() % 4 < UInt64(density) { words[r >> 6] |= 1 << UInt64(r & 63) }
                let expected = (0..<n).filter { words[$0 >> 6] >> UInt64($0 & 63) & 1 == 1 }.map(Int32.init)
                var out = [Int32](repeating: -1, count: n + 1)
                let k = words.withUnsafeBufferPointer { w in out.withUnsafeMutableBufferPointer { Selection.positions(of: w.baseAddress!, n, $0.baseAddress!) } }
                #expect(Array(out.prefix(k)) == expected, "\(n) rows, density \(density)")
            }
        }
    }

    /// Gathering and scattering bits (PEXT and PDEP where the build has them, loops elsewhere) equal their definition
    /// bit by bit, for empty, full and random masks.
    @Test func bitGatherAndScatterFollowTheirMasks() {
        var rng = FixtureRandom(seed: 0xB312)
        for round in 0..<2000 {
            let x = rng.next()
            let mask: UInt64 = round == 0 ? 0 : round == 1 ? ~0 : round % 3 == 0 ? rng.next() & rng.next() : rng.next()
            var gathered: UInt64 = 0, scattered: UInt64 = 0, k: UInt64 = 0
            for bit in 0..<64 where mask >> UInt64(bit) & 1 == 1 {
                gathered |= (x >> UInt64(bit) & 1) << k
                scattered |= (x >> k & 1) << UInt64(bit)
                k += 1
            }
            #expect(Bits.extract(x, mask) == gathered, "extract \(x) \(mask)")
            #expect(Bits.deposit(x, mask) == scattered, "deposit \(x) \(mask)")
        }
    }
}
