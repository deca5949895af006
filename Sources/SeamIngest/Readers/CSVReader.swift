/// How a CSV export is written: the separator, the quote character, whether a header line comes first.
public struct CSVDialect: Sendable, Equatable {
    public var delimiter: UInt8
    public var quote: UInt8
    public var header: Bool
    public init(delimiter: UInt8 = UInt8(ascii: ","), quote: UInt8 = UInt8(ascii: "\""), header: Bool = true) {
        self.delimiter = delimiter
        self.quote = quote
        self.header = header
    }
}

/// One field of a record: a span of the input and whether it holds doubled quotes to undo.
public struct CSVField: Sendable {
    public var start: Int
    public var end: Int
    public var doubledQuotes: Bool
}

/// An RFC 4180 record splitter over a window of bytes: quoted fields with the delimiter, doubled quotes and line
/// breaks inside, CRLF or LF endings, a byte-order mark at the start of the file.
///
/// It does not copy: fields are spans of the window. `next` says when the window ends inside a record, so a
/// streaming caller can carry the tail over to the next window.
public struct CSVReader {
    public enum Step: Equatable {
        /// A record is in `fields`; `line` is its first line in the file (1-based), `bytes` its span.
        case record
        /// The window ends inside a record (only when the window is not the file's last).
        case incomplete
        case end
        /// A quoted field is not closed by the end of the file, or a quote is followed by garbage.
        case malformed(String)
    }

    public let dialect: CSVDialect
    public let window: UnsafeRawBufferPointer
    public let isLast: Bool
    public private(set) var position: Int
    /// 1-based line number where the next record starts.
    public private(set) var line: Int
    public private(set) var recordLine = 0
    public private(set) var recordStart = 0
    public private(set) var recordEnd = 0

    public init(window: UnsafeRawBufferPointer, dialect: CSVDialect, isLast: Bool, firstLine: Int, skipBOM: Bool) {
        self.window = window
        self.dialect = dialect
        self.isLast = isLast
        self.line = firstLine
        var p = 0
        if skipBOM, window.count >= 3, window[0] == 0xEF, window[1] == 0xBB, window[2] == 0xBF { p = 3 }
        self.position = p
    }

    /// Reads the next record's fields into `fields` (cleared first).
    public mutating func next(_ fields: inout [CSVField]) -> Step {
        fields.removeAll(keepingCapacity: true)
        let n = window.count
        guard position < n else { return .end }
        let d = dialect.delimiter, q = dialect.quote
        var p = position
        var lines = 0
        let startLine = line
        recordStart = p
        fieldLoop: while true {
            if p < n && window[p] == q {
                // Quoted field.
                p += 1
                let s = p
                var doubled = false
                while true {
                    guard p < n else {
                        if !isLast { return .incomplete }
                        position = n
                        line += lines
                        return .malformed("a quoted field opened on line \(startLine) is never closed")
                    }
                    let c = window[p]
                    if c == q {
                        if p + 1 < n && window[p + 1] == q {
                            doubled = true
                            p += 2
                            continue
                        }
                        if p + 1 >= n && !isLast { return .incomplete }
                        break
                    }
                    if c == 0x0A { lines += 1 }
                    p += 1
                }
                fields.append(CSVField(start: s, end: p, doubledQuotes: doubled))
                p += 1  // closing quote
                guard p < n else { break fieldLoop }
                let c = window[p]
                if c == d {
                    p += 1
                    continue fieldLoop
                }
                if c == 0x0A || (c == 0x0D && p + 1 < n && window[p + 1] == 0x0A) || (c == 0x0D && p + 1 == n) {
                    break fieldLoop
                }
                // Garbage after a closing quote: skip to the end of the line so the next record is intact.
                while p < n && window[p] != 0x0A { p += 1 }
                if p >= n && !isLast { return .incomplete }
                finish(at: p, lines: lines)
                return .malformed("unexpected character after a closing quote on line \(startLine + lines)")
            }
            let s = p
            while p < n {
                let c = window[p]
                if c == d || c == 0x0A { break }
                p += 1
            }
            var e = p
            if p < n && window[p] == d {
                fields.append(CSVField(start: s, end: e, doubledQuotes: false))
                p += 1
                continue fieldLoop
            }
            if p >= n && !isLast { return .incomplete }
            if e > s && window[e - 1] == 0x0D { e -= 1 }
            fields.append(CSVField(start: s, end: e, doubledQuotes: false))
            break fieldLoop
        }
        // p is at the line feed (or CR LF, or the end).
        if p < n && window[p] == 0x0D { p += 1 }
        if p >= n && !isLast { return .incomplete }
        finish(at: p, lines: lines)
        recordLine = startLine
        return .record
    }

    private mutating func finish(at p: Int, lines: Int) {
        recordEnd = p
        recordLine = line
        position = p < window.count ? p + 1 : p  // past the line feed
        line += lines + 1
    }

    /// The text of a field, with doubled quotes undone.
    public func text(_ f: CSVField) -> String { Self.text(bytes(f), doubledQuotes: f.doubledQuotes, quote: dialect.quote) }

    /// A field's text with doubled quotes undone.
    static func text(_ span: UnsafeRawBufferPointer, doubledQuotes: Bool, quote: UInt8) -> String {
        guard doubledQuotes else { return String(decoding: span, as: UTF8.self) }
        var out: [UInt8] = []
        out.reserveCapacity(span.count)
        var i = 0
        while i < span.count {
            out.append(span[i])
            i += span[i] == quote && i + 1 < span.count && span[i + 1] == quote ? 2 : 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    public func bytes(_ f: CSVField) -> UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: window[f.start..<f.end]) }

    /// The raw bytes of the last record (for the quarantine).
    public var recordBytes: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(rebasing: window[recordStart..<min(recordEnd, window.count)])
    }
}

/// One record's fields over the window it was read from (what a parallel worker needs, without the reader).
public struct CSVRecordView {
    public let window: UnsafeRawBufferPointer
    public let quote: UInt8
    public let fields: ArraySlice<CSVField>
    public let start: Int
    public let end: Int

    public var count: Int { fields.count }

    public func bytes(_ i: Int) -> UnsafeRawBufferPointer {
        let f = fields[fields.startIndex + i]
        return UnsafeRawBufferPointer(rebasing: window[f.start..<f.end])
    }

    public func text(_ i: Int) -> String {
        CSVReader.text(bytes(i), doubledQuotes: fields[fields.startIndex + i].doubledQuotes, quote: quote)
    }

    public var recordBytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: window[start..<end]) }

    /// Whether a field holds doubled quotes, so its text (``text(_:)``) differs from its bytes.
    var hasDoubledQuotes: Bool { fields.contains { $0.doubledQuotes } }
}
