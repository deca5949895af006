/// Finds the elements of one top-level JSON array as it streams by in windows, without parsing them: it follows
/// only strings (with their escapes) and nesting. Each element's bytes are then parsed on their own, so an array
/// larger than memory allows for one document is read in bounded memory, and a broken element costs only itself.
///
/// Windows are handed in order; each call returns the elements that end inside the window and how many bytes it
/// used. The bytes not used (an element still open) start the next window, and scanning resumes at that element.
/// An element longer than `maxElementBytes` is not kept: it is reported (``tooLong``) and skipped to its end.
struct JSONArraySplitter {
    /// One element: its bytes (offsets into the window, whitespace trimmed), the line it starts on, its position
    /// in the array (from 1).
    typealias Element = (start: Int, end: Int, line: Int, sub: Int)

    enum State { case beforeArray, inArray, afterArray }

    let maxElementBytes: Int
    private(set) var state = State.beforeArray
    /// The line of the first byte of the next window.
    private(set) var line = 1
    private var count = 0
    private var first = true
    /// Whether an element may come next (after the `[` or a `,`), and whether a `,` was the last thing seen.
    private var expectElement = true
    private var afterComma = false
    /// Where the scan of an element stands: nesting, inside a string, right after a backslash in one.
    private struct Scan {
        var depth = 0
        var inString = false
        var escaped = false
    }
    /// The scan of an element too long to keep, carried across windows until its end.
    private var skipping: Scan?

    /// What came where no element or separator may stand: text before the `[`, a missing `,`, something after the
    /// `]` (offsets into the window, and the line), for the caller to quarantine.
    var stray: [(start: Int, end: Int, line: Int)] = []
    /// Elements longer than `maxElementBytes`: their first bytes (offsets into the window), line and position.
    var tooLong: [Element] = []

    init(maxElementBytes: Int) { self.maxElementBytes = maxElementBytes }

    /// Scans from `q` with `scan` to the `,` or closer that ends the element (its offset), or nil at the window's end.
    private static func scanToEnd(_ w: UnsafeRawBufferPointer, from q: inout Int, _ scan: inout Scan, lines: inout Int) -> Int? {
        while q < w.count {
            let b = w[q]
            if b == 0x0A { lines += 1 }
            if scan.escaped {
                scan.escaped = false
            } else if scan.inString {
                if b == UInt8(ascii: "\\") {
                    scan.escaped = true
                } else if b == UInt8(ascii: "\"") {
                    scan.inString = false
                }
            } else if b == UInt8(ascii: "\"") {
                scan.inString = true
            } else if b == UInt8(ascii: "{") || b == UInt8(ascii: "[") {
                scan.depth += 1
            } else if b == UInt8(ascii: "}") || b == UInt8(ascii: "]") {
                if scan.depth == 0 { return q }
                scan.depth -= 1
            } else if b == UInt8(ascii: ",") && scan.depth == 0 {
                return q
            }
            q += 1
        }
        return nil
    }

    mutating func split(_ w: UnsafeRawBufferPointer, isLast: Bool) -> (elements: [Element], used: Int) {
        var out: [Element] = []
        var p = 0
        if first, w.count >= 3, w[0] == 0xEF, w[1] == 0xBB, w[2] == 0xBF { p = 3 }
        first = false
        var line = self.line
        if var scan = skipping {
            // The rest of an element too long to keep: find its end, keep nothing.
            guard let end = Self.scanToEnd(w, from: &p, &scan, lines: &line) else {
                skipping = isLast ? nil : scan
                self.line = line
                return (out, w.count)
            }
            skipping = nil
            p = end
        }
        func skipSpace() {
            while p < w.count, w[p] == 0x20 || w[p] == 0x0A || w[p] == 0x0D || w[p] == 0x09 {
                if w[p] == 0x0A { line += 1 }
                p += 1
            }
        }
        /// Runs to the end of the line (or window): the extent of a stray piece of text.
        func strayUntilLineEnd() {
            let s = p, l = line
            while p < w.count, w[p] != 0x0A { p += 1 }
            stray.append((s, p, l))
        }
        while p < w.count {
            skipSpace()
            guard p < w.count else { break }
            switch state {
            case .beforeArray:
                if w[p] == UInt8(ascii: "[") {
                    state = .inArray
                    p += 1
                } else {
                    strayUntilLineEnd()
                }
            case .afterArray:
                strayUntilLineEnd()
            case .inArray:
                let c = w[p]
                if c == UInt8(ascii: "]") {
                    if afterComma { stray.append((p, p + 1, line)) }  // `[1,]`: a `,` with nothing after it
                    state = .afterArray
                    p += 1
                    continue
                }
                if c == UInt8(ascii: ",") && !expectElement {
                    expectElement = true
                    afterComma = true
                    p += 1
                    continue
                }
                // An element: up to the `,` or closer at its own level, outside strings.
                let start = p, startLine = line
                var scan = Scan(), q = p
                let end = Self.scanToEnd(w, from: &q, &scan, lines: &line)
                if end == start {
                    // Nothing before a closer or `,` where an element should start (`[,1]`, `[1}`): that one byte is
                    // stray; step over it.
                    stray.append((start, start + 1, startLine))
                    p = start + 1
                    continue
                }
                if end == nil && !isLast {
                    if w.count - start <= maxElementBytes {
                        // Still open at the window's end: it starts the next window, scanned again from its start.
                        self.line = startLine
                        return (out, start)
                    }
                    // Too long to keep: reported by its first bytes, the rest skipped as it streams by.
                    count += 1
                    tooLong.append((start, min(w.count, start + 4096), startLine, count))
                    expectElement = false
                    afterComma = false
                    skipping = scan
                    self.line = line
                    return (out, w.count)
                }
                var e = end ?? w.count
                while e > start, w[e - 1] == 0x20 || w[e - 1] == 0x0A || w[e - 1] == 0x0D || w[e - 1] == 0x09 { e -= 1 }
                if !expectElement {
                    stray.append((start, e, startLine))  // two elements without a `,` between them
                } else {
                    count += 1
                    out.append((start, e, startLine, count))
                }
                expectElement = false
                afterComma = false
                p = end ?? w.count
            }
        }
        self.line = line
        return (out, w.count)
    }
}
