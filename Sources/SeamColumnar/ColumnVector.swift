import Synchronization

/// A column of `count` values of one logical type: the unit kernels and codecs work on.
///
/// Fixed-width types keep their values in `values` (`count × width` bytes). VARCHAR keeps UTF-8 bytes in
/// `values` and `count + 1` `UInt32` offsets in `offsets`. `validity` is a bitmap (bit set = not null);
/// `nil` means no nulls. Null slots hold an unspecified value of the physical type.
///
/// A VARCHAR vector may instead be in dictionary form (``dictionary``): a code per row into a small vector of
/// entries. Scans keep dictionary- and run-length-coded blocks so, and code that knows the form works once per
/// entry instead of once per row (predicates, grouping, gathers); `values` and `offsets` of such a vector are its
/// flat form, built on first use.
///
/// Vectors are immutable values; their buffers may borrow memory from a mapped segment.
public struct ColumnVector: Sendable {
    public let type: LogicalType
    public let count: Int
    private let storedValues: Buffer
    private let storedOffsets: Buffer?
    public let validity: Buffer?
    /// The dictionary form of a VARCHAR vector, when it is in that form.
    public let dictionary: DictionaryForm?

    public init(type: LogicalType, count: Int, values: Buffer, offsets: Buffer? = nil, validity: Buffer? = nil) {
        precondition(type == .varchar ? offsets != nil : offsets == nil, "offsets are for VARCHAR only")
        if let width = type.physical.width { precondition(values.byteCount >= count * width, "values buffer too small") }
        self.type = type
        self.count = count
        self.storedValues = values
        self.storedOffsets = offsets
        self.validity = validity
        self.dictionary = nil
    }

    /// A VARCHAR vector in dictionary form: row `i` is `entries[codes[i]]` (entries may repeat values).
    public init(codes: Buffer, entries: ColumnVector, count: Int, validity: Buffer? = nil) {
        precondition(entries.type == .varchar && entries.dictionary == nil, "dictionary entries are flat VARCHAR")
        precondition(codes.byteCount >= count * 4, "codes buffer too small")
        self.type = .varchar
        self.count = count
        self.storedValues = codes
        self.storedOffsets = nil
        self.validity = validity
        self.dictionary = DictionaryForm(codes: codes, entries: entries, count: count)
    }

    /// The values: fixed-width values, or a VARCHAR vector's UTF-8 bytes (flattened from the dictionary form).
    public var values: Buffer { dictionary?.flat.values ?? storedValues }
    /// A VARCHAR vector's `count + 1` offsets into `values` (flattened from the dictionary form); nil otherwise.
    public var offsets: Buffer? { dictionary?.flat.offsets ?? storedOffsets }

    /// The same rows with another validity (dictionary form kept).
    public func withValidity(_ validity: Buffer?) -> ColumnVector {
        if let d = dictionary { return ColumnVector(codes: d.codes, entries: d.entries, count: count, validity: validity) }
        return ColumnVector(type: type, count: count, values: storedValues, offsets: storedOffsets, validity: validity)
    }

    /// Number of null rows.
    public var nullCount: Int {
        guard let validity else { return 0 }
        return count - Bitmap.popCount(validity.typed(UInt64.self, count: Bitmap.wordCount(count)), rows: count)
    }

    @inlinable
    public func isNull(_ row: Int) -> Bool {
        guard let validity else { return false }
        return !Bitmap.isSet(validity.typed(UInt64.self, count: Bitmap.wordCount(count)), row)
    }

    /// Typed view of fixed-width values. Valid while this vector is alive.
    @inlinable
    public func withValues<T, R>(_: T.Type, _ body: (UnsafeBufferPointer<T>) throws -> R) rethrows -> R {
        try withExtendedLifetime(values) { try body(values.typed(T.self, count: count)) }
    }

    /// The UTF-8 bytes of row `row` of a VARCHAR vector.
    public func stringBytes(_ row: Int) -> UnsafeRawBufferPointer {
        if let d = dictionary { return d.entries.stringBytes(Int(d.code(row))) }
        let offs = offsets!.typed(UInt32.self, count: count + 1)
        let start = Int(offs[row])
        return UnsafeRawBufferPointer(rebasing: values.bytes[start..<Int(offs[row + 1])])
    }

    /// The value at `row` as a ``Value`` (slow path, for edges and tests).
    public func value(at row: Int) -> Value {
        precondition(row >= 0 && row < count, "row out of range")
        if isNull(row) { return .null }
        switch type {
        case .boolean: return .boolean(values.typed(UInt8.self, count: count)[row] != 0)
        case .integer: return .integer(values.typed(Int32.self, count: count)[row])
        case .date: return .date(values.typed(Int32.self, count: count)[row])
        case .bigint: return .bigint(values.typed(Int64.self, count: count)[row])
        case .decimal: return .decimal(values.typed(Int64.self, count: count)[row])
        case .timestamp: return .timestamp(values.typed(Int64.self, count: count)[row])
        case .interval: return .interval(values.typed(Int64.self, count: count)[row])
        case .double: return .double(values.typed(Double.self, count: count)[row])
        case .varchar: return .varchar(String(decoding: stringBytes(row), as: UTF8.self))
        }
    }

