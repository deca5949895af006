public import SeamColumnar
public import SeamSQL

/// A horizontal slice of rows flowing between operators: one vector per column, all `count` long.
/// Zero-column batches still carry a row count (`SELECT count(*)` over a scan that reads nothing).
public struct Batch: Sendable {
    public var columns: [ColumnVector]
    public var count: Int

    public init(columns: [ColumnVector], count: Int) {
        self.columns = columns
        self.count = count
    }

    public init(_ columns: [ColumnVector]) {
        self.columns = columns
        self.count = columns.first?.count ?? 0
    }

    /// Bytes held by the batch's vectors (memory accounting).
    var byteCount: Int { columns.reduce(0) { $0 + $1.heldByteCount } }
}

/// Builders of vectors for kernels: typed fills, constants, validity arithmetic.
enum Vectors {
    @inline(__always)
    static func pointer<T>(_ v: ColumnVector, _: T.Type) -> UnsafePointer<T> {
        v.values.base.assumingMemoryBound(to: T.self)
    }

    @inline(__always)
    static func validity(_ v: ColumnVector) -> UnsafePointer<UInt64>? {
        v.validity?.base.assumingMemoryBound(to: UInt64.self)
    }

    /// A fixed-width vector of `n` values written by `fill`.
    @inline(__always)
    static func make<T>(_ type: LogicalType, _ n: Int, validity: Buffer?, _ fill: (UnsafeMutablePointer<T>) throws -> Void) rethrows -> ColumnVector {
        let b = try Buffer(byteCount: n * MemoryLayout<T>.stride) { raw in try fill(raw.baseAddress!.assumingMemoryBound(to: T.self)) }
        return ColumnVector(type: type, count: n, values: b, validity: validity)
    }

    /// A vector of `n` copies of `value`.
    static func constant(_ value: Value, _ type: LogicalType, _ n: Int) -> ColumnVector {
        if value.isNull {
            let validity = Buffer(byteCount: Bitmap.wordCount(n) * 8) { _ in }
            if type == .varchar {
                return ColumnVector(type: .varchar, count: n, values: Buffer(byteCount: 0) { _ in }, offsets: Buffer(byteCount: (n + 1) * 4) { _ in }, validity: validity)
            }
            return ColumnVector(type: type, count: n, values: Buffer(byteCount: n * type.physical.width!) { _ in }, validity: validity)
        }
        switch value {
        case .boolean(let b): return make(type, n, validity: nil) { (p: UnsafeMutablePointer<UInt8>) in p.update(repeating: b ? 1 : 0, count: n) }
        case .integer(let v), .date(let v): return make(type, n, validity: nil) { (p: UnsafeMutablePointer<Int32>) in p.update(repeating: v, count: n) }
        case .bigint(let v), .decimal(let v), .timestamp(let v), .interval(let v):
            return make(type, n, validity: nil) { (p: UnsafeMutablePointer<Int64>) in p.update(repeating: v, count: n) }
        case .double(let v): return make(type, n, validity: nil) { (p: UnsafeMutablePointer<Double>) in p.update(repeating: v, count: n) }
        case .varchar where n > 1:
            // Dictionary form: one entry, every code 0 (zeros shared while they fit the placeholder memory).
            let entry = constant(value, .varchar, 1)
            let codes = n <= Executor.placeholderRows * 2
                ? Buffer(borrowing: Executor.placeholderBytes.base, byteCount: n * 4, owner: Executor.placeholderBytes)
                : Buffer(byteCount: n * 4) { _ in }
            return ColumnVector(codes: codes, entries: entry, count: n)
        case .varchar(let s):
            let bytes = Array(s.utf8)
            let values = Buffer(byteCount: bytes.count * n) { raw in
                for i in 0..<n { raw.baseAddress!.advanced(by: i * bytes.count).copyMemory(from: bytes, byteCount: bytes.count) }
            }
            let offsets = Buffer(byteCount: (n + 1) * 4) { raw in
                let o = raw.bindMemory(to: UInt32.self)
                for i in 0...n { o[i] = UInt32(i * bytes.count) }
            }
            return ColumnVector(type: .varchar, count: n, values: values, offsets: offsets)
        case .null: fatalError("handled above")
        }
    }

    /// The rows valid in every input (bitwise AND of validity bitmaps); `nil` when all are valid.
    static func validityAnd(_ vs: [ColumnVector], _ n: Int) -> Buffer? {
        let withNulls = vs.compactMap(\.validity)
        if withNulls.isEmpty { return nil }
        if withNulls.count == 1 { return withNulls[0] }
        let words = Bitmap.wordCount(n)
        return Buffer(byteCount: words * 8) { raw in
            let out = raw.bindMemory(to: UInt64.self)
            let first = withNulls[0].base.assumingMemoryBound(to: UInt64.self)
            for w in 0..<words { out[w] = first[w] }
            for b in withNulls.dropFirst() {
                let p = b.base.assumingMemoryBound(to: UInt64.self)
                for w in 0..<words { out[w] &= p[w] }
            }
        }
    }

    /// A validity bitmap from per-row flags (1 = valid); `nil` when every row is valid.
    static func validity(fromFlags flags: UnsafePointer<UInt8>, _ n: Int) -> Buffer? {
        var all = true
        for i in 0..<n where flags[i] == 0 {
            all = false
            break
        }
        if all { return nil }
        return Buffer(byteCount: Bitmap.wordCount(n) * 8) { raw in
            let out = raw.bindMemory(to: UInt64.self)
            for i in 0..<n { out[i >> 6] |= UInt64(flags[i] != 0 ? 1 : 0) << UInt64(i & 63) }
        }
    }

    @inline(__always)
    static func isValid(_ validity: UnsafePointer<UInt64>?, _ i: Int) -> Bool {
        guard let validity else { return true }
        return (validity[i >> 6] >> UInt64(i & 63)) & 1 != 0
    }

    /// A copy of `v` with a different validity.
    static func withValidity(_ v: ColumnVector, _ validity: Buffer?) -> ColumnVector {
        v.withValidity(validity)
    }

    /// Raw UTF-8 of row `i` of a VARCHAR vector, without bounds checks beyond the offsets.
    @inline(__always)
    static func string(_ v: ColumnVector, _ offsets: UnsafePointer<UInt32>, _ i: Int) -> UnsafeRawBufferPointer {
        let s = Int(offsets[i])
        return UnsafeRawBufferPointer(start: v.values.base + s, count: Int(offsets[i + 1]) - s)
    }

    static func offsets(_ v: ColumnVector) -> UnsafePointer<UInt32> {
        v.offsets!.base.assumingMemoryBound(to: UInt32.self)
    }
}

/// A runtime error of a query (overflow, conversion, memory limit), as DuckDB words them.
func runtimeError(_ message: String) -> SQLError { SQLError(.runtime, message) }
