import SeamColumnar
import SeamKernels
import SeamSQL

/// Masks already computed for one batch, by expression: the FILTER clauses of one aggregation often share
/// conditions (`a`, `a AND b`, `a AND b AND c` in a funnel), each evaluated once per batch. One memo serves one batch
/// on one thread.
final class MaskMemo {
    var masks: [BoundExpr: ColumnVector] = [:]
}

/// Evaluates bound expressions over a batch, a vector at a time. Each node runs one typed loop over the
/// batch; the switch on the expression happens once per batch, never per row.
struct Evaluator: Sendable {
    /// `now()` for the whole statement (DuckDB: the transaction's start).
    let now: Int64

    /// Where the boolean `e` is true, as 0/1 bytes without validity: NULL counts as false, as WHERE and FILTER treat
    /// it. AND and OR combine their inputs' masks bytewise; the three-valued result `evaluate` gives would need a case
    /// analysis per row only to be folded back into this.
    func mask(_ e: BoundExpr, _ b: Batch, memo: MaskMemo? = nil) throws -> ColumnVector {
        if let memo, let known = memo.masks[e] { return known }
        let out = try computeMask(e, b, memo)
        memo?.masks[e] = out
        return out
    }

    private func computeMask(_ e: BoundExpr, _ b: Batch, _ memo: MaskMemo?) throws -> ColumnVector {
        switch e {
        case .and(let xs) where xs.count > 1, .or(let xs) where xs.count > 1:
            var isAnd = false
            if case .and = e { isAnd = true }
            let masks = try xs.map { try mask($0, b, memo: memo) }
            let n = b.count
            return Vectors.make(.boolean, n, validity: nil) { (o: UnsafeMutablePointer<UInt8>) in
                o.update(from: Vectors.pointer(masks[0], UInt8.self), count: n)
                for m in masks.dropFirst() {
                    let p = Vectors.pointer(m, UInt8.self)
                    if isAnd { for i in 0..<n { o[i] &= p[i] } } else { for i in 0..<n { o[i] |= p[i] } }
                }
            }
        default:
            if let flags = try maskOnDictionaryEntries(e, b) { return flags }
            let v = try evaluate(e, b)
            guard let validity = Vectors.validity(v) else { return v }
            let p = Vectors.pointer(v, UInt8.self)
            return Vectors.make(.boolean, v.count, validity: nil) { (o: UnsafeMutablePointer<UInt8>) in
                o.update(from: p, count: v.count)
                Bitmap.clearUnset(UnsafeMutableBufferPointer(start: o, count: v.count), validity)
            }
        }
    }

    func evaluate(_ e: BoundExpr, _ b: Batch) throws -> ColumnVector {
        if let out = try onDictionaryEntries(e, b) { return out }
        let n = b.count
        switch e {
        case .column(let i, _):
            return b.columns[i]
        case .constant(let v, let t):
            return Vectors.constant(v, t, n)
        case .cast(let x, let t):
            return try Casts.cast(try evaluate(x, b), to: t)
        case .arithmetic(let op, let l, let r, let t):
            return try Arithmetic.apply(op, try evaluate(l, b), try evaluate(r, b), t, n)
        case .negate(let x):
            let v = try evaluate(x, b)
            return try Arithmetic.apply(.subtract, Vectors.constant(zero(v.type), v.type, n), v, v.type, n)
        case .compare(let op, let l, let r):
            return try compare(op, l, r, b)
        case .and(let xs):
            return try Logic.and(try xs.map { try evaluate($0, b) }, n)
        case .or(let xs):
            return try Logic.or(try xs.map { try evaluate($0, b) }, n)
        case .not(let x):
            let v = try evaluate(x, b)
            let p = Vectors.pointer(v, UInt8.self)
            return Vectors.make(.boolean, n, validity: v.validity) { (o: UnsafeMutablePointer<UInt8>) in
                for i in 0..<n { o[i] = p[i] ^ 1 }
            }
        case .isNull(let x, let negated):
            let v = try evaluate(x, b)
            let val = Vectors.validity(v)
            return Vectors.make(.boolean, n, validity: nil) { (o: UnsafeMutablePointer<UInt8>) in
                for i in 0..<n {
                    let valid: UInt8 = Vectors.isValid(val, i) ? 1 : 0
                    o[i] = negated ? valid : valid ^ 1
                }
            }
        case .isDistinctFrom(let l, let r, let negated):
            let a = try evaluate(l, b)
            let c = try evaluate(r, b)
            let eq = try Compare.vectors(.equal, Vectors.withValidity(a, nil), Vectors.withValidity(c, nil), n)
            let pe = Vectors.pointer(eq, UInt8.self)
            let va = Vectors.validity(a)
            let vc = Vectors.validity(c)
            return Vectors.make(.boolean, n, validity: nil) { (o: UnsafeMutablePointer<UInt8>) in
                for i in 0..<n {
                    let x = Vectors.isValid(va, i)
                    let y = Vectors.isValid(vc, i)
                    let same = (!x && !y) || (x && y && pe[i] != 0)
                    o[i] = (same == negated) ? 1 : 0
                }
            }
        case .inList(let x, let values, let listHasNull, let negated):
            return try InList.evaluate(try evaluate(x, b), values, listHasNull: listHasNull, negated: negated)
        case .like(let x, let pattern, let ci, let negated, let escape):
            return Like.evaluate(try evaluate(x, b), pattern: pattern, caseInsensitive: ci, negated: negated, escape: escape)
        case .caseWhen(let whens, let otherwise, let t):
            return try caseWhen(whens, otherwise, t, b)
        case .function(let f, let args, let t):
            if let out = try functionOnDictionaryEntries(f, args, t, b) { return out }
            return try Functions.call(f, try args.map { try evaluate($0, b) }, t, n, self)
        case .addInterval(let x, let months, let micros):
            return try TimeFunctions.addInterval(try evaluate(x, b), months: months, micros: micros)
        case .subquery:
            throw SQLError(.runtime, "internal: subquery not resolved before execution")
        case .aggregateSlot, .windowSlot:
            throw SQLError(.runtime, "internal: unbound aggregate or window placeholder")
        }
    }

