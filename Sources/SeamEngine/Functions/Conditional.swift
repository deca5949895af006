import SeamColumnar
import SeamSQL

/// coalesce, nullif, greatest, least (arguments already of the result type).
enum Conditional {
    static func call(_ f: ScalarFunction, _ args: [ColumnVector], _ t: LogicalType, _ n: Int) throws -> ColumnVector {
        switch f {
        case .coalesce:
            let vals = args.map(Vectors.validity)
            var choice = [Int32](repeating: Int32(args.count - 1), count: n)
            for i in 0..<n {
                for k in args.indices where Vectors.isValid(vals[k], i) {
                    choice[i] = Int32(k)
                    break
                }
            }
            return Pick.rows(args, choice, t, n)
        case .nullif:
            let eq = try Compare.vectors(.equal, args[0], args[1], n)
            let pe = Vectors.pointer(eq, UInt8.self)
            let ve = Vectors.validity(eq)
            let va = Vectors.validity(args[0])
            var flags = [UInt8](repeating: 0, count: n)
            for i in 0..<n { flags[i] = Vectors.isValid(va, i) && !(Vectors.isValid(ve, i) && pe[i] != 0) ? 1 : 0 }
            let validity = flags.withUnsafeBufferPointer { Vectors.validity(fromFlags: $0.baseAddress!, n) }
            return Vectors.withValidity(args[0], validity)
        case .greatest, .least:
            // NULLs are skipped (DuckDB); the result is NULL only when every argument is.
            var choice = [Int32](repeating: -1, count: n)
            let vals = args.map(Vectors.validity)
            for k in args.indices {
                for i in 0..<n where Vectors.isValid(vals[k], i) {
                    if choice[i] < 0 {
                        choice[i] = Int32(k)
                        continue
                    }
                    let c = compareRows(args[Int(choice[i])], args[k], i)
                    if f == .greatest ? c < 0 : c > 0 { choice[i] = Int32(k) }
                }
            }
            for i in 0..<n where choice[i] < 0 { choice[i] = 0 }
            return Pick.rows(args, choice, t, n)
        default:
            throw SQLError(.runtime, "internal: \(f.rawValue) is not conditional")
        }
    }

    static func compareRows(_ a: ColumnVector, _ b: ColumnVector, _ i: Int) -> Int {
        switch a.type.physical {
        case .uint8: return Int(Vectors.pointer(a, UInt8.self)[i]) - Int(Vectors.pointer(b, UInt8.self)[i])
        case .int32:
            let x = Vectors.pointer(a, Int32.self)[i]
            let y = Vectors.pointer(b, Int32.self)[i]
            return x < y ? -1 : (x > y ? 1 : 0)
        case .int64:
            let x = Vectors.pointer(a, Int64.self)[i]
            let y = Vectors.pointer(b, Int64.self)[i]
            return x < y ? -1 : (x > y ? 1 : 0)
        case .double:
            let x = Vectors.pointer(a, Double.self)[i]
            let y = Vectors.pointer(b, Double.self)[i]
            return x < y ? -1 : (x > y ? 1 : 0)
        case .bytes:
            return Compare.compareBytes(Vectors.string(a, Vectors.offsets(a), i), Vectors.string(b, Vectors.offsets(b), i))
        }
    }
}
