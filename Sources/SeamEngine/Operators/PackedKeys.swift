import SeamColumnar
import SeamKernels

/// Group ids for GROUP BY on two to four key columns that are each text in dictionary form or integer-like (a day and
/// a channel, a country and a tier): each column's values get small ids of their own — text once per dictionary entry,
/// integers through a table of the values seen — and a row's ids packed into one 64-bit word find its group in a table
/// of words. Serializing and hashing every row's key bytes costs several times that.
///
/// Per worker, like ``DenseKeys``: while active it owns the groups and the hash table stays empty; it stops for good
/// (the groups move into the ``KeyTable`` in id order, in ``EncodedKeys``' serialized form, so ids stay) when a key
/// column has another shape or a column has more distinct values than its share of the 64 bits.
final class PackedKeys {
    /// One key column's values and their ids.
    private enum Column {
        /// Text: each distinct value's one-column serialized key (``EncodedKeys`` form) in id order.
        case text(KeyTable)
        /// Integer-like: value → id, and each id's value; `width` is the physical width (1, 4 or 8 bytes).
        case integer(ValueIDs, width: Int)
    }

    private(set) var active: Bool
    private var columns: [Column] = []
    private var nullIDs: [Int32] = []
    private let bitsPerColumn: Int
    /// Packed column ids → group id.
    private var groups = ValueIDs()

    init(keyTypes: [LogicalType]) {
        let usable = (2...4).contains(keyTypes.count) && keyTypes.allSatisfy { t in
            t == .varchar || t.physical == .int32 || t.physical == .int64 || t.physical == .uint8
        }
        active = usable
        bitsPerColumn = usable ? 64 / keyTypes.count : 0
        if usable {
            columns = keyTypes.map { t in t == .varchar ? .text(KeyTable()) : .integer(ValueIDs(), width: t.physical.width!) }
            nullIDs = keyTypes.map { _ in -1 }
        }
    }

    var count: Int { groups.count }

    /// Fills `gids` for the key columns of one batch; false (nothing changed) when they do not fit this path.
    func groupIDs(_ keys: [ColumnVector], _ n: Int, _ gids: inout [Int32]) -> Bool {
        guard active, keys.count == columns.count else { return false }
        for (k, v) in keys.enumerated() {
            if case .text = columns[k], v.dictionary == nil { return false }
        }
        let limit = Int64(1) << Int64(bitsPerColumn)
        var packed = [UInt64](repeating: 0, count: n)
        for (k, v) in keys.enumerated() {
            let shift = UInt64(k * bitsPerColumn)
            let validity = Vectors.validity(v)
            let ok: Bool = packed.withUnsafeMutableBufferPointer { out in
                switch columns[k] {
                case .text(var table):
                    columns[k] = .text(KeyTable())
                    defer { columns[k] = .text(table) }
                    let d = v.dictionary!
                    let ids = entryIDs(d, validity, n, &table)
                    let nullID = nullIDs[k] >= 0 || validity == nil ? nullIDs[k] : EncodedKeys.insertNull(into: &table)
                    nullIDs[k] = nullID
                    if Int64(table.count) > limit { return false }
                    let codes = d.codePointer
                    ids.withUnsafeBufferPointer { ids in
                        for i in 0..<n {
                            let id = Vectors.isValid(validity, i) ? ids[Int(codes[i])] : nullID
                            out[i] |= UInt64(UInt32(bitPattern: id)) << shift
                        }
                    }
                    return true
                case .integer(var values, let width):
                    columns[k] = .integer(ValueIDs(), width: width)
                    defer { columns[k] = .integer(values, width: width) }
                    func run<T: FixedWidthInteger>(_: T.Type) {
                        let p = Vectors.pointer(v, T.self)
                        for i in 0..<n {
                            let id: Int32
                            if Vectors.isValid(validity, i) {
                                id = values.id(UInt64(bitPattern: Int64(p[i])))
                            } else {
                                if nullIDs[k] < 0 { nullIDs[k] = values.newID() }
                                id = nullIDs[k]
                            }
                            out[i] |= UInt64(UInt32(bitPattern: id)) << shift
                        }
                    }
                    switch width {
                    case 1: run(UInt8.self)
                    case 4: run(Int32.self)
                    default: run(Int64.self)
                    }
                    return Int64(values.count) <= limit
                }
            }
            // Ids past the column's share would collide with the next column's bits: leave this path. Groups already
            // made stay valid (their ids were in range); the caller stops and redoes this batch on the hash table.
            if !ok { return false }
        }
        var table = groups
        groups = ValueIDs()
        packed.withUnsafeBufferPointer { packed in
            gids.withUnsafeMutableBufferPointer { g in
                for i in 0..<n { g[i] = table.id(packed[i]) }
            }
        }
        groups = table
        return true
    }