    /// All values, in order (slow path).
    public var allValues: [Value] { (0..<count).map(value(at:)) }

    /// Bytes this vector holds in memory as it is (codes and entries for the dictionary form).
    public var heldByteCount: Int {
        let v = validity?.byteCount ?? 0
        if let d = dictionary { return d.codes.byteCount + d.entries.heldByteCount + v }
        return storedValues.byteCount + (storedOffsets?.byteCount ?? 0) + v
    }

    /// Total bytes of this vector in memory (values, offsets, validity): its raw, uncompressed size.
    public var rawByteCount: Int {
        if let d = dictionary {
            // The text of the valid rows, from the entries' lengths (no flattening). A NULL row's code may name any
            // entry (a sparse block's NULL rows copy a neighbour's): its text does not count, as in plain form.
            let entryOffsets = d.entries.offsets!.typed(UInt32.self, count: d.entries.count + 1)
            let codes = d.codes.typed(UInt32.self, count: count)
            var text = 0
            if let words = validity?.typed(UInt64.self, count: Bitmap.wordCount(count)) {
                for i in 0..<count where Bitmap.isSet(words, i) { text &+= Int(entryOffsets[Int(codes[i]) + 1] &- entryOffsets[Int(codes[i])]) }
            } else {
                for i in 0..<count { text &+= Int(entryOffsets[Int(codes[i]) + 1] &- entryOffsets[Int(codes[i])]) }
            }
            return text + (count + 1) * 4 + (validity == nil ? 0 : Bitmap.wordCount(count) * 8)
        }
        let valueBytes = type == .varchar ? Int(offsets!.typed(UInt32.self, count: count + 1)[count]) : count * type.physical.width!
        return valueBytes + (type == .varchar ? (count + 1) * 4 : 0) + (validity == nil ? 0 : Bitmap.wordCount(count) * 8)
    }
}

extension ColumnVector {
    /// `f` of each row's text, in row order, for a VARCHAR vector; in dictionary form `f` runs once per entry and rows
    /// take their entry's result. Null rows get `f` of whatever bytes they hold: callers that care check `isNull`.
    /// Inlinable so callers get it specialized: unspecialized, each row's copy went through value witnesses.
    @inlinable
    public func mapText<T>(_ f: (UnsafeRawBufferPointer) -> T) -> [T] {
        if let d = dictionary {
            let entries = StringSpans(d.entries)
            let perEntry = (0..<entries.count).map { f(entries[$0]) }
            let codes = d.codePointer
            return withExtendedLifetime(d) { (0..<count).map { perEntry[Int(codes[$0])] } }
        }
        let strings = StringSpans(self)
        return (0..<count).map { f(strings[$0]) }
    }
}

/// The rows of a VARCHAR vector as byte spans, with its buffers taken once: for loops over every row, where
/// ``ColumnVector/stringBytes(_:)`` would retain and release the buffers on each call.
public struct StringSpans {
    // Usable from other modules' inlined code: these loops run per row (zone maps, run starts, JSON keys).
    @usableFromInline let values: Buffer
    @usableFromInline let offsets: Buffer
    @usableFromInline let offs: UnsafePointer<UInt32>
    /// `values.base`, read once: reaching through the buffer per row costs a retain and release.
    @usableFromInline let base: UnsafeRawPointer
    public let count: Int

    public init(_ v: ColumnVector) {
        precondition(v.type == .varchar, "StringSpans over a \(v.type) vector")
        values = v.values
        offsets = v.offsets!
        offs = UnsafePointer(offsets.typed(UInt32.self, count: v.count + 1).baseAddress!)
        base = values.base
        count = v.count
    }

    @inlinable @inline(__always)
    public subscript(_ row: Int) -> UnsafeRawBufferPointer {
        let start = Int(offs[row])
        return UnsafeRawBufferPointer(start: base + start, count: Int(offs[row + 1]) - start)
    }

    /// Byte-wise order (shorter first on a common prefix), as `lexicographicallyPrecedes` says: eight bytes per step,
    /// inline (a memcmp call costs more than short strings take).
    @inlinable @inline(__always)
    public static func less(_ x: UnsafeRawBufferPointer, _ y: UnsafeRawBufferPointer) -> Bool {
        let n = Swift.min(x.count, y.count)
        var i = 0
        while i &+ 8 <= n {
            let a = x.loadUnaligned(fromByteOffset: i, as: UInt64.self).bigEndian
            let b = y.loadUnaligned(fromByteOffset: i, as: UInt64.self).bigEndian
            if a != b { return a < b }
            i &+= 8
        }
        while i < n {
            if x[i] != y[i] { return x[i] < y[i] }
            i &+= 1
        }
        return x.count < y.count
    }

