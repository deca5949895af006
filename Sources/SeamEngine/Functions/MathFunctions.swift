import Foundation
import SeamColumnar
import SeamSQL

/// round, abs, floor, ceil, sqrt, ln, log10, power.
enum MathFunctions {
    static func call(_ f: ScalarFunction, _ args: [ColumnVector], _ t: LogicalType, _ n: Int) throws -> ColumnVector {
        let v = args[0]
        switch (f, v.type.physical) {
        case (.sqrt, _), (.ln, _), (.log10, _), (.power, _):
            let p = Vectors.pointer(v, Double.self)
            let q = args.count > 1 ? Vectors.pointer(args[1], Double.self) : p
            return Vectors.make(.double, n, validity: Vectors.validityAnd(args, n)) { (o: UnsafeMutablePointer<Double>) in
                switch f {
                case .sqrt: for i in 0..<n { o[i] = p[i].squareRoot() }
                case .ln: for i in 0..<n { o[i] = Foundation.log(p[i]) }
                case .log10: for i in 0..<n { o[i] = Foundation.log10(p[i]) }
                default: for i in 0..<n { o[i] = Foundation.pow(p[i], q[i]) }
                }
            }
        case (_, .double):
            let p = Vectors.pointer(v, Double.self)
            let digits = args.count > 1 ? Vectors.pointer(args[1], Int32.self) : nil
            return Vectors.make(.double, n, validity: Vectors.validityAnd(args, n)) { (o: UnsafeMutablePointer<Double>) in
                switch f {
                case .abs: for i in 0..<n { o[i] = Swift.abs(p[i]) }
                case .floor: for i in 0..<n { o[i] = p[i].rounded(.down) }
                case .ceil: for i in 0..<n { o[i] = p[i].rounded(.up) }
                default:
                    for i in 0..<n {
                        let d = Int(digits?[i] ?? 0)
                        if d == 0 {
                            o[i] = p[i].rounded()
                        } else {
                            let scale = Foundation.pow(10.0, Double(d))
                            o[i] = (p[i] * scale).rounded() / scale
                        }
                    }
                }
            }
        case (.round, .int64) where v.type == .decimal && t == .bigint:
            // round(decimal[, n ≤ 0]): whole units (or tens, hundreds, …), half away from zero.
            let p = Vectors.pointer(v, Int64.self)
            let digits = args.count > 1 ? Int(Vectors.pointer(args[1], Int32.self)[0]) : 0
            let unit = Int64(Foundation.pow(10.0, Double(2 - digits)))
            return Vectors.make(.bigint, n, validity: v.validity) { (o: UnsafeMutablePointer<Int64>) in
                for i in 0..<n { o[i] = ValueCast.roundedDivide(p[i], unit) * (unit / 100) }
            }
        case (_, .int64) where t == .decimal:
            let p = Vectors.pointer(v, Int64.self)
            let digits = args.count > 1 ? Vectors.pointer(args[1], Int32.self) : nil
            return Vectors.make(.decimal, n, validity: Vectors.validityAnd(args, n)) { (o: UnsafeMutablePointer<Int64>) in
                for i in 0..<n {
                    let x = p[i]
                    switch f {
                    case .abs: o[i] = Swift.abs(x)
                    case .floor: o[i] = (x >= 0 ? x / 100 : (x - 99) / 100) * 100
                    case .ceil: o[i] = (x >= 0 ? (x + 99) / 100 : x / 100) * 100
                    default:
                        let d = Int(digits?[i] ?? 0)
                        if d >= 2 {
                            o[i] = x
                        } else {
                            let unit: Int64 = d == 1 ? 10 : (d == 0 ? 100 : Int64(Foundation.pow(10.0, Double(2 - d))))
                            o[i] = ValueCast.roundedDivide(x, unit) * unit
                        }
                    }
                }
            }
        case (_, .int64), (_, .int32):
            // Integers: round/floor/ceil are the identity (negative digits round to tens, hundreds, …).
            var b = ColumnBuilder(t, capacity: n)
            for i in 0..<n {
                let x: Int64
                switch v.value(at: i) {
                case .integer(let y): x = Int64(y)
                case .bigint(let y): x = y
                default:
                    b.appendNull()
                    continue
                }
                var r = x
                if f == .abs {
                    guard x != .min else { throw SQLError(.runtime, "Out of Range Error: Overflow on abs(\(x))") }
                    r = Swift.abs(x)
                } else if f == .round, args.count > 1, case .integer(let d) = args[1].value(at: i), d < 0 {
                    let unit = Int64(Foundation.pow(10.0, Double(-d)))
                    r = ValueCast.roundedDivide(x, unit) * unit
                }
                if t == .integer { b.append(int32: Int32(truncatingIfNeeded: r)) } else { b.append(int64: r) }
            }
            return b.finish()
        default:
            throw SQLError(.runtime, "internal: \(f.rawValue) on \(v.type)")
        }
    }
}