    /// A predicate over one VARCHAR column in dictionary form (comparison with a constant, IN, LIKE, and NOT, AND,
    /// OR of those) runs once per dictionary entry; each row then takes its entry's result. These predicates are
    /// NULL exactly when the column is, so a row's result is valid when both its entry's result and its value are.
    private func onDictionaryEntries(_ e: BoundExpr, _ b: Batch) throws -> ColumnVector? {
        guard Self.isEntryPredicate(e), e.columnsUsed.count == 1, let k = e.columnsUsed.first else { return nil }
        let column = b.columns[k]
        guard let d = column.dictionary, d.entries.count < b.count else { return nil }
        let onEntries = try evaluate(e.remapped([k: 0]), Batch(columns: [d.entries], count: d.entries.count))
        let n = b.count
        let result = Vectors.pointer(onEntries, UInt8.self)
        let codes = d.codePointer
        let validity = Self.rowValidity(column, d, onEntries)
        return Vectors.make(.boolean, n, validity: validity) { (o: UnsafeMutablePointer<UInt8>) in
            for i in 0..<n { o[i] = result[Int(codes[i])] }
        }
    }

    /// The mask of a predicate on one dictionary-form column, from its entries: each row takes its entry's flag
    /// (0 where the entry's result is NULL), and a NULL row 0, eight rows at a time.
    private func maskOnDictionaryEntries(_ e: BoundExpr, _ b: Batch) throws -> ColumnVector? {
        guard Self.isEntryPredicate(e), e.columnsUsed.count == 1, let k = e.columnsUsed.first else { return nil }
        let column = b.columns[k]
        guard let d = column.dictionary, d.entries.count < b.count else { return nil }
        let onEntries = try mask(e.remapped([k: 0]), Batch(columns: [d.entries], count: d.entries.count))
        let table = Vectors.pointer(onEntries, UInt8.self)
        let codes = d.codePointer
        let n = b.count
        let rowValidity = Vectors.validity(column)
        // Few entries on one side (`event_type = 'purchase'` holds for one entry): rows are compared with those
        // entries' codes eight at a time instead of looked up one by one.
        let entries = d.entries.count
        let passing = (0..<entries).filter { table[$0] != 0 }
        let few = passing.count <= entries - passing.count ? (codes: passing, flag: UInt8(1)) : (codes: (0..<entries).filter { table[$0] == 0 }, flag: UInt8(0))
        return withExtendedLifetime((onEntries, d)) {
            Vectors.make(.boolean, n, validity: nil) { (o: UnsafeMutablePointer<UInt8>) in
                if few.codes.count <= 4 {
                    Self.flagCodes(codes, n, few.codes.map(UInt32.init), flag: few.flag, into: o)
                } else {
                    for i in 0..<n { o[i] = table[Int(codes[i])] }
                }
                if let rowValidity { Bitmap.clearUnset(UnsafeMutableBufferPointer(start: o, count: n), rowValidity) }
            }
        }
    }

