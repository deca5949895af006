import SeamColumnar
import SeamSQL

/// `+ - * / // %` over vectors whose types the binder unified. Integer overflow is an error, and so is `//` or
/// `%` by zero (as in DuckDB 2.0); `/` is always DOUBLE (IEEE: x/0 is ±inf); `//` on DOUBLE divides.
enum Arithmetic {
    static func apply(_ op: ArithmeticOperator, _ a: ColumnVector, _ b: ColumnVector, _ t: LogicalType, _ n: Int) throws -> ColumnVector {
        let validity = Vectors.validityAnd([a, b], n)
        if op == .integerDivide || op == .modulo { try checkZeroDivisors(op, a, b, validity, n) }
        switch a.type.physical {
        case .double:
            let pa = Vectors.pointer(a, Double.self)
            let pb = Vectors.pointer(b, Double.self)
            return Vectors.make(.double, n, validity: validity) { (o: UnsafeMutablePointer<Double>) in
                switch op {
                case .add: for i in 0..<n { o[i] = pa[i] + pb[i] }
                case .subtract: for i in 0..<n { o[i] = pa[i] - pb[i] }
                case .multiply: for i in 0..<n { o[i] = pa[i] * pb[i] }
                case .divide: for i in 0..<n { o[i] = pa[i] / pb[i] }
                case .integerDivide: for i in 0..<n { o[i] = pa[i] / pb[i] }
                case .modulo: for i in 0..<n { o[i] = pa[i].truncatingRemainder(dividingBy: pb[i]) }
                }
            }
        case .int32:
            let pa = Vectors.pointer(a, Int32.self)
            let pb = Vectors.pointer(b, Int32.self)
            let val = validity.map { $0.base.assumingMemoryBound(to: UInt64.self) }
            return try integerOp(op, t, n, validity, val, "INT32", pa, pb)
        case .int64:
            let pa = Vectors.pointer(a, Int64.self)
            let pb = Vectors.pointer(b, Int64.self)
            let val = validity.map { $0.base.assumingMemoryBound(to: UInt64.self) }
            return try integerOp(op, t, n, validity, val, t == .decimal ? "DECIMAL" : "INT64", pa, pb)
        default:
            throw SQLError(.runtime, "internal: arithmetic on \(a.type)")
        }
    }

    private static func checkZeroDivisors(_ op: ArithmeticOperator, _ a: ColumnVector, _ b: ColumnVector, _ validity: Buffer?, _ n: Int) throws {
        let val = validity.map { $0.base.assumingMemoryBound(to: UInt64.self) }
        for i in 0..<n where Vectors.isValid(val, i) {
            let zero: Bool
            switch b.type.physical {
            case .double: zero = Vectors.pointer(b, Double.self)[i] == 0
            case .int32: zero = Vectors.pointer(b, Int32.self)[i] == 0
            default: zero = Vectors.pointer(b, Int64.self)[i] == 0
            }
            if zero {
                throw SQLError(
                    .runtime,
                    "Invalid Input Error: Division by zero in expression (\(ValueCast.text(a.value(at: i))) \(op.rawValue) \(ValueCast.text(b.value(at: i))))")
            }
        }
    }

    private static func integerOp<T: FixedWidthInteger & SignedInteger>(
        _ op: ArithmeticOperator, _ t: LogicalType, _ n: Int, _ validity: Buffer?, _ val: UnsafePointer<UInt64>?, _ typeName: String,
        _ pa: UnsafePointer<T>, _ pb: UnsafePointer<T>
    ) throws -> ColumnVector {
        var overflow = false
        let out = Vectors.make(t, n, validity: validity) { (o: UnsafeMutablePointer<T>) in
            switch op {
            case .add:
                for i in 0..<n {
                    let (r, f) = pa[i].addingReportingOverflow(pb[i])
                    o[i] = r
                    overflow = overflow || f
                }
            case .subtract:
                for i in 0..<n {
                    let (r, f) = pa[i].subtractingReportingOverflow(pb[i])
                    o[i] = r
                    overflow = overflow || f
                }
            case .multiply:
                for i in 0..<n {
                    let (r, f) = pa[i].multipliedReportingOverflow(by: pb[i])
                    o[i] = r
                    overflow = overflow || f
                }
            case .integerDivide, .divide:
                for i in 0..<n where Vectors.isValid(val, i) {
                    let (r, f) = pa[i].dividedReportingOverflow(by: pb[i])
                    o[i] = r
                    overflow = overflow || f
                }
            case .modulo:
                for i in 0..<n where Vectors.isValid(val, i) {
                    let (r, f) = pa[i].remainderReportingOverflow(dividingBy: pb[i])
                    o[i] = r
                    overflow = overflow || f
                }
            }
        }
        if overflow {
            // Only a valid row's overflow counts (NULL slots hold arbitrary values).
            for i in 0..<n where Vectors.isValid(val, i) {
                let f: Bool
                switch op {
                case .add: f = pa[i].addingReportingOverflow(pb[i]).overflow
                case .subtract: f = pa[i].subtractingReportingOverflow(pb[i]).overflow
                case .multiply: f = pa[i].multipliedReportingOverflow(by: pb[i]).overflow
                case .integerDivide, .divide: f = pa[i].dividedReportingOverflow(by: pb[i]).overflow
                case .modulo: f = pa[i].remainderReportingOverflow(dividingBy: pb[i]).overflow
                }
                if f {
                    let words = ["+": "addition", "-": "subtraction", "*": "multiplication", "//": "division", "/": "division", "%": "modulo"]
                    throw SQLError(.runtime, "Out of Range Error: Overflow in \(words[op.rawValue]!) of \(typeName) (\(pa[i]) \(op.rawValue) \(pb[i]))!")
                }
            }
        }
        return out
    }
}

