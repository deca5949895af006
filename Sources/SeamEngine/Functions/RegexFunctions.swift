import CPCRE2
import SeamColumnar
import SeamSQL

/// regexp_matches, regexp_full_match, regexp_extract, regexp_replace over PCRE2 (JIT-compiled), matching each row's
/// UTF-8 bytes in place. DuckDB's semantics (RE2's): `.` stops at a newline unless option `s`, `\d` and `\w` are ASCII,
/// regexp_extract gives '' when nothing (or no such group) matches, regexp_replace replaces the first match unless
/// option `g`, with `\0`…`\9` for groups in the replacement, and a global replace skips an empty match right where
/// the previous match ended. A pattern is compiled once per batch and again only when a row's pattern differs.
enum RegexFunctions {
    static func call(_ f: ScalarFunction, _ args: [ColumnVector], _ n: Int) throws -> ColumnVector {
        // The options argument's position, when given (regexp_extract's third argument is a group number).
        let optionsAt = [f == .regexpReplace ? 3 : (f == .regexpExtract ? args.count : 2)].first { $0 < args.count }
        if let o = optionsAt, (0..<n).contains(where: { args[o].isNull($0) }) {
            throw SQLError(.runtime, "Invalid Input Error: Regex options field must not be NULL")
        }
        var cache = PatternCache()
        let subjects = StringSpans(args[0]), patterns = StringSpans(args[1])
        // Taken once per batch: a view per row cost reference counting (and a lock for a dictionary vector's text).
        let options = optionsAt.map { StringSpans(args[$0]) }
        switch f {
        case .regexpMatches, .regexpFullMatch:
            var b = ColumnBuilder(.boolean, capacity: n)
            for i in 0..<n {
                guard !args[0].isNull(i), !args[1].isNull(i) else {
                    b.appendNull()
                    continue
                }
                let re = try cache.regex(patterns[i], options: options?[i], full: f == .regexpFullMatch)
                b.append(bool: try re.match(subjects[i], from: 0))
            }
            return b.finish()
        case .regexpExtract:
            var b = ColumnBuilder(.varchar, capacity: n)
            for i in 0..<n {
                guard !args[0].isNull(i), !args[1].isNull(i) else {
                    b.appendNull()
                    continue
                }
                // A NULL group number gives '', as DuckDB's does.
                if args.count == 3 && args[2].isNull(i) {
                    b.append(utf8: UnsafeRawBufferPointer(start: nil, count: 0))
                    continue
                }
                let group = args.count == 3 ? Int(Vectors.pointer(args[2], Int64.self)[i]) : 0
                let re = try cache.regex(patterns[i], options: nil, full: false)
                let subject = subjects[i]
                if try re.match(subject, from: 0), let range = re.group(group) {
                    b.append(utf8: UnsafeRawBufferPointer(rebasing: subject[range]))
                } else {
                    b.append(utf8: UnsafeRawBufferPointer(start: nil, count: 0))
                }
            }
            return b.finish()
        case .regexpReplace:
            var b = ColumnBuilder(.varchar, capacity: n)
            let replacements = StringSpans(args[2])
            var out: [UInt8] = []
            for i in 0..<n {
                guard !args[0].isNull(i), !args[1].isNull(i), !args[2].isNull(i) else {
                    b.appendNull()
                    continue
                }
                let re = try cache.regex(patterns[i], options: options?[i], full: false)
                out.removeAll(keepingCapacity: true)
                try replace(subjects[i], re, with: replacements[i], global: cache.global, into: &out)
                out.withUnsafeBytes { b.append(utf8: $0) }
            }
            return b.finish()
        default:
            throw SQLError(.runtime, "internal: \(f.rawValue) is not a regular-expression function")
        }
    }

    /// RE2's global replace: text before each match, the rewritten match; an empty match where the last one ended
    /// is skipped by copying one character.
    static func replace(
        _ subject: UnsafeRawBufferPointer, _ re: Regex, with rewrite: UnsafeRawBufferPointer, global: Bool, into out: inout [UInt8]
    ) throws {
        var p = 0
        var lastEnd = -1
        while p <= subject.count, try re.match(subject, from: p), let whole = re.group(0) {
            out.append(contentsOf: subject[p..<whole.lowerBound])
            if whole.isEmpty && whole.lowerBound == lastEnd {
                guard whole.lowerBound < subject.count else { break }
                let width = utf8Width(subject[whole.lowerBound])
                let next = min(subject.count, whole.lowerBound + width)
                out.append(contentsOf: subject[whole.lowerBound..<next])
                p = next
                continue
            }
            appendRewrite(rewrite, re, subject, into: &out)
            p = whole.upperBound
            lastEnd = p
            if !global { break }
        }
        if p < subject.count { out.append(contentsOf: subject[p...]) }
    }

    /// `\0`…`\9`: that group's text (nothing when it did not take part); `\\`: a backslash; anything else as it is.
    private static func appendRewrite(_ rewrite: UnsafeRawBufferPointer, _ re: Regex, _ subject: UnsafeRawBufferPointer, into out: inout [UInt8]) {
        var i = 0
        while i < rewrite.count {
            let c = rewrite[i]
            if c == UInt8(ascii: "\\"), i + 1 < rewrite.count {
                let d = rewrite[i + 1]
                if d >= UInt8(ascii: "0") && d <= UInt8(ascii: "9") {
                    if let r = re.group(Int(d - UInt8(ascii: "0"))) { out.append(contentsOf: subject[r]) }
                    i += 2
                    continue
                }
                if d == UInt8(ascii: "\\") {
                    out.append(d)
                    i += 2
                    continue
                }
            }
            out.append(c)
            i += 1
        }
    }

