import SeamColumnar
import SeamKernels
import SeamSQL

/// Comparison of vectors (same type on both sides, as the binder guarantees); results are BOOLEAN vectors
/// that are NULL where either input is.
enum Compare {
    static func kernelOp(_ op: ComparisonOperator) -> CompareKernel.Op {
        switch op {
        case .equal: return .equal
        case .notEqual: return .notEqual
        case .less: return .less
        case .lessEqual: return .lessEqual
        case .greater: return .greater
        case .greaterEqual: return .greaterEqual
        }
    }

    /// `v op c` through the kernels, or `nil` when `c` does not fit `v`'s type.
    static func withConstant(_ op: ComparisonOperator, _ v: ColumnVector, _ c: Value) -> ColumnVector? {
        let n = v.count
        let k = kernelOp(op)
        switch (v.type.physical, c) {
        case (.int32, .integer(let x)), (.int32, .date(let x)):
            let p = Vectors.pointer(v, Int32.self)
            return Vectors.make(.boolean, n, validity: v.validity) { (o: UnsafeMutablePointer<UInt8>) in CompareKernel.compare(p, n, k, x, o) }
        case (.int64, .bigint(let x)), (.int64, .decimal(let x)), (.int64, .timestamp(let x)):
            let p = Vectors.pointer(v, Int64.self)
            return Vectors.make(.boolean, n, validity: v.validity) { (o: UnsafeMutablePointer<UInt8>) in CompareKernel.compare(p, n, k, x, o) }
        case (.double, .double(let x)):
            let p = Vectors.pointer(v, Double.self)
            return Vectors.make(.boolean, n, validity: v.validity) { (o: UnsafeMutablePointer<UInt8>) in CompareKernel.compare(p, n, k, x, o) }
        case (.uint8, .boolean(let x)):
            let p = Vectors.pointer(v, UInt8.self)
            return Vectors.make(.boolean, n, validity: v.validity) { (o: UnsafeMutablePointer<UInt8>) in CompareKernel.compare(p, n, k, x ? 1 : 0, o) }
        case (.bytes, .varchar(let s)):
            var needle = Array(s.utf8)
            let strings = StringSpans(v)
            return needle.withUnsafeMutableBytes { nb in
                let needleBytes = UnsafeRawBufferPointer(nb)
                return Vectors.make(.boolean, n, validity: v.validity) { (o: UnsafeMutablePointer<UInt8>) in
                    if op == .equal || op == .notEqual {
                        let want: UInt8 = op == .equal ? 1 : 0
                        for i in 0..<n {
                            let x = strings[i]
                            o[i] = (x.count == needleBytes.count && bytesEqual(x, needleBytes)) ? want : want ^ 1
                        }
                    } else {
                        for i in 0..<n { o[i] = holds(op, compareBytes(strings[i], needleBytes)) ? 1 : 0 }
                    }
                }
            }
        default:
            return nil
        }
    }

    @inline(__always)
    static func holds(_ op: ComparisonOperator, _ c: Int) -> Bool {
        switch op {
        case .equal: return c == 0
        case .notEqual: return c != 0
        case .less: return c < 0
        case .lessEqual: return c <= 0
        case .greater: return c > 0
        case .greaterEqual: return c >= 0
        }
    }

    @inline(__always)
    static func bytesEqual(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        a.count == b.count && (a.count == 0 || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0)
    }

    /// Byte-wise order (UTF-8 byte order is code-point order, as DuckDB compares strings).
    @inline(__always)
    static func compareBytes(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
        let m = min(a.count, b.count)
        if m > 0 {
            let c = memcmp(a.baseAddress!, b.baseAddress!, m)
            if c != 0 { return Int(c) }
        }
        return a.count - b.count
    }