    /// Whether rows `a` and `b` hold the same bytes.
    @inlinable @inline(__always)
    public func equal(_ a: Int, _ b: Int) -> Bool { Self.equal(self[a], self[b]) }

    /// Whether `x` holds the same bytes as one of `constants` (a text `=`, `<>` or IN judged on a dictionary entry).
    @inlinable
    public static func equalsAny(_ x: UnsafeRawBufferPointer, _ constants: [[UInt8]]) -> Bool {
        constants.contains { c in c.count == x.count && c.withUnsafeBytes { equal(x, $0) } }
    }

    /// Whether two spans hold the same bytes: eight bytes per step, inline.
    @inlinable @inline(__always)
    public static func equal(_ x: UnsafeRawBufferPointer, _ y: UnsafeRawBufferPointer) -> Bool {
        guard x.count == y.count else { return false }
        var i = 0
        while i &+ 8 <= x.count {
            if x.loadUnaligned(fromByteOffset: i, as: UInt64.self) != y.loadUnaligned(fromByteOffset: i, as: UInt64.self) { return false }
            i &+= 8
        }
        while i < x.count {
            if x[i] != y[i] { return false }
            i &+= 1
        }
        return true
    }
}

/// The dictionary form of a VARCHAR vector: `count` codes (`UInt32`) into `entries`. The flat form is built once, on
/// first use, under a lock (vectors are shared between worker threads).
public final class DictionaryForm: Sendable {
    public let codes: Buffer
    public let entries: ColumnVector
    let count: Int
    private let flatForm = Mutex<(values: Buffer, offsets: Buffer)?>(nil)

    init(codes: Buffer, entries: ColumnVector, count: Int) {
        self.codes = codes
        self.entries = entries
        self.count = count
    }

    @inline(__always)
    func code(_ row: Int) -> UInt32 { codes.base.load(fromByteOffset: row &* 4, as: UInt32.self) }

    /// The codes as a typed pointer, valid while this form is alive.
    public var codePointer: UnsafePointer<UInt32> { codes.base.assumingMemoryBound(to: UInt32.self) }

    var flat: (values: Buffer, offsets: Buffer) {
        flatForm.withLock { cached in
            if let cached { return cached }
            // Codes index at most 2^16 dictionary entries or one block's runs, so they read as Int32 as they are.
            let f = StringGather.gather(entries, UnsafeBufferPointer(start: codes.base.assumingMemoryBound(to: Int32.self), count: count))
            cached = f
            return f
        }
    }
}

/// Gathers VARCHAR rows by index into a new flat vector's bytes and offsets: the one string gather (flattening the
/// dictionary form, `Gather.rows`).
public enum StringGather {
    public static func gather(_ source: ColumnVector, _ idx: UnsafeBufferPointer<Int32>) -> (values: Buffer, offsets: Buffer) {
        precondition(source.dictionary == nil, "gather from a flat vector")
        let n = idx.count
        let srcOff = source.offsets!.typed(UInt32.self, count: source.count + 1)
        var total = 0
        for i in 0..<n {
            let r = Int(idx[i])
            total += Int(srcOff[r + 1] &- srcOff[r])
        }
        let offs = Buffer(byteCount: (n + 1) * 4) { raw in
            let o = raw.bindMemory(to: UInt32.self)
            var acc: UInt32 = 0
            for i in 0..<n {
                o[i] = acc
                let r = Int(idx[i])
                acc &+= srcOff[r + 1] &- srcOff[r]
            }
            o[n] = acc
        }
        // Strings of up to 16 bytes (most CDP values: channels, types, SKUs, categories) move as one unaligned
        // 16-byte load and store instead of a memmove call each; the store may run past the string into the
        // next one's place, which that copy then overwrites, and into 16 bytes of slack after the last.
        let src = source.values.base, srcLimit = source.values.byteCount
        let bytes = Buffer(byteCount: total + 16) { raw in
            let dst = raw.baseAddress!
            var at = 0
            for i in 0..<n {
                let r = Int(idx[i])
                let s = Int(srcOff[r]), len = Int(srcOff[r + 1] &- srcOff[r])
                if len <= 16 && s + 16 <= srcLimit {
                    dst.storeBytes(of: src.loadUnaligned(fromByteOffset: s, as: SIMD16<UInt8>.self), toByteOffset: at, as: SIMD16<UInt8>.self)
                } else if len > 0 {
                    (dst + at).copyMemory(from: src + s, byteCount: len)
                }
                at += len
            }
        }
        return (bytes, offs)
    }
}