    private static func utf8Width(_ lead: UInt8) -> Int {
        lead < 0x80 ? 1 : (lead < 0xE0 ? 2 : (lead < 0xF0 ? 3 : 4))
    }

    /// The last compiled pattern, kept while rows repeat it (a constant pattern compiles once per batch).
    struct PatternCache {
        private var last: (pattern: [UInt8], options: [UInt8], full: Bool, regex: Regex)?
        /// Option `g` of the last options read (regexp_replace's global flag).
        private(set) var global = false

        mutating func regex(_ pattern: UnsafeRawBufferPointer, options: UnsafeRawBufferPointer?, full: Bool) throws -> Regex {
            let options = options ?? UnsafeRawBufferPointer(start: nil, count: 0)
            if let last, last.full == full, last.pattern.elementsEqual(pattern), last.options.elementsEqual(options) { return last.regex }
            var flags: UInt32 = 0
            global = false
            for o in options {
                switch o {
                case UInt8(ascii: "c"): flags &= ~PCRE2_CASELESS
                case UInt8(ascii: "i"): flags |= PCRE2_CASELESS
                case UInt8(ascii: "s"): flags |= PCRE2_DOTALL
                case UInt8(ascii: "m"), UInt8(ascii: "n"), UInt8(ascii: "p"): flags &= ~PCRE2_DOTALL
                case UInt8(ascii: "l"): flags |= PCRE2_LITERAL
                case UInt8(ascii: "g"): global = true
                default:
                    throw SQLError(.runtime, "Invalid Input Error: Unrecognized Regex option \(Character(Unicode.Scalar(o)))")
                }
            }
            let regex = try Regex(pattern, flags: flags | (full ? PCRE2_ANCHORED | PCRE2_ENDANCHORED : 0))
            last = (Array(pattern), Array(options), full, regex)
            return regex
        }
    }
}

/// One compiled PCRE2 pattern with its match data (so a worker matches without allocating).
final class Regex {
    private let code: OpaquePointer
    private let matchData: OpaquePointer

    init(_ pattern: UnsafeRawBufferPointer, flags: UInt32) throws {
        var errorCode: Int32 = 0
        var offset = 0
        let empty: [UInt8] = [0]
        let compiled = empty.withUnsafeBufferPointer { e in
            pcre2_compile_8(
                pattern.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? e.baseAddress!, pattern.count, flags | PCRE2_UTF, &errorCode,
                &offset, nil)
        }
        guard let compiled else {
            var message = [UInt8](repeating: 0, count: 256)
            let length = message.withUnsafeMutableBufferPointer { pcre2_get_error_message_8(errorCode, $0.baseAddress, 256) }
            let text = String(decoding: message.prefix(max(0, Int(length))), as: UTF8.self)
            throw SQLError(
                .runtime, "Invalid Input Error: invalid regular expression '\(String(decoding: pattern, as: UTF8.self))': \(text) at offset \(offset)")
        }
        code = compiled
        // JIT when the platform has it; the interpreter otherwise (same results).
        _ = pcre2_jit_compile_8(code, PCRE2_JIT_COMPLETE)
        matchData = pcre2_match_data_create_from_pattern_8(code, nil)
    }

    deinit {
        pcre2_match_data_free_8(matchData)
        pcre2_code_free_8(code)
    }

    /// Whether the pattern matches `subject` at or after byte `start`; the groups are then read with `group`.
    func match(_ subject: UnsafeRawBufferPointer, from start: Int) throws -> Bool {
        let empty: [UInt8] = [0]
        let rc = empty.withUnsafeBufferPointer { e in
            pcre2_match_8(code, subject.baseAddress?.assumingMemoryBound(to: UInt8.self) ?? e.baseAddress!, subject.count, start, 0, matchData, nil)
        }
        if rc >= 0 { return true }
        if rc == PCRE2_ERROR_NOMATCH { return false }
        var message = [UInt8](repeating: 0, count: 256)
        let length = message.withUnsafeMutableBufferPointer { pcre2_get_error_message_8(rc, $0.baseAddress, 256) }
        throw SQLError(.runtime, "Invalid Input Error: regular expression match failed: \(String(decoding: message.prefix(max(0, Int(length))), as: UTF8.self))")
    }

    /// The byte range of group `k` of the last match, or nil when it took no part or does not exist.
    func group(_ k: Int) -> Range<Int>? {
        guard k >= 0, k < Int(pcre2_get_ovector_count_8(matchData)) else { return nil }
        let ovector = pcre2_get_ovector_pointer_8(matchData)!
        let lo = ovector[2 * k], hi = ovector[2 * k + 1]
        // PCRE2_UNSET (all bits set) marks a group that took no part.
        guard lo != ~0, hi >= lo else { return nil }
        return Int(lo)..<Int(hi)
    }
}
