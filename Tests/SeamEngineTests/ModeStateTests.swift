import SeamColumnar
import SeamTestSupport
import Testing

@testable import SeamEngine

/// `mode` over texts takes several paths: counted in place while groups times texts fit, as pairs past that (a state
/// can switch in the middle of its rows), merged from workers in either form, from flat or dictionary batches. Each
/// must give what counting by hand gives: the most frequent text per group, ties to the least (or greatest) text.
@Suite struct ModeStateTests {
    static let words = ["web", "app", "pos", "email", "crm", "call", "", "ünï", "web2", "a", "b", "c"]

    struct Row { let group: Int32; let text: String? }

    static func rows(seed: UInt64, count: Int, groups: Int, texts: Int) -> [Row] {
        var rng = FixtureRandom(seed: seed)
        return (0..<count).map { _ in
            let g = Int32.random(in: 0..<Int32(groups), using: &rng)
            // A few texts per group are likelier than the rest, so groups have clear modes and some ties.
            let t = seed < 5 && Int.random(in: 0..<10, using: &rng) < 6 ? Int(g) % texts : Int.random(in: 0..<texts, using: &rng)
            return Row(group: g, text: Int.random(in: 0..<12, using: &rng) == 0 ? nil : words[t])
        }
    }

    static func expected(_ rows: [Row], groups: Int, greatest: Bool) -> [String?] {
        var counts = [[String: Int]](repeating: [:], count: groups)
        for r in rows { if let t = r.text { counts[Int(r.group)][t, default: 0] += 1 } }
        return counts.map { c in
            c.max { a, b in
                if a.value != b.value { return a.value < b.value }
                let less = Array(a.key.utf8).lexicographicallyPrecedes(Array(b.key.utf8))
                return greatest ? less : !less
            }?.key
        }
    }

    /// `rows` as a VARCHAR vector, flat or in dictionary form.
    static func vector(_ rows: ArraySlice<Row>, dictionary: Bool) -> ColumnVector {
        if !dictionary {
            var b = ColumnBuilder(.varchar, capacity: rows.count)
            for r in rows { if let t = r.text { b.append(string: t) } else { b.appendNull() } }
            return b.finish()
        }
        var entries = ColumnBuilder(.varchar, capacity: words.count)
        for w in words.reversed() { entries.append(string: w) }
        let codes = rows.map { r in UInt32(words.count - 1 - (r.text.flatMap { words.firstIndex(of: $0) } ?? 0)) }
        var bits = [UInt64](repeating: 0, count: (rows.count + 63) / 64)
        for (i, r) in rows.enumerated() where r.text != nil { bits[i / 64] |= 1 << UInt64(i % 64) }
        return ColumnVector(codes: Buffer(copying: codes), entries: entries.finish(), count: rows.count, validity: Buffer(copying: bits))
    }

    static func feed(_ state: ModeState, _ rows: ArraySlice<Row>, groups: Int, batch: Int, dictionary: Bool) throws {
        var start = rows.startIndex
        while start < rows.endIndex {
            let part = rows[start..<min(start + batch, rows.endIndex)]
            let gids = part.map(\.group)
            // The aggregate passes the groups seen so far; here every group may appear in any batch.
            try gids.withUnsafeBufferPointer { g in
                try state.update(vector(part, dictionary: dictionary), g.baseAddress!, nil, part.count, groups: groups)
            }
            start += batch
        }
    }

    static func texts(_ v: ColumnVector) -> [String?] {
        (0..<v.count).map { v.isNull($0) ? nil : String(decoding: v.stringBytes($0), as: UTF8.self) }
    }

    @Test(arguments: [(1 << 22, 1 << 22), (40, 1 << 22), (1 << 22, 40), (40, 40), (8, 8)])
    func textsInPlaceAsPairsAndMergedGiveTheCountedMode(cells: (Int, Int)) throws {
        // The last two have a few rows per group: ties for the most frequent text in most groups.
        for (seed, groups, distinct, count) in [(1, 1, 3, 3_000), (2, 7, 12, 3_000), (3, 30, 5, 3_000), (4, 30, 12, 3_000), (5, 30, 12, 2_100), (6, 3, 12, 2_000)] {
            let rows = Self.rows(seed: UInt64(seed), count: count, groups: groups, texts: distinct)
            for greatest in [false, true] {
                let want = Self.expected(rows, groups: groups, greatest: greatest)
                for dictionary in [false, true] {
                    // One state with every row, and two whose halves are merged (different texts first in each).
                    let one = ModeState(type: .varchar, greatestOnTies: greatest, denseCells: cells.0)
                    try Self.feed(one, rows[...], groups: groups, batch: 500, dictionary: dictionary)
                    #expect(Self.texts(try one.finish(groups: groups)) == want, "seed \(seed) cells \(cells) greatest \(greatest) dictionary \(dictionary)")
                    let a = ModeState(type: .varchar, greatestOnTies: greatest, denseCells: cells.0)
                    let b = ModeState(type: .varchar, greatestOnTies: greatest, denseCells: cells.1)
                    try Self.feed(a, rows[..<1_700], groups: groups, batch: 333, dictionary: dictionary)
                    try Self.feed(b, rows[1_700...].reversed()[...], groups: groups, batch: 256, dictionary: !dictionary)
                    try a.merge(b, (0..<Int32(groups)).map { $0 }, groups: groups)
                    #expect(Self.texts(try a.finish(groups: groups)) == want, "merged: seed \(seed) cells \(cells) greatest \(greatest)")
                }
            }
        }
    }
}