    /// The dictionary's entries' ids (for the entries some valid row uses; -1 for the rest).
    private func entryIDs(_ d: DictionaryForm, _ validity: UnsafePointer<UInt64>?, _ n: Int, _ table: inout KeyTable) -> [Int32] {
        let codes = d.codePointer
        var ids = [Int32](repeating: -1, count: d.entries.count)
        for i in 0..<n where Vectors.isValid(validity, i) { ids[Int(codes[i])] = 0 }
        let enc = EncodedKeys([d.entries], d.entries.count)
        enc.bytes.withUnsafeBytes { all in
            for j in 0..<d.entries.count where ids[j] == 0 {
                ids[j] = table.findOrInsert(UnsafeRawBufferPointer(rebasing: all[enc.starts[j]..<enc.starts[j + 1]]), enc.hashes[j])
            }
        }
        return ids
    }

    /// Takes `other`'s groups (another worker's, on this path too): each column id of `other` is mapped to this
    /// one's (integers by value, text by its serialized key), its packed words repacked. The map from `other`'s group
    /// ids to this one's, or nil when some column outgrows its share of the 64 bits (then both leave this path; ids
    /// this call added to the columns name no group and are harmless).
    func absorb(_ other: PackedKeys) -> [Int32]? {
        guard active, other.active, other.columns.count == columns.count else { return nil }
        let limit = Int64(1) << Int64(bitsPerColumn)
        var idMaps: [[Int32]] = []
        for k in columns.indices {
            var map: [Int32]
            switch (columns[k], other.columns[k]) {
            case (.integer(var values, let width), .integer(let theirs, _)):
                map = (0..<theirs.count).map { id in
                    if Int32(id) == other.nullIDs[k] {
                        if nullIDs[k] < 0 { nullIDs[k] = values.newID() }
                        return nullIDs[k]
                    }
                    return values.id(theirs.value(id))
                }
                columns[k] = .integer(values, width: width)
                if Int64(values.count) > limit { return nil }
            case (.text(var table), .text(let theirs)):
                map = (0..<theirs.count).map { id in
                    let key = theirs.key(id)
                    return key.withUnsafeBytes { table.findOrInsert($0, Hash64.hash($0)) }
                }
                if other.nullIDs[k] >= 0 { nullIDs[k] = map[Int(other.nullIDs[k])] }
                columns[k] = .text(table)
                if Int64(table.count) > limit { return nil }
            default:
                return nil
            }
            idMaps.append(map)
        }
        let mask = UInt64(1) << UInt64(bitsPerColumn) &- 1
        var table = groups
        groups = ValueIDs()
        defer { groups = table }
        return (0..<other.groups.count).map { g in
            let word = other.groups.value(g)
            var packed: UInt64 = 0
            for k in idMaps.indices {
                let shift = UInt64(k * bitsPerColumn)
                let id = idMaps[k][Int((word >> shift) & mask)]
                packed |= UInt64(UInt32(bitPattern: id)) << shift
            }
            return table.id(packed)
        }
    }