    /// `out[i]` = `flag` where `codes[i]` is one of `chosen` (at most four), else the other flag (0 or 1).
    private static func flagCodes(_ codes: UnsafePointer<UInt32>, _ n: Int, _ chosen: [UInt32], flag: UInt8, into out: UnsafeMutablePointer<UInt8>) {
        // Unused slots take a code no row has (codes are below the entry count).
        func slot(_ k: Int) -> SIMD8<UInt32> { SIMD8(repeating: k < chosen.count ? chosen[k] : .max) }
        let c0 = slot(0), c1 = slot(1), c2 = slot(2), c3 = slot(3)
        let hit = SIMD8<UInt32>(repeating: UInt32(flag)), miss = SIMD8<UInt32>(repeating: UInt32(1 &- flag))
        let raw = UnsafeRawPointer(codes)
        var i = 0
        while i &+ 8 <= n {
            let c = raw.loadUnaligned(fromByteOffset: i &* 4, as: SIMD8<UInt32>.self)
            let m = (c .== c0) .| (c .== c1) .| (c .== c2) .| (c .== c3)
            let f = SIMD8<UInt8>(truncatingIfNeeded: miss.replacing(with: hit, where: m))
            UnsafeMutableRawPointer(out + i).storeBytes(of: f, as: SIMD8<UInt8>.self)
            i &+= 8
        }
        while i < n {
            out[i] = chosen.contains(codes[i]) ? flag : 1 &- flag
            i &+= 1
        }
    }

    /// Functions whose result for a row depends on their first argument's value alone (the others constant), and is
    /// NULL when it is NULL: over a dictionary-form column they run once per entry.
    private static let entryWise: Set<ScalarFunction> = [
        .lower, .upper, .length, .substring, .trim, .ltrim, .rtrim, .replace, .startsWith, .contains, .endsWith, .left, .right,
        .splitPart, .lpad, .rpad, .repeat, .reverse, .strpos, .ascii, .jsonExtractString, .regexpMatches, .regexpFullMatch,
        .regexpExtract, .regexpReplace,
    ]

    /// `f(column, constants…)` with `f` entry-wise: the column's position.
    private static func entryWiseColumn(_ f: ScalarFunction, _ args: [BoundExpr]) -> Int? {
        guard entryWise.contains(f), case .column(let k, _) = args.first,
            args.dropFirst().allSatisfy({ if case .constant = $0 { return true } else { return false } })
        else { return nil }
        return k
    }

    /// A non-boolean entry-wise function over a dictionary-form column, computed once per entry: a VARCHAR result
    /// keeps the rows' codes with the results as entries (`regexp_replace(product_id, …)` over 10M rows runs the
    /// pattern over the block's few hundred entries), other types are gathered per row from the entries' results.
    private func functionOnDictionaryEntries(_ f: ScalarFunction, _ args: [BoundExpr], _ t: LogicalType, _ b: Batch) throws -> ColumnVector? {
        guard t != .boolean, let k = Self.entryWiseColumn(f, args) else { return nil }
        let column = b.columns[k]
        guard let d = column.dictionary, d.entries.count < b.count else { return nil }
        let onEntries = try evaluate(.function(f, [.column(0, args[0].type)] + args.dropFirst(), t), Batch(columns: [d.entries], count: d.entries.count))
        let n = b.count
        let codes = d.codePointer
        let validity = Self.rowValidity(column, d, onEntries)
        if t == .varchar { return ColumnVector(codes: d.codes, entries: onEntries.withValidity(nil), count: n, validity: validity) }
        return withExtendedLifetime((onEntries, d)) {
            switch t.physical {
            case .int32:
                let r = Vectors.pointer(onEntries, Int32.self)
                return Vectors.make(t, n, validity: validity) { (o: UnsafeMutablePointer<Int32>) in for i in 0..<n { o[i] = r[Int(codes[i])] } }
            case .int64:
                let r = Vectors.pointer(onEntries, Int64.self)
                return Vectors.make(t, n, validity: validity) { (o: UnsafeMutablePointer<Int64>) in for i in 0..<n { o[i] = r[Int(codes[i])] } }
            case .double:
                let r = Vectors.pointer(onEntries, Double.self)
                return Vectors.make(t, n, validity: validity) { (o: UnsafeMutablePointer<Double>) in for i in 0..<n { o[i] = r[Int(codes[i])] } }
            default:
                return nil
            }
        }
    }

