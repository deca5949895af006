import SeamColumnar
import SeamSQL

/// `string_agg(x, separator [ORDER BY k, …])`: each counted row's text in one byte arena (no String per row), with its
/// group and, under ORDER BY, its keys, row-major: integer-like and DOUBLE keys as order-preserving 64-bit integers,
/// text keys as a range of a second arena (compared bytewise, DuckDB's default collation). At the end the rows are
/// bucketed by group in arrival order (a count and a scatter), each group's rows sorted by its keys (arrival breaking
/// ties), and the texts joined. Without ORDER BY the texts keep their arrival order, which across workers is no
/// particular order (as in DuckDB). With DISTINCT the rows are ordered by the text itself (the binder makes it the
/// key), so a repeat follows its first and is left out.
final class StringAggState: AggregateState {
    /// How one ORDER BY key sorts (plain values: no reference counting in the comparison).
    private struct KeyOrder {
        let descending: Bool
        let nullsFirst: Bool
        let isText: Bool
    }

    let separator: [UInt8]
    let distinct: Bool
    private let order: [KeyOrder]
    private var groups: [Int32] = []
    private var starts: [Int] = [0]
    private var text: [UInt8] = []
    /// Per row, per key: the value's order-preserving integer, or for a text key the start of its bytes in `keyText`.
    private var keys: [Int64] = []
    /// Per row, per key: the end of a text key's bytes (0 for other keys).
    private var keyEnds: [Int64] = []
    private var keyNull: [Bool] = []
    private var keyText: [UInt8] = []

    init(separator: String, order: [SortKey], distinct: Bool = false) {
        self.separator = Array(separator.utf8)
        self.distinct = distinct
        self.order = order.map { KeyOrder(descending: $0.descending, nullsFirst: $0.nullsFirst, isText: $0.expr.type.physical == .bytes) }
    }

    var byteCount: Int { text.count + keyText.count + groups.count * 12 + keys.count * 17 }

    func update(_ arg: ColumnVector?, _ gids: UnsafePointer<Int32>, _ mask: UnsafePointer<UInt8>?, _ n: Int, groups count: Int) throws {
        try update(arg, keys: [], gids, mask, n)
    }

    func update(_ arg: ColumnVector?, keys columns: [ColumnVector], _ gids: UnsafePointer<Int32>, _ mask: UnsafePointer<UInt8>?, _ n: Int) throws {
        guard let arg else { return }
        let validity = Vectors.validity(arg)
        let strings = StringSpans(arg)
        let keySpans = columns.map { $0.type.physical == .bytes ? StringSpans($0) : nil }
        let keyValidity = columns.map { Vectors.validity($0) }
        // The arrays move into locals for the loop: appending to a class's properties row by row paid an exclusivity
        // check and a retain per access.
        var groups = self.groups, starts = self.starts, text = self.text
        var keys = self.keys, keyEnds = self.keyEnds, keyNull = self.keyNull, keyText = self.keyText
        (self.groups, self.starts, self.text, self.keys, self.keyEnds, self.keyNull, self.keyText) = ([], [], [], [], [], [], [])
        defer { (self.groups, self.starts, self.text, self.keys, self.keyEnds, self.keyNull, self.keyText) = (groups, starts, text, keys, keyEnds, keyNull, keyText) }
        for i in 0..<n where AggregateStates.counts(mask, validity, i) {
            groups.append(gids[i])
            text.append(contentsOf: strings[i])
            starts.append(text.count)
            for k in columns.indices {
                let isNull = !Vectors.isValid(keyValidity[k], i)
                keyNull.append(isNull)
                if let spans = keySpans[k] {
                    keys.append(Int64(keyText.count))
                    if !isNull { keyText.append(contentsOf: spans[i]) }
                    keyEnds.append(Int64(keyText.count))
                } else {
                    keys.append(isNull ? 0 : Self.orderKey(columns[k], i))
                    keyEnds.append(0)
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
        let base = text.count, keyBase = Int64(keyText.count), width = order.count
        groups += o.groups.map { map[Int($0)] }
        text += o.text
        starts += o.starts.dropFirst().map { $0 + base }
        keyNull += o.keyNull
        keyText += o.keyText
        // Text keys' ranges move by the arena's length so far.
        let moved = o.keys.indices.map { j in order[j % width].isText ? o.keys[j] + keyBase : o.keys[j] }
        keys += moved
        keyEnds += o.keyEnds.indices.map { j in order[j % width].isText ? o.keyEnds[j] + keyBase : 0 }
    }

    func finish(groups count: Int) throws -> ColumnVector {
        let groups = self.groups, starts = self.starts, text = self.text, keyNull = self.keyNull, keyText = self.keyText
        let keys = self.keys, keyEnds = self.keyEnds
        // Rows bucketed by group, in arrival order.
        var first = [Int](repeating: 0, count: count + 1)
        for g in groups { first[Int(g) + 1] += 1 }
        for g in 0..<count { first[g + 1] += first[g] }
        var rows = [Int](repeating: 0, count: groups.count)
        var next = first
        for (row, g) in groups.enumerated() {
            rows[next[Int(g)]] = row
            next[Int(g)] += 1
        }
        let width = order.count
        if width > 0 {
            keys.withUnsafeBufferPointer { keys in
                keyEnds.withUnsafeBufferPointer { ends in
                    keyNull.withUnsafeBufferPointer { nulls in
                        keyText.withUnsafeBytes { arena in
                            order.withUnsafeBufferPointer { order in
                                func before(_ a: Int, _ b: Int) -> Bool {
                                    for k in 0..<width {
                                        let x = a &* width &+ k, y = b &* width &+ k
                                        if nulls[x] != nulls[y] { return nulls[x] == order[k].nullsFirst }
                                        if nulls[x] { continue }
                                        let c: Int
                                        if order[k].isText {
                                            c = Compare.compareBytes(
                                                UnsafeRawBufferPointer(rebasing: arena[Int(keys[x])..<Int(ends[x])]),
                                                UnsafeRawBufferPointer(rebasing: arena[Int(keys[y])..<Int(ends[y])]))
                                        } else {
                                            c = keys[x] < keys[y] ? -1 : (keys[x] > keys[y] ? 1 : 0)
                                        }
                                        if c != 0 { return order[k].descending ? c > 0 : c < 0 }
                                    }
                                    return a < b
                                }
                                for g in 0..<count where first[g + 1] - first[g] > 1 { rows[first[g]..<first[g + 1]].sort(by: before) }
                            }
                        }
                    }
                }
            }
        }
        var b = ColumnBuilder(.varchar, capacity: count)
        var joined: [UInt8] = []
        text.withUnsafeBufferPointer { text in
            starts.withUnsafeBufferPointer { starts in
                rows.withUnsafeBufferPointer { rows in
                    for g in 0..<count {
                        joined.removeAll(keepingCapacity: true)
                        var last: Range<Int>? = nil
                        for r in first[g]..<first[g + 1] {
                            let piece = starts[rows[r]]..<starts[rows[r] + 1]
                            let bytes = UnsafeBufferPointer(rebasing: text[piece])
                            if distinct, let last, UnsafeBufferPointer(rebasing: text[last]).elementsEqual(bytes) { continue }
                            if last != nil { joined.append(contentsOf: separator) }
                            joined.append(contentsOf: bytes)
                            last = piece
                        }
                        if last != nil { joined.withUnsafeBytes { b.append(utf8: $0) } } else { b.appendNull() }
                    }
                }
            }
        }
        return b.finish()
    }
}