    /// The key columns of the groups, in group id order (what ``EncodedKeys/decode`` gives after ``stop(into:)``,
    /// without serializing every group's key first).
    func keyColumns(_ types: [LogicalType]) -> [ColumnVector] {
        let mask = UInt64(1) << UInt64(bitsPerColumn) &- 1
        return columns.enumerated().map { k, column in
            let shift = UInt64(k * bitsPerColumn)
            switch column {
            case .integer(let values, _):
                var b = ColumnBuilder(types[k], capacity: groups.count)
                for g in 0..<groups.count {
                    let id = Int32(truncatingIfNeeded: (groups.value(g) >> shift) & mask)
                    if id == nullIDs[k] {
                        b.appendNull()
                        continue
                    }
                    let v = Int64(bitPattern: values.value(Int(id)))
                    switch types[k].physical {
                    case .uint8: b.append(bool: v != 0)
                    case .int32: b.append(int32: Int32(truncatingIfNeeded: v))
                    default: b.append(int64: v)
                    }
                }
                return b.finish()
            case .text(let table):
                // The column's distinct texts, decoded once, then picked per group.
                let entries = EncodedKeys.decode(table.arena, table.starts, [.varchar])[0]
                let ids = (0..<groups.count).map { g in Int32(truncatingIfNeeded: (groups.value(g) >> shift) & mask) }
                return Gather.rows(entries, ids)
            }
        }
    }

    /// Moves the groups into `table` in id order, in ``EncodedKeys``' serialized form, and leaves this path.
    func stop(into table: inout KeyTable) {
        guard active else { return }
        precondition(table.count == 0, "the packed path owns every group while active")
        active = false
        let mask = UInt64(1) << UInt64(bitsPerColumn) &- 1
        // Each column's serialized key per id.
        let pieces: [[[UInt8]]] = columns.enumerated().map { k, c in
            switch c {
            case .text(let t):
                return (0..<t.count).map { Array(t.key($0)) }
            case .integer(let values, let width):
                return (0..<values.count).map { id -> [UInt8] in
                    if Int32(id) == nullIDs[k] { return [0] }
                    var bytes: [UInt8] = [1]
                    withUnsafeBytes(of: values.value(id).littleEndian) { bytes.append(contentsOf: $0.prefix(width)) }
                    return bytes
                }
            }
        }
        var key: [UInt8] = []
        for g in 0..<groups.count {
            let word = groups.value(g)
            key.removeAll(keepingCapacity: true)
            for k in 0..<columns.count {
                key.append(contentsOf: pieces[k][Int((word >> UInt64(k * bitsPerColumn)) & mask)])
            }
            key.withUnsafeBytes { _ = table.findOrInsert($0, Hash64.hash($0)) }
        }
        columns = []
        groups = ValueIDs()
    }
}

/// 64-bit values → dense ids 0, 1, 2, … in order of first appearance (open addressing, linear probing).
struct ValueIDs {
    private var slotValues = [UInt64](repeating: 0, count: 64)
    private var slotIDs = [Int32](repeating: -1, count: 64)
    private var mask = 63
    /// Id → value (the id handed out by `newID` holds 0).
    private var values: [UInt64] = []
    /// The id `newID` handed out, which no value maps to; -1 before.
    private var valueless: Int32 = -1

    var count: Int { values.count }

    func value(_ id: Int) -> UInt64 { values[id] }

    /// An id with no value behind it (a NULL key's); at most one.
    mutating func newID() -> Int32 {
        precondition(valueless < 0, "one valueless id per table")
        values.append(0)
        valueless = Int32(values.count - 1)
        return valueless
    }

    /// The id of `v`, handing out the next one when it is new.
    @inline(__always)
    mutating func id(_ v: UInt64) -> Int32 {
        var s = Int(truncatingIfNeeded: (v &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
        while true {
            let id = slotIDs[s]
            if id < 0 { break }
            if slotValues[s] == v { return id }
            s = (s + 1) & mask
        }
        let id = Int32(values.count)
        values.append(v)
        slotValues[s] = v
        slotIDs[s] = id
        if values.count * 2 > mask + 1 { grow() }
        return id
    }

    private mutating func grow() {
        let capacity = (mask + 1) * 2
        slotValues = [UInt64](repeating: 0, count: capacity)
        slotIDs = [Int32](repeating: -1, count: capacity)
        mask = capacity - 1
        for (id, v) in values.enumerated() where Int32(id) != valueless {
            var s = Int(truncatingIfNeeded: (v &* 0x9E37_79B9_7F4A_7C15) >> 32) & mask
            while slotIDs[s] >= 0 { s = (s + 1) & mask }
            slotValues[s] = v
            slotIDs[s] = Int32(id)
        }
    }
}