/// Vector casts; they agree with ``ValueCast`` (the binder's constant folding).
enum Casts {
    static func cast(_ v: ColumnVector, to t: LogicalType) throws -> ColumnVector {
        let n = v.count
        if v.type == t { return v }
        let val = Vectors.validity(v)
        switch (v.type, t) {
        case (.integer, .bigint):
            let p = Vectors.pointer(v, Int32.self)
            return Vectors.make(.bigint, n, validity: v.validity) { (o: UnsafeMutablePointer<Int64>) in for i in 0..<n { o[i] = Int64(p[i]) } }
        case (.integer, .double):
            let p = Vectors.pointer(v, Int32.self)
            return Vectors.make(.double, n, validity: v.validity) { (o: UnsafeMutablePointer<Double>) in for i in 0..<n { o[i] = Double(p[i]) } }
        case (.bigint, .double):
            let p = Vectors.pointer(v, Int64.self)
            return Vectors.make(.double, n, validity: v.validity) { (o: UnsafeMutablePointer<Double>) in for i in 0..<n { o[i] = Double(p[i]) } }
        case (.decimal, .double):
            let p = Vectors.pointer(v, Int64.self)
            return Vectors.make(.double, n, validity: v.validity) { (o: UnsafeMutablePointer<Double>) in for i in 0..<n { o[i] = Double(p[i]) / 100 } }
        case (.integer, .decimal):
            let p = Vectors.pointer(v, Int32.self)
            return Vectors.make(.decimal, n, validity: v.validity) { (o: UnsafeMutablePointer<Int64>) in for i in 0..<n { o[i] = Int64(p[i]) * 100 } }
        case (.bigint, .decimal):
            let p = Vectors.pointer(v, Int64.self)
            for i in 0..<n where Vectors.isValid(val, i) && p[i].magnitude > 99_999_999_999_999_999 / 100 {
                throw SQLError(.runtime, "Conversion Error: value \(p[i]) is out of range for DECIMAL(18,2)")
            }
            return Vectors.make(.decimal, n, validity: v.validity) { (o: UnsafeMutablePointer<Int64>) in for i in 0..<n { o[i] = p[i] &* 100 } }
        case (.decimal, .bigint), (.decimal, .integer):
            let p = Vectors.pointer(v, Int64.self)
            if t == .bigint {
                return Vectors.make(.bigint, n, validity: v.validity) { (o: UnsafeMutablePointer<Int64>) in
                    for i in 0..<n { o[i] = ValueCast.roundedDivide(p[i], 100) }
                }
            }
            return try Vectors.make(.integer, n, validity: v.validity) { (o: UnsafeMutablePointer<Int32>) in
                for i in 0..<n {
                    let r = ValueCast.roundedDivide(p[i], 100)
                    guard let x = Int32(exactly: r) else {
                        if Vectors.isValid(val, i) { throw SQLError(.runtime, "Conversion Error: value \(Decimal2.format(p[i])) is out of range for INTEGER") }
                        o[i] = 0
                        continue
                    }
                    o[i] = x
                }
            }
        case (.bigint, .integer):
            let p = Vectors.pointer(v, Int64.self)
            return try Vectors.make(.integer, n, validity: v.validity) { (o: UnsafeMutablePointer<Int32>) in
                for i in 0..<n {
                    if let x = Int32(exactly: p[i]) {
                        o[i] = x
                    } else if Vectors.isValid(val, i) {
                        throw SQLError(.runtime, "Conversion Error: Type INT64 with value \(p[i]) can't be cast because the value is out of range for the destination type INT32")
                    }
                }
            }
        case (.double, .integer), (.double, .bigint), (.double, .decimal):
            let p = Vectors.pointer(v, Double.self)
            var builder = ColumnBuilder(t, capacity: n)
            for i in 0..<n {
                if !Vectors.isValid(val, i) {
                    builder.appendNull()
                    continue
                }
                switch ValueCast.cast(.double(p[i]), to: t) {
                case .success(let x): builder.append(x)
                case .failure(let f): throw SQLError(.runtime, "Conversion Error: \(f.message)")
                }
            }
            return builder.finish()
        case (.boolean, _) where t.isNumeric:
            let p = Vectors.pointer(v, UInt8.self)
            switch t.physical {
            case .int32: return Vectors.make(t, n, validity: v.validity) { (o: UnsafeMutablePointer<Int32>) in for i in 0..<n { o[i] = Int32(p[i]) } }
            case .int64:
                let scale: Int64 = t == .decimal ? 100 : 1
                return Vectors.make(t, n, validity: v.validity) { (o: UnsafeMutablePointer<Int64>) in for i in 0..<n { o[i] = Int64(p[i]) * scale } }
            default: return Vectors.make(t, n, validity: v.validity) { (o: UnsafeMutablePointer<Double>) in for i in 0..<n { o[i] = Double(p[i]) } }
            }
        case (_, .boolean) where v.type.isNumeric:
            switch v.type.physical {
            case .int32:
                let p = Vectors.pointer(v, Int32.self)
                return Vectors.make(.boolean, n, validity: v.validity) { (o: UnsafeMutablePointer<UInt8>) in for i in 0..<n { o[i] = p[i] != 0 ? 1 : 0 } }
            case .int64:
                let p = Vectors.pointer(v, Int64.self)
                return Vectors.make(.boolean, n, validity: v.validity) { (o: UnsafeMutablePointer<UInt8>) in for i in 0..<n { o[i] = p[i] != 0 ? 1 : 0 } }
            default:
                let p = Vectors.pointer(v, Double.self)
                return Vectors.make(.boolean, n, validity: v.validity) { (o: UnsafeMutablePointer<UInt8>) in for i in 0..<n { o[i] = p[i] != 0 ? 1 : 0 } }
            }
        case (.timestamp, .date):
            let p = Vectors.pointer(v, Int64.self)
            return Vectors.make(.date, n, validity: v.validity) { (o: UnsafeMutablePointer<Int32>) in
                for i in 0..<n { o[i] = Int32(truncatingIfNeeded: Timestamp.day(ofMicros: p[i])) }
            }
        case (.date, .bigint):  // only bound internally, for DATE - DATE (users cannot cast a DATE to a number)
            let p = Vectors.pointer(v, Int32.self)
            return Vectors.make(.bigint, n, validity: v.validity) { (o: UnsafeMutablePointer<Int64>) in for i in 0..<n { o[i] = Int64(p[i]) } }
        case (.date, .timestamp):
            let p = Vectors.pointer(v, Int32.self)
            return Vectors.make(.timestamp, n, validity: v.validity) { (o: UnsafeMutablePointer<Int64>) in
                for i in 0..<n { o[i] = Int64(p[i]) &* Timestamp.microsPerDay }
            }
        case (_, .varchar):
            var builder = ColumnBuilder(.varchar, capacity: n)
            for i in 0..<n {
                if !Vectors.isValid(val, i) { builder.appendNull() } else { builder.append(string: ValueCast.text(v.value(at: i))) }
            }
            return builder.finish()
        case (.varchar, _):
            return try parse(v, as: t)
        default:
            throw SQLError(.runtime, "Conversion Error: Unimplemented type for cast (\(v.type) -> \(t))")
        }
    }