    /// Which rows of a dictionary-form column have a result computed on its entries: the row is not NULL and its
    /// entry's result is not either.
    private static func rowValidity(_ column: ColumnVector, _ d: DictionaryForm, _ onEntries: ColumnVector) -> Buffer? {
        guard let entryValidity = Vectors.validity(onEntries) else { return column.validity }
        let n = column.count
        let codes = d.codePointer
        let rows = Vectors.validity(column)
        var flags = [UInt8](repeating: 0, count: n)
        for i in 0..<n where Vectors.isValid(rows, i) && Vectors.isValid(entryValidity, Int(codes[i])) { flags[i] = 1 }
        return flags.withUnsafeBufferPointer { Vectors.validity(fromFlags: $0.baseAddress!, n) }
    }

    private static func isEntryPredicate(_ e: BoundExpr) -> Bool {
        switch e {
        case .function(let f, let args, .boolean): return entryWiseColumn(f, args) != nil
        case .compare(_, .column, .constant), .compare(_, .constant, .column): return true
        case .inList(.column, _, _, _), .like(.column, _, _, _, _): return true
        case .not(let x): return isEntryPredicate(x)
        case .and(let xs), .or(let xs): return xs.allSatisfy(isEntryPredicate)
        default: return false
        }
    }

    private func zero(_ t: LogicalType) -> Value {
        switch t {
        case .integer: return .integer(0)
        case .double: return .double(0)
        case .decimal: return .decimal(0)
        case .interval: return .interval(0)
        default: return .bigint(0)
        }
    }

    private func compare(_ op: ComparisonOperator, _ l: BoundExpr, _ r: BoundExpr, _ b: Batch) throws -> ColumnVector {
        // Column against constant: the vectorized kernel on the column's own values, no broadcast.
        if case .constant(let c, _) = r {
            let v = try evaluate(l, b)
            if c.isNull { return Vectors.constant(.null, .boolean, b.count) }
            if let out = Compare.withConstant(op, v, c) { return out }
            return try Compare.vectors(op, v, Vectors.constant(c, v.type, b.count), b.count)
        }
        if case .constant(let c, _) = l {
            let v = try evaluate(r, b)
            if c.isNull { return Vectors.constant(.null, .boolean, b.count) }
            if let out = Compare.withConstant(op.flipped, v, c) { return out }
            return try Compare.vectors(op, Vectors.constant(c, v.type, b.count), v, b.count)
        }
        return try Compare.vectors(op, try evaluate(l, b), try evaluate(r, b), b.count)
    }

    private func caseWhen(_ whens: [WhenClause], _ otherwise: BoundExpr?, _ t: LogicalType, _ b: Batch) throws -> ColumnVector {
        let n = b.count
        // choice[i]: the first branch whose condition is true, or whens.count for ELSE.
        var choice = [Int32](repeating: Int32(whens.count), count: n)
        var results: [ColumnVector] = []
        for (k, w) in whens.enumerated() {
            let c = try evaluate(w.condition, b)
            let p = Vectors.pointer(c, UInt8.self)
            let val = Vectors.validity(c)
            for i in 0..<n where choice[i] == Int32(whens.count) && p[i] != 0 && Vectors.isValid(val, i) { choice[i] = Int32(k) }
            results.append(try evaluate(w.result, b))
        }
        results.append(try otherwise.map { try evaluate($0, b) } ?? Vectors.constant(.null, t, n))
        return Pick.rows(results, choice, t, n)
    }
}

/// Builds a vector taking row i from `sources[choice[i]]` (CASE, COALESCE).
enum Pick {
    static func rows(_ sources: [ColumnVector], _ choice: [Int32], _ t: LogicalType, _ n: Int) -> ColumnVector {
        var validFlags = [UInt8](repeating: 1, count: n)
        let vals = sources.map(Vectors.validity)
        for i in 0..<n where !Vectors.isValid(vals[Int(choice[i])], i) { validFlags[i] = 0 }
        let validity = validFlags.withUnsafeBufferPointer { Vectors.validity(fromFlags: $0.baseAddress!, n) }
        func fixed<T>(_: T.Type) -> ColumnVector {
            let ps = sources.map { Vectors.pointer($0, T.self) }
            return Vectors.make(t, n, validity: validity) { (o: UnsafeMutablePointer<T>) in
                for i in 0..<n { o[i] = ps[Int(choice[i])][i] }
            }
        }
        switch t.physical {
        case .uint8: return fixed(UInt8.self)
        case .int32: return fixed(Int32.self)
        case .int64: return fixed(Int64.self)
        case .double: return fixed(Double.self)
        case .bytes:
            var builder = ColumnBuilder(.varchar, capacity: n)
            let strings = sources.map(StringSpans.init)
            for i in 0..<n {
                if validFlags[i] == 0 {
                    builder.appendNull()
                } else {
                    let k = Int(choice[i])
                    builder.append(utf8: strings[k][i])
                }
            }
            return builder.finish()
        }
    }
}
