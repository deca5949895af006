import SeamColumnar
import SeamSQL

/// Dispatch from a bound scalar function to its implementation (one file per family in this folder).
enum Functions {
    static func call(_ f: ScalarFunction, _ args: [ColumnVector], _ t: LogicalType, _ n: Int, _ ev: Evaluator) throws -> ColumnVector {
        switch f {
        case .lower, .upper, .length, .substring, .concat, .trim, .ltrim, .rtrim, .replace, .startsWith, .contains:
            return try StringFunctions.call(f, args, n)
        case .left, .right, .splitPart, .lpad, .rpad, .repeat, .reverse, .strpos, .endsWith, .ascii, .chr:
            return try TextSlicing.call(f, args, n)
        case .regexpMatches, .regexpFullMatch, .regexpExtract, .regexpReplace:
            return try RegexFunctions.call(f, args, n)
        case .jsonExtractString:
            return JSONExtract.call(args[0], path: args[1].value(at: 0).description)
        case .round, .abs, .floor, .ceil, .sqrt, .ln, .log10, .power:
            return try MathFunctions.call(f, args, t, n)
        case .coalesce, .nullif, .greatest, .least:
            return try Conditional.call(f, args, t, n)
        case .dateTrunc, .dateDiff, .datePart, .now, .epochMs, .strftime:
            return try TimeFunctions.call(f, args, n, now: ev.now)
        case .inSubquery:
            throw SQLError(.runtime, "internal: IN subquery not resolved before execution")
        }
    }

    /// Applies `body` to each valid row's text, building a VARCHAR vector (NULL stays NULL).
    static func mapStrings(_ v: ColumnVector, _ body: (String) -> String) -> ColumnVector {
        let n = v.count
        let strings = StringSpans(v)
        let val = Vectors.validity(v)
        var b = ColumnBuilder(.varchar, capacity: n)
        for i in 0..<n {
            if Vectors.isValid(val, i) { b.append(string: body(String(decoding: strings[i], as: UTF8.self))) } else { b.appendNull() }
        }
        return b.finish()
    }

    /// Row `i` of a VARCHAR vector as a `String`, or `nil` when NULL.
    static func string(_ v: ColumnVector, _ i: Int) -> String? {
        v.isNull(i) ? nil : String(decoding: Vectors.string(v, Vectors.offsets(v), i), as: UTF8.self)
    }
}