    static func vectors(_ op: ComparisonOperator, _ a: ColumnVector, _ b: ColumnVector, _ n: Int) throws -> ColumnVector {
        let validity = Vectors.validityAnd([a, b], n)
        let k = kernelOp(op)
        func fixed<T: Comparable>(_: T.Type) -> ColumnVector {
            let pa = Vectors.pointer(a, T.self)
            let pb = Vectors.pointer(b, T.self)
            return Vectors.make(.boolean, n, validity: validity) { (o: UnsafeMutablePointer<UInt8>) in CompareKernel.compare(pa, pb, n, k, o) }
        }
        guard a.type.physical == b.type.physical else {
            throw SQLError(.runtime, "internal: comparing \(a.type) with \(b.type)")
        }
        switch a.type.physical {
        case .uint8: return fixed(UInt8.self)
        case .int32: return fixed(Int32.self)
        case .int64: return fixed(Int64.self)
        case .double: return fixed(Double.self)
        case .bytes:
            let oa = StringSpans(a)
            let ob = StringSpans(b)
            return Vectors.make(.boolean, n, validity: validity) { (o: UnsafeMutablePointer<UInt8>) in
                for i in 0..<n { o[i] = holds(op, compareBytes(oa[i], ob[i])) ? 1 : 0 }
            }
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Three-valued AND/OR/NOT over BOOLEAN vectors.
enum Logic {
    static func and(_ vs: [ColumnVector], _ n: Int) throws -> ColumnVector {
        combine(vs, n, isAnd: true)
    }

    static func or(_ vs: [ColumnVector], _ n: Int) throws -> ColumnVector {
        combine(vs, n, isAnd: false)
    }

    private static func combine(_ vs: [ColumnVector], _ n: Int, isAnd: Bool) -> ColumnVector {
        if vs.count == 1 { return vs[0] }
        if vs.allSatisfy({ $0.validity == nil }) {
            let ps = vs.map { Vectors.pointer($0, UInt8.self) }
            return Vectors.make(.boolean, n, validity: nil) { (o: UnsafeMutablePointer<UInt8>) in
                o.update(from: ps[0], count: n)
                for p in ps.dropFirst() {
                    if isAnd { for i in 0..<n { o[i] &= p[i] } } else { for i in 0..<n { o[i] |= p[i] } }
                }
            }
        }
        // With NULLs: AND is false if any input is a valid false, else NULL if any is NULL, else true (OR dually).
        // Per row, branch-free: `decided` is a valid false (AND) or a valid true (OR) in some input, `allValid` that no
        // input is NULL.
        let ps = vs.map { Vectors.pointer($0, UInt8.self) }
        let vals = vs.map(Vectors.validity)
        let decidingValue: UInt8 = isAnd ? 0 : 1
        var validFlags = [UInt8](repeating: 0, count: n)
        let values = Vectors.make(.boolean, n, validity: nil) { (o: UnsafeMutablePointer<UInt8>) in
            ps.withUnsafeBufferPointer { ps in
                vals.withUnsafeBufferPointer { vals in
                    validFlags.withUnsafeMutableBufferPointer { validOut in
                        for i in 0..<n {
                            var decided: UInt8 = 0
                            var allValid: UInt8 = 1
                            for k in 0..<ps.count {
                                let valid: UInt8 = Vectors.isValid(vals[k], i) ? 1 : 0
                                let x: UInt8 = ps[k][i] != 0 ? 1 : 0
                                decided |= valid & (x == decidingValue ? 1 : 0)
                                allValid &= valid
                            }
                            // A decided row takes the deciding value; otherwise the identity (true for AND).
                            o[i] = decided != 0 ? decidingValue : 1 - decidingValue
                            validOut[i] = decided | allValid
                        }
                    }
                }
            }
        }
        let validity = validFlags.withUnsafeBufferPointer { Vectors.validity(fromFlags: $0.baseAddress!, n) }
        return Vectors.withValidity(values, validity)
    }
}

enum InList {
    static func evaluate(_ v: ColumnVector, _ values: [Value], listHasNull: Bool, negated: Bool) throws -> ColumnVector {
        let n = v.count
        var hit = [UInt8](repeating: 0, count: n)
        if values.count <= 8 || v.type == .varchar {
            if v.type == .varchar && values.count > 8 {
                // A hash table over the values' bytes, probed with each row's bytes in place.
                var table = KeyTable()
                for case .varchar(var s) in values {
                    s.withUTF8 { b in _ = table.findOrInsert(UnsafeRawBufferPointer(b), Hash64.hash(UnsafeRawBufferPointer(b))) }
                }
                let strings = StringSpans(v)
                for i in 0..<n {
                    let s = strings[i]
                    if table.find(s, Hash64.hash(s)) >= 0 { hit[i] = 1 }
                }
            } else {
                for c in values {
                    guard let eq = Compare.withConstant(.equal, v, c) else { continue }
                    let p = Vectors.pointer(eq, UInt8.self)
                    for i in 0..<n { hit[i] |= p[i] }
                }
            }
        } else {
            switch v.type.physical {
            case .int32, .int64, .uint8:
                var set = Set<Int64>()
                for c in values {
                    switch c {
                    case .integer(let x), .date(let x): set.insert(Int64(x))
                    case .bigint(let x), .decimal(let x), .timestamp(let x): set.insert(x)
                    case .boolean(let x): set.insert(x ? 1 : 0)
                    default: break
                    }
                }
                switch v.type.physical {
                case .int32:
                    let p = Vectors.pointer(v, Int32.self)
                    for i in 0..<n where set.contains(Int64(p[i])) { hit[i] = 1 }
                case .uint8:
                    let p = Vectors.pointer(v, UInt8.self)
                    for i in 0..<n where set.contains(Int64(p[i])) { hit[i] = 1 }
                default:
                    let p = Vectors.pointer(v, Int64.self)
                    for i in 0..<n where set.contains(p[i]) { hit[i] = 1 }
                }
            default:
                var set = Set<Double>()
                for case .double(let x) in values { set.insert(x) }
                let p = Vectors.pointer(v, Double.self)
                for i in 0..<n where set.contains(p[i]) { hit[i] = 1 }
            }
        }
        let val = Vectors.validity(v)
        var validFlags = [UInt8](repeating: 1, count: n)
        for i in 0..<n {
            if !Vectors.isValid(val, i) {
                validFlags[i] = 0
            } else if hit[i] == 0 && listHasNull {
                validFlags[i] = 0
            }
            if negated { hit[i] ^= 1 }
        }
        let validity = validFlags.withUnsafeBufferPointer { Vectors.validity(fromFlags: $0.baseAddress!, n) }
        return Vectors.make(.boolean, n, validity: validity) { (o: UnsafeMutablePointer<UInt8>) in
            hit.withUnsafeBufferPointer { o.update(from: $0.baseAddress!, count: n) }
        }
    }
}

/// `LIKE`/`ILIKE` with `%` and `_`, and an optional escape character, matched on Unicode scalars.
enum Like {
    static func evaluate(_ v: ColumnVector, pattern: String, caseInsensitive: Bool, negated: Bool, escape: Character? = nil) -> ColumnVector {
        let n = v.count
        let strings = StringSpans(v)
        if let escape { return escaped(strings, n, v.validity, pattern, escape, caseInsensitive, negated) }
        let pat = Array((caseInsensitive ? pattern.lowercased() : pattern).unicodeScalars)
        let hasUnderscore = pat.contains("_")
        let pieces = pattern.split(separator: "%", omittingEmptySubsequences: false)
        // Fast paths on raw bytes: 'abc', 'abc%', '%abc', '%abc%' (case-sensitive, no '_').
        if !caseInsensitive && !hasUnderscore && pieces.count <= 3 {
            let lead = pieces.first!.isEmpty
            let trail = pieces.last!.isEmpty
            let middle: [UInt8]? =
                pieces.count == 1 ? Array(pieces[0].utf8)
                : pieces.count == 2 ? Array((lead ? pieces[1] : pieces[0]).utf8)
                : (lead && trail ? Array(pieces[1].utf8) : nil)
            if let needle = middle {
                return Vectors.make(.boolean, n, validity: v.validity) { (o: UnsafeMutablePointer<UInt8>) in
                    needle.withUnsafeBytes { nb in
                        for i in 0..<n {
                            let s = strings[i]
                            var m: Bool
                            if pieces.count == 1 {
                                m = Compare.bytesEqual(s, nb)
                            } else if pieces.count == 2 && !lead {
                                m = s.count >= nb.count && (nb.isEmpty || memcmp(s.baseAddress!, nb.baseAddress!, nb.count) == 0)
                            } else if pieces.count == 2 {
                                m = s.count >= nb.count && (nb.isEmpty || memcmp(s.baseAddress! + (s.count - nb.count), nb.baseAddress!, nb.count) == 0)
                            } else {
                                m = contains(s, nb)
                            }
                            o[i] = m != negated ? 1 : 0
                        }
                    }
                }
            }
        }
        // General patterns: ASCII rows match byte by byte (ILIKE folds ASCII letters), without copying the row;
        // only rows with non-ASCII text are decoded, since `_` must match one character, not one byte.
        let bytePattern = Array((caseInsensitive ? pattern.lowercased() : pattern).utf8)
        let patternIsASCII = bytePattern.allSatisfy { $0 < 0x80 }
        return Vectors.make(.boolean, n, validity: v.validity) { (o: UnsafeMutablePointer<UInt8>) in
            for i in 0..<n {
                let row = strings[i]
                let m: Bool
                if patternIsASCII && !row.contains(where: { $0 >= 0x80 }) {
                    m = caseInsensitive
                        ? Wildcard.matches(row, bytePattern, anyRun: UInt8(ascii: "%"), anyOne: UInt8(ascii: "_")) { asciiLower($0) == $1 }
                        : Wildcard.matches(row, bytePattern, anyRun: UInt8(ascii: "%"), anyOne: UInt8(ascii: "_"), equal: ==)
                } else {
                    var s = String(decoding: row, as: UTF8.self)
                    if caseInsensitive { s = s.lowercased() }
                    m = matches(Array(s.unicodeScalars), pat)
                }
                o[i] = m != negated ? 1 : 0
            }
        }
    }

    @inline(__always)
    static func asciiLower(_ c: UInt8) -> UInt8 { (c &- 0x41) < 26 ? c | 0x20 : c }

    static func contains(_ s: UnsafeRawBufferPointer, _ needle: UnsafeRawBufferPointer) -> Bool {
        if needle.isEmpty { return true }
        if s.count < needle.count { return false }
        let first = needle[0]
        var i = 0
        let last = s.count - needle.count
        while i <= last {
            if s[i] == first && memcmp(s.baseAddress! + i, needle.baseAddress!, needle.count) == 0 { return true }
            i += 1
        }
        return false
    }

    /// With an escape character: the pattern becomes tokens (a scalar, or -1 for "any run", -2 for "any one"), so an
    /// escaped `%` or `_` is a plain character; rows match as scalars (ILIKE lower-cases both sides).
    private static func escaped(
        _ strings: StringSpans, _ n: Int, _ validity: Buffer?, _ pattern: String, _ escape: Character, _ caseInsensitive: Bool, _ negated: Bool
    ) -> ColumnVector {
        var tokens: [Int64] = []
        var pending = false
        for c in pattern {
            if !pending && c == escape {
                pending = true
                continue
            }
            if !pending && c == "%" {
                tokens.append(-1)
            } else if !pending && c == "_" {
                tokens.append(-2)
            } else {
                for u in (caseInsensitive ? String(c).lowercased() : String(c)).unicodeScalars { tokens.append(Int64(u.value)) }
            }
            pending = false
        }
        return Vectors.make(.boolean, n, validity: validity) { (o: UnsafeMutablePointer<UInt8>) in
            for i in 0..<n {
                let bytes = strings[i]
                let m: Bool
                if !bytes.contains(where: { $0 >= 0x80 }) {
                    // ASCII rows match byte by byte, in place (ILIKE folds ASCII letters; the tokens are lower-cased).
                    m = caseInsensitive
                        ? Wildcard.matches(bytes, tokens, anyRun: -1, anyOne: -2) { Int64(asciiLower($0)) == $1 }
                        : Wildcard.matches(bytes, tokens, anyRun: -1, anyOne: -2) { Int64($0) == $1 }
                } else {
                    var s = String(decoding: bytes, as: UTF8.self)
                    if caseInsensitive { s = s.lowercased() }
                    m = Wildcard.matches(s.unicodeScalars.map { Int64($0.value) }, tokens, anyRun: -1, anyOne: -2)
                }
                o[i] = m != negated ? 1 : 0
            }
        }
    }

    static func matches(_ s: [Unicode.Scalar], _ p: [Unicode.Scalar]) -> Bool {
        Wildcard.matches(s, p, anyRun: "%", anyOne: "_")
    }
}
