import SeamColumnar
import SeamSQL

/// `string_agg(x, separator [ORDER BY k, …])`: each counted row's text in one byte arena (no String per row), with its
/// group, its arrival number and, under ORDER BY, its keys: integer-like and DOUBLE keys as order-preserving 64-bit
/// integers, text keys as bytes in an arena of their own (compared bytewise, DuckDB's default collation). At the end
/// the rows are sorted by (group, keys, arrival) and each group's texts joined. Without ORDER BY the texts keep their
/// arrival order, which across workers is no particular order (as in DuckDB). With DISTINCT the rows are ordered by
/// the text itself (the binder makes it the key), so a repeat follows its first and is left out.
final class StringAggState: AggregateState {
    /// One ORDER BY key's values, row by row.
    private struct KeyColumn {
        let descending: Bool
        let nullsFirst: Bool
        let isText: Bool
        var integers: [Int64] = []
        var isNull: [Bool] = []
        var starts: [Int] = [0]
        var bytes: [UInt8] = []
    }

    let separator: [UInt8]
    private var keys: [KeyColumn]
    private var groups: [Int32] = []
    private var starts: [Int] = [0]
    private var text: [UInt8] = []

    let distinct: Bool

    init(separator: String, order: [SortKey], distinct: Bool = false) {
        self.separator = Array(separator.utf8)
        self.distinct = distinct
        keys = order.map { KeyColumn(descending: $0.descending, nullsFirst: $0.nullsFirst, isText: $0.expr.type.physical == .bytes) }
    }

    var byteCount: Int { text.count + groups.count * 16 + keys.reduce(0) { $0 + $1.bytes.count + $1.isNull.count * 9 } }

    func update(_ arg: ColumnVector?, _ gids: UnsafePointer<Int32>, _ mask: UnsafePointer<UInt8>?, _ n: Int, groups count: Int) throws {
        try update(arg, keys: [], gids, mask, n)
    }

    func update(_ arg: ColumnVector?, keys columns: [ColumnVector], _ gids: UnsafePointer<Int32>, _ mask: UnsafePointer<UInt8>?, _ n: Int) throws {
        guard let arg else { return }
        let validity = Vectors.validity(arg)
        let strings = StringSpans(arg)
        let keySpans = columns.map { $0.type.physical == .bytes ? StringSpans($0) : nil }
        let keyValidity = columns.map { Vectors.validity($0) }
        for i in 0..<n where AggregateStates.counts(mask, validity, i) {
            groups.append(gids[i])
            text.append(contentsOf: strings[i])
            starts.append(text.count)
            for k in columns.indices {
                let isNull = !Vectors.isValid(keyValidity[k], i)
                keys[k].isNull.append(isNull)
                if let spans = keySpans[k] {
                    if !isNull { keys[k].bytes.append(contentsOf: spans[i]) }
                    keys[k].starts.append(keys[k].bytes.count)
                } else {
                    keys[k].integers.append(isNull ? 0 : Self.orderKey(columns[k], i))
                }
            }
        }
    }

    /// Row i of an integer-like or DOUBLE key as an integer that orders as the value does.
    private static func orderKey(_ v: ColumnVector, _ i: Int) -> Int64 {
        switch v.type.physical {
        case .double: return QuantileState.key(Vectors.pointer(v, Double.self)[i])
        case .int32: return Int64(Vectors.pointer(v, Int32.self)[i])
        case .uint8: return Int64(Vectors.pointer(v, UInt8.self)[i])
        default: return Vectors.pointer(v, Int64.self)[i]
        }
    }

    func merge(_ other: any AggregateState, _ map: [Int32], groups count: Int) throws {
        let o = other as! StringAggState
        let base = text.count
        groups += o.groups.map { map[Int($0)] }
        text += o.text
        starts += o.starts.dropFirst().map { $0 + base }
        for k in keys.indices {
            let keyBase = keys[k].bytes.count
            keys[k].integers += o.keys[k].integers
            keys[k].isNull += o.keys[k].isNull
            keys[k].bytes += o.keys[k].bytes
            keys[k].starts += o.keys[k].starts.dropFirst().map { $0 + keyBase }
        }
    }

    /// Row a's key k against row b's: negative, zero or positive, in the key's direction with its NULL placement.
    private func compare(_ key: KeyColumn, _ a: Int, _ b: Int) -> Int {
        if key.isNull[a] != key.isNull[b] { return key.isNull[a] == key.nullsFirst ? -1 : 1 }
        if key.isNull[a] { return 0 }
        let c: Int
        if key.isText {
            c = key.bytes.withUnsafeBytes { all in
                Self.compareBytes(
                    UnsafeRawBufferPointer(rebasing: all[key.starts[a]..<key.starts[a + 1]]),
                    UnsafeRawBufferPointer(rebasing: all[key.starts[b]..<key.starts[b + 1]]))
            }
        } else {
            c = key.integers[a] < key.integers[b] ? -1 : (key.integers[a] > key.integers[b] ? 1 : 0)
        }
        return key.descending ? -c : c
    }

    func finish(groups count: Int) throws -> ColumnVector {
        // Group, then the keys in turn, then arrival.
        let order = (0..<groups.count).sorted { a, b in
            if groups[a] != groups[b] { return groups[a] < groups[b] }
            for key in keys {
                let c = compare(key, a, b)
                if c != 0 { return c < 0 }
            }
            return a < b
        }
        var b = ColumnBuilder(.varchar, capacity: count)
        var joined: [UInt8] = []
        var k = 0
        for g in 0..<count {
            joined.removeAll(keepingCapacity: true)
            var any = false
            var last: Range<Int>? = nil
            while k < order.count && Int(groups[order[k]]) == g {
                let piece = starts[order[k]]..<starts[order[k] + 1]
                k += 1
                if distinct, let last, text[last] == text[piece] { continue }
                if any { joined += separator }
                joined += text[piece]
                any = true
                last = piece
            }
            if any { joined.withUnsafeBytes { b.append(utf8: $0) } } else { b.appendNull() }
        }
        return b.finish()
    }

    private static func compareBytes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
        let n = min(a.count, b.count)
        if n > 0, let pa = a.baseAddress, let pb = b.baseAddress {
            let c = memcmp(pa, pb, n)
            if c != 0 { return c < 0 ? -1 : 1 }
        }
        return a.count == b.count ? 0 : (a.count < b.count ? -1 : 1)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
