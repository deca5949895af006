import SeamColumnar
import SeamSQL

/// left, right, split_part, lpad, rpad, repeat, reverse, strpos (instr), ends_with (suffix), ascii, chr: DuckDB's
/// semantics, counting Unicode code points as DuckDB does for these (reverse keeps each grapheme whole). NULL in,
/// NULL out.
enum TextSlicing {
    static func call(_ f: ScalarFunction, _ args: [ColumnVector], _ n: Int) throws -> ColumnVector {
        switch f {
        case .endsWith:
            var b = ColumnBuilder(.boolean, capacity: n)
            for i in 0..<n {
                guard !args[0].isNull(i), !args[1].isNull(i) else {
                    b.appendNull()
                    continue
                }
                let s = Vectors.string(args[0], Vectors.offsets(args[0]), i), p = Vectors.string(args[1], Vectors.offsets(args[1]), i)
                b.append(bool: s.count >= p.count && Compare.bytesEqual(UnsafeRawBufferPointer(rebasing: s[(s.count - p.count)...]), p))
            }
            return b.finish()
        case .strpos:
            var b = ColumnBuilder(.bigint, capacity: n)
            for i in 0..<n {
                guard let s = Functions.string(args[0], i), let p = Functions.string(args[1], i) else {
                    b.appendNull()
                    continue
                }
                b.append(int64: position(of: p, in: s))
            }
            return b.finish()
        case .ascii:
            var b = ColumnBuilder(.integer, capacity: n)
            for i in 0..<n {
                guard let s = Functions.string(args[0], i) else {
                    b.appendNull()
                    continue
                }
                b.append(.integer(Int32(s.unicodeScalars.first?.value ?? 0)))
            }
            return b.finish()
        case .chr:
            var b = ColumnBuilder(.varchar, capacity: n)
            for i in 0..<n {
                guard case .integer(let code) = args[0].value(at: i) else {
                    b.appendNull()
                    continue
                }
                guard code >= 0, let scalar = Unicode.Scalar(UInt32(code)) else {
                    throw SQLError(.runtime, "Invalid Input Error: Invalid UTF8 Codepoint \(code)")
                }
                b.append(string: String(Character(scalar)))
            }
            return b.finish()
        case .reverse:
            return Functions.mapStrings(args[0]) { String($0.reversed()) }
        default:
            break
        }
        var b = ColumnBuilder(.varchar, capacity: n)
        for i in 0..<n {
            guard let s = Functions.string(args[0], i), let k = integer(args[f == .splitPart ? 2 : 1], i) else {
                b.appendNull()
                continue
            }
            switch f {
            case .left, .right:
                let scalars = Array(s.unicodeScalars)
                let count = scalars.count
                // A negative count keeps all but that many from the other end.
                let keep = k >= 0 ? min(Int(clamping: k), count) : max(0, count - Int(clamping: k.magnitude))
                b.append(string: text(f == .left ? scalars[..<keep] : scalars[(count - keep)...]))
            case .repeat:
                b.append(string: k <= 0 ? "" : String(repeating: s, count: Int(clamping: k)))
            case .splitPart:
                guard let delimiter = Functions.string(args[1], i) else {
                    b.appendNull()
                    continue
                }
                b.append(string: part(s, delimiter, k))
            case .lpad, .rpad:
                guard let fill = Functions.string(args[2], i) else {
                    b.appendNull()
                    continue
                }
                b.append(string: try pad(s, to: k, with: fill, left: f == .lpad))
            default:
                throw SQLError(.runtime, "internal: \(f.rawValue) is not a text slicing function")
            }
        }
        return b.finish()
    }

    private static func integer(_ v: ColumnVector, _ i: Int) -> Int64? {
        v.isNull(i) ? nil : Vectors.pointer(v, Int64.self)[i]
    }

    private static func text(_ scalars: ArraySlice<Unicode.Scalar>) -> String {
        var out = String.UnicodeScalarView()
        out.append(contentsOf: scalars)
        return String(out)
    }

    /// 1-based code-point position of the first `needle` in `haystack`, 0 when absent (1 for an empty needle).
    static func position(of needle: String, in haystack: String) -> Int64 {
        guard !needle.isEmpty else { return 1 }
        let h = Array(haystack.unicodeScalars), p = Array(needle.unicodeScalars)
        guard p.count <= h.count else { return 0 }
        for start in 0...(h.count - p.count) where h[start] == p[0] && h[start..<(start + p.count)].elementsEqual(p) {
            return Int64(start + 1)
        }
        return 0
    }

    /// Part `k` (1-based; negative from the end) of `s` cut at each `delimiter` (an empty one cuts between code
    /// points); "" past either end.
    static func part(_ s: String, _ delimiter: String, _ k: Int64) -> String {
        let parts: [String] = delimiter.isEmpty
            ? s.unicodeScalars.map { String(Character($0)) }
            : s.split(separator: delimiter, omittingEmptySubsequences: false).map(String.init)
        let index = k > 0 ? Int(clamping: k) - 1 : parts.count + Int(clamping: k)
        return k != 0 && index >= 0 && index < parts.count ? parts[index] : ""
    }

    /// `s` padded on one side to `length` code points with `fill` repeated, or cut to its first `length`.
    static func pad(_ s: String, to length: Int64, with fill: String, left: Bool) throws -> String {
        let scalars = Array(s.unicodeScalars)
        let target = Int(clamping: max(0, length))
        if scalars.count >= target { return text(scalars[..<target]) }
        let filler = Array(fill.unicodeScalars)
        guard !filler.isEmpty else { throw SQLError(.runtime, "Invalid Input Error: Insufficient padding in \(left ? "LPAD" : "RPAD").") }
        let padding = (0..<(target - scalars.count)).map { filler[$0 % filler.count] }
        return left ? text(ArraySlice(padding + scalars)) : text(ArraySlice(scalars + padding))
    }
}
