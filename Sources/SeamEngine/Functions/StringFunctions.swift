import SeamColumnar
import SeamSQL

/// lower, upper, length, substring, concat and `||`, trim/ltrim/rtrim, replace, starts_with, contains.
enum StringFunctions {
    static func call(_ f: ScalarFunction, _ args: [ColumnVector], _ n: Int) throws -> ColumnVector {
        switch f {
        case .lower: return asciiOrUnicode(args[0], upper: false)
        case .upper: return asciiOrUnicode(args[0], upper: true)
        case .length:
            let v = args[0]
            let strings = StringSpans(v)
            return Vectors.make(.bigint, n, validity: v.validity) { (o: UnsafeMutablePointer<Int64>) in
                for i in 0..<n {
                    let s = strings[i]
                    // ASCII: the byte count; otherwise count characters as DuckDB does (grapheme clusters).
                    if s.allSatisfy({ $0 < 0x80 }) { o[i] = Int64(s.count) } else { o[i] = Int64(String(decoding: s, as: UTF8.self).count) }
                }
            }
        case .substring:
            var b = ColumnBuilder(.varchar, capacity: n)
            for i in 0..<n {
                guard let s = Functions.string(args[0], i), case .bigint(let start) = args[1].value(at: i) else {
                    b.appendNull()
                    continue
                }
                var length: Int64? = nil
                if args.count == 3 {
                    guard case .bigint(let l) = args[2].value(at: i) else {
                        b.appendNull()
                        continue
                    }
                    length = l
                }
                b.append(string: substring(s, start, length))
            }
            return b.finish()
        case .concat:
            // The last argument says whether NULL propagates (`||`) or is skipped (`concat`).
            let strict = Vectors.pointer(args.last!, UInt8.self)[0] != 0
            let parts = Array(args.dropLast())
            let strings = parts.map(StringSpans.init)
            let vals = parts.map(Vectors.validity)
            var b = ColumnBuilder(.varchar, capacity: n)
            var scratch: [UInt8] = []
            for i in 0..<n {
                scratch.removeAll(keepingCapacity: true)
                var isNull = false
                for k in parts.indices {
                    if !Vectors.isValid(vals[k], i) {
                        if strict { isNull = true }
                        continue
                    }
                    scratch.append(contentsOf: strings[k][i])
                }
                if isNull { b.appendNull() } else { scratch.withUnsafeBytes { b.append(utf8: $0) } }
            }
            return b.finish()
        case .trim, .ltrim, .rtrim:
            var b = ColumnBuilder(.varchar, capacity: n)
            for i in 0..<n {
                guard let s = Functions.string(args[0], i) else {
                    b.appendNull()
                    continue
                }
                var chars: Set<Character> = [" "]
                if args.count == 2 {
                    guard let c = Functions.string(args[1], i) else {
                        b.appendNull()
                        continue
                    }
                    chars = Set(c)
                }
                var sub = Substring(s)
                if f != .rtrim { sub = sub.drop { chars.contains($0) } }
                if f != .ltrim { while let last = sub.last, chars.contains(last) { sub = sub.dropLast() } }
                b.append(string: String(sub))
            }
            return b.finish()
        case .replace:
            var b = ColumnBuilder(.varchar, capacity: n)
            for i in 0..<n {
                guard let s = Functions.string(args[0], i), let from = Functions.string(args[1], i), let to = Functions.string(args[2], i) else {
                    b.appendNull()
                    continue
                }
                b.append(string: from.isEmpty ? s : s.replacing(from, with: to))
            }
            return b.finish()
        case .startsWith, .contains:
            var b = ColumnBuilder(.boolean, capacity: n)
            for i in 0..<n {
                guard args[0].isNull(i) == false, args[1].isNull(i) == false else {
                    b.appendNull()
                    continue
                }
                let s = Vectors.string(args[0], Vectors.offsets(args[0]), i)
                let p = Vectors.string(args[1], Vectors.offsets(args[1]), i)
                if f == .startsWith {
                    b.append(bool: s.count >= p.count && Compare.bytesEqual(UnsafeRawBufferPointer(rebasing: s[0..<p.count]), p))
                } else {
                    b.append(bool: Like.contains(s, p))
                }
            }
            return b.finish()
        default:
            throw SQLError(.runtime, "internal: \(f.rawValue) is not a string function")
        }
    }

    /// Case mapping: a byte loop for ASCII rows, Unicode rules otherwise.
    private static func asciiOrUnicode(_ v: ColumnVector, upper: Bool) -> ColumnVector {
        let n = v.count
        let offs = Vectors.offsets(v)
        var allASCII = true
        let total = Int(offs[n]) - Int(offs[0])
        let base = v.values.base + Int(offs[0])
        for i in 0..<total where base.load(fromByteOffset: i, as: UInt8.self) >= 0x80 {
            allASCII = false
            break
        }
        guard allASCII else { return Functions.mapStrings(v) { simpleCase($0, upper: upper) } }
        let values = Buffer(byteCount: v.values.byteCount) { raw in
            let src = v.values.base.assumingMemoryBound(to: UInt8.self)
            let dst = raw.baseAddress!.assumingMemoryBound(to: UInt8.self)
            let lo: UInt8 = upper ? 0x61 : 0x41
            for i in 0..<v.values.byteCount {
                let c = src[i]
                let flip: UInt8 = (c &- lo) < 26 ? 0x20 : 0
                dst[i] = c ^ flip
            }
        }
        return ColumnVector(type: .varchar, count: n, values: values, offsets: v.offsets, validity: v.validity)
    }

    /// Unicode's simple (one-to-one) case mapping, scalar by scalar, as DuckDB maps case: a scalar whose full mapping
    /// is several scalars keeps one (`ß` upper-cases to `ẞ`, not `SS`; `İ` lower-cases to `i`; `ﬁ` stays), taking the
    /// title case where that is one scalar (Greek letters with ypogegrammeni: `ᾳ` → `ᾼ`).
    static func simpleCase(_ s: String, upper: Bool) -> String {
        var out = String.UnicodeScalarView()
        for scalar in s.unicodeScalars {
            let full = upper ? scalar.properties.uppercaseMapping : scalar.properties.lowercaseMapping
            if full.unicodeScalars.count == 1 {
                out.append(full.unicodeScalars.first!)
            } else if upper && scalar == "\u{DF}" {
                out.append("\u{1E9E}")
            } else if !upper && scalar == "\u{130}" {
                out.append("i")
            } else if upper, scalar.properties.titlecaseMapping.unicodeScalars.count == 1 {
                out.append(scalar.properties.titlecaseMapping.unicodeScalars.first!)
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    /// DuckDB's substring: 1-based start, negative counts from the end, length clipped to the string.
    static func substring(_ s: String, _ start: Int64, _ length: Int64?) -> String {
        let chars = Array(s)
        let count = Int64(chars.count)
        var begin = start > 0 ? start - 1 : (start < 0 ? count + start : -1)
        var end = length.map { begin + $0 } ?? count
        if let l = length, l < 0 {
            end = begin + 1
            begin = end + l
        }
        begin = max(0, min(begin, count))
        end = max(begin, min(end, count))
        return String(chars[Int(begin)..<Int(end)])
    }
}