    private static func parse(_ v: ColumnVector, as t: LogicalType) throws -> ColumnVector {
        let n = v.count
        let strings = StringSpans(v)
        let val = Vectors.validity(v)
        var builder = ColumnBuilder(t, capacity: n)
        for i in 0..<n {
            if !Vectors.isValid(val, i) {
                builder.appendNull()
                continue
            }
            let s = strings[i]
            var ok = true
            switch t {
            case .integer:
                if let x = ValueParsing.int64(s), let y = Int32(exactly: x) { builder.append(int32: y) } else { ok = false }
            case .bigint:
                if let x = ValueParsing.int64(s) { builder.append(int64: x) } else { ok = false }
            case .decimal:
                if let x = ValueParsing.decimal2(s) { builder.append(int64: x) } else { ok = false }
            case .double:
                if let x = ValueParsing.double(s) { builder.append(double: x) } else { ok = false }
            case .timestamp:
                if let x = ValueParsing.timestamp(s) { builder.append(int64: x) } else { ok = false }
            case .date:
                if let x = ValueParsing.date(s) { builder.append(int32: x) } else { ok = false }
            case .boolean:
                if let x = ValueParsing.boolean(s) { builder.append(bool: x) } else { ok = false }
            case .varchar:
                builder.append(utf8: s)
            case .interval:
                throw SQLError(.runtime, "Conversion Error: casting text to INTERVAL is not supported; write INTERVAL n UNIT, e.g. INTERVAL 30 MINUTE")
            }
            if !ok {
                throw SQLError(.runtime, "Conversion Error: Could not convert string '\(String(decoding: s, as: UTF8.self))' to \(t)")
            }
        }
        return builder.finish()
    }
}
