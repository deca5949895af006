import Foundation
import SeamColumnar
import SeamTestSupport
import Testing

@testable import SeamIngest

/// Parses into a document whose bytes stay alive for the test (the document borrows them).
func parse(_ s: String) throws -> (JSONDocument, [UInt8]) {
    let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, s.utf8.count), alignment: 1)
    _ = bytes.initializeMemory(as: UInt8.self, from: s.utf8)
    var doc = JSONDocument()
    try doc.parse(UnsafeRawBufferPointer(rebasing: bytes[0..<s.utf8.count]))
    return (doc, Array(s.utf8))
}

@Suite struct JSONTests {
    @Test func readsValuesEscapesAndNesting() throws {
        let text = #"{"a":"x\"y\\z\/\b\f\n\r\t","u":"\u00e9\ud83d\ude00","n":-12.5e+2,"z":0,"t":true,"f":false,"nul":null,"arr":[1,[2,{"k":"v"}],[]],"o":{},"dup":1,"dup":2,"é":"ü"}"#
        let (doc, bytes) = try parse(text)
        try bytes.withUnsafeBytes { _ in
            let r = doc.root
            #expect(doc.string(try #require(doc.member(r, "a"))) == "x\"y\\z/\u{8}\u{c}\n\r\t")
            #expect(doc.string(try #require(doc.member(r, "u"))) == "é😀")
            #expect(doc.double(try #require(doc.member(r, "n"))) == -1250)
            #expect(doc.bool(try #require(doc.member(r, "t"))) == true)
            #expect(doc.kind(try #require(doc.member(r, "nul"))) == .null)
            let arr = try #require(doc.member(r, "arr"))
            #expect(doc.elements(arr).count == 3)
            let inner = doc.elements(doc.elements(arr)[1])
            #expect(doc.string(try #require(doc.member(inner[1], "k"))) == "v")
            #expect(doc.text(try #require(doc.member(r, "dup"))) == "2")  // the last duplicate wins
            #expect(doc.members(r).count == 12)
            #expect(doc.string(try #require(doc.member(r, "é"))) == "ü")
        }
    }

    /// One document parses texts of every size in turn: a text with more values than its tape holds is parsed again
    /// on a larger tape, and a small text after a large one reads only its own values.
    @Test func theTapeGrowsAndIsReused() throws {
        var doc = JSONDocument()
        for n in [3, 2_000, 5, 700, 0, 70_000, 1] {
            let text = Array(("{\"xs\":[" + (0..<n).map { "{\"v\":\($0)}" }.joined(separator: ",") + "],\"n\":\(n)}").utf8)
            try text.withUnsafeBytes { bytes in
                try doc.parse(bytes)
                let xs = doc.elements(try #require(doc.member(doc.root, "xs")))
                #expect(xs.count == n)
                #expect(xs.enumerated().allSatisfy { k, x in doc.member(x, "v").flatMap(doc.double) == Double(k) })
                #expect(doc.member(doc.root, "n").flatMap(doc.double) == Double(n))
            }
        }
    }

    /// The string scan steps eight bytes at a time and lands on the first quote, backslash, control or non-ASCII byte
    /// of a word: each of them at every place in strings of every length up to 40 (past several words) is read
    /// right, and a control character is reported at its own offset.
    @Test func everySpecialByteAtEveryPlaceOfAString() throws {
        for length in 0...40 {
            for at in 0...length {
                let before = String(repeating: "a", count: at), after = String(repeating: "b", count: length - at)
                for (raw, decoded) in [("\\\"", "\""), ("\\n", "\n"), ("é", "é"), ("😀", "😀"), ("", "")] {
                    let (doc, bytes) = try parse("[\"" + before + raw + after + "\",1]")
                    try bytes.withUnsafeBytes { _ in
                        let first = try #require(doc.elements(doc.root).first)
                        #expect(doc.string(first) == before + decoded + after, "length \(length), at \(at), \(raw)")
                        #expect(doc.elements(doc.root).count == 2)
                    }
                }
                do {
                    _ = try parse("[\"" + before + "\u{1}" + after + "\"]")
                    Issue.record("a control character at \(at) of \(length) was accepted")
                } catch let e as JSONError {
                    #expect(e.offset == 2 + at, "length \(length), at \(at)")
                }
            }
        }
    }

    @Test(arguments: [
        "", "{", "}", "[1,]", "{\"a\":}", "{\"a\" 1}", "{a:1}", "01", "1.", ".5", "-", "1e", "+1", "\"abc", "\"a\u{1}b\"",
        "\"\\x\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00\"", "tru", "nul", "[1 2]", "{\"a\":1,}", "1 2", "[", "\"\\",
        "NaN", "Infinity", "[-]", "{\"a\":1}}",
    ])
    func rejectsInvalidText(_ text: String) {
        #expect(throws: JSONError.self) { _ = try parse(text) }
    }

    @Test func oneLookupOfManyNamesFindsWhatMemberFinds() throws {
        // Names that share a table slot ("ab"/"ba"-like collisions are forced by many short names), an empty name,
        // a duplicate member (the last wins), an escaped member name, and a name that is nowhere.
        let names: [StaticString] = ["type", "userId", "a", "b", "ab", "ba", "aab", "", "x\u{e9}", "missing", "event", "tvpe"]
        let keys = JSONKeySet(names)
        let texts = [
            #"{"type":"track","a":1,"b":2,"ab":3,"ba":4,"aab":5,"":6,"x\u00e9":7,"type":"page","tvpe":8}"#,
            #"{"userId":"u","event":"E","nested":{"type":"no"}}"#, #"[1,2]"#, #"{}"#,
        ]
        for text in texts {
            let (doc, _) = try parse(text)
            var found = [JSONDocument.Ref?](repeating: nil, count: names.count)
            found.withUnsafeMutableBufferPointer { doc.members(doc.root, keys, into: $0) }
            for (k, name) in names.enumerated() {
                #expect(found[k] == doc.member(doc.root, name), "\(name) in \(text)")
            }
        }
        let (doc, _) = try parse(texts[0])
        var found = [JSONDocument.Ref?](repeating: nil, count: names.count)
        found.withUnsafeMutableBufferPointer { doc.members(doc.root, keys, into: $0) }
        #expect(doc.string(found[0]!) == "page")
        #expect(doc.text(found[8]!) == "7")
        #expect(found[9] == nil)
    }

    @Test func rejectsInvalidUTF8AndDeepNesting() {
        for bad: [UInt8] in [[0x22, 0xFF, 0x22], [0x22, 0xC0, 0x80, 0x22], [0x22, 0xED, 0xA0, 0x80, 0x22], [0x22, 0xE2, 0x82, 0x22], [0x22, 0xF4, 0x90, 0x80, 0x80, 0x22]] {
            var doc = JSONDocument()
            #expect(throws: JSONError.self) { try bad.withUnsafeBytes { p in try doc.parse(p) } }
        }
        #expect(throws: JSONError.self) { _ = try parse(String(repeating: "[", count: 300) + String(repeating: "]", count: 300)) }
        #expect(throws: Never.self) { _ = try parse(String(repeating: "[", count: 200) + String(repeating: "]", count: 200)) }
    }

    /// Runs `text` through a ``JSONArraySplitter`` in windows of the given sizes, as the ingest does (the unused tail
    /// of a window starts the next one). Returns each element's bytes with its line and position, the stray pieces,
    /// the too-long elements, and how many windows it took.
    static func splitInWindows(_ text: [UInt8], sizes: () -> Int, maxElement: Int = 1 << 20)
        -> (elements: [(bytes: [UInt8], line: Int, sub: Int)], stray: Int, tooLong: [Int], windows: Int)
    {
        var splitter = JSONArraySplitter(maxElementBytes: maxElement)
        var elements: [(bytes: [UInt8], line: Int, sub: Int)] = []
        var stray = 0, tooLong: [Int] = [], windows = 0
        var carry: [UInt8] = [], at = 0
        while at < text.count || !carry.isEmpty {
            let take = min(max(1, sizes()), text.count - at)
            let window = carry + text[at..<at + take]
            at += take
            let isLast = at == text.count
            let (found, used) = window.withUnsafeBytes { splitter.split($0, isLast: isLast) }
            for e in found {
                #expect(e.start <= e.end && e.end <= window.count)
                elements.append((Array(window[e.start..<e.end]), e.line, e.sub))
            }
            for s in splitter.stray { #expect(s.start < s.end && s.end <= window.count) }
            for t in splitter.tooLong { #expect(t.start < t.end && t.end <= window.count) }
            stray += splitter.stray.count
            tooLong += splitter.tooLong.map(\.sub)
            (splitter.stray, splitter.tooLong) = ([], [])
            #expect(used >= 0 && used <= window.count)
            carry = isLast ? [] : Array(window[used...])
            windows += 1
            if windows > 4 * text.count + 8 { Issue.record("the splitter makes no progress"); break }
        }
        return (elements, stray, tooLong, windows)
    }

    /// Whatever the window sizes, the splitter finds the elements a whole parse finds, on the same lines; mutated
    /// arrays (stray brackets, commas, quotes, backslashes) never hang it or give ranges outside the window; an
    /// element over the limit is reported once and the ones after it still come out.
    @Test func fuzzedArraysSplitLikeAWholeParse() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("data/sample/web_events.jsonl")
        let messages = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").prefix(60).map(String.init)
        let text = Array(("[\n" + messages.joined(separator: ",\n  ") + "\n]\n").utf8)
        var rng = FixtureRandom(seed: Fuzz.seed(11))
        var doc = JSONDocument()
        try text.withUnsafeBytes { try doc.parse($0) }
        let whole = doc.elements(doc.root).map { Array(doc.raw($0)) }
        for _ in 0..<20 {
            let r = Self.splitInWindows(text) { Int(rng.next() % 700) }
            #expect(r.elements.map(\.bytes) == whole)
            #expect(r.elements.map(\.sub) == Array(1...whole.count))
            #expect(r.elements.map(\.line) == Array(2...whole.count + 1))
            #expect(r.stray == 0 && r.tooLong.isEmpty)
        }
        // An element over the limit: reported by its position, skipped as it streams by, the next ones found.
        let big = #"{"type":"page","note":""# + String(repeating: "x\\\"]},[", count: 400) + #""}"#
        let withBig = Array(("[" + messages[0] + ",\n" + big + ",\n" + messages[1] + "]").utf8)
        let limited = Self.splitInWindows(withBig, sizes: { 64 }, maxElement: 1000)
        #expect(limited.tooLong == [2] && limited.stray == 0)
        #expect(limited.elements.map(\.sub) == [1, 3] && limited.elements.map(\.line) == [1, 3])
        #expect(limited.elements.map { String(decoding: $0.bytes, as: UTF8.self) } == [messages[0], messages[1]])
        let small = Array(("[\n" + messages.prefix(15).joined(separator: ",\n  ") + "\n]\n").utf8)
        for i in 0..<Fuzz.iterations(400) {
            var b = small
            for _ in 0...Int(rng.next() % 6) {
                let pos = Int(rng.next() % UInt64(b.count))
                switch rng.next() % 3 {
                case 0: b[pos] = UInt8(truncatingIfNeeded: rng.next())
                case 1: b.remove(at: pos)
                default:
                    let alphabet = Array("{}[]\",\\\n ".utf8)
                    b.insert(alphabet[Int(rng.next() % UInt64(alphabet.count))], at: pos)
                }
                if b.isEmpty { b = [0x5B] }
            }
            let r = Self.splitInWindows(b, sizes: { Int(rng.next() % 300) }, maxElement: i % 3 == 0 ? 200 : 1 << 20)
            #expect(r.windows <= 4 * b.count + 8)
        }
    }

    /// Whether a comma, outside strings, is followed (after whitespace) by `}` or `]`.
    static func hasTrailingComma(_ b: [UInt8]) -> Bool {
        var inString = false, escaped = false, afterComma = false
        for c in b {
            if inString {
                if escaped { escaped = false } else if c == UInt8(ascii: "\\") { escaped = true } else if c == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch c {
            case UInt8(ascii: "\""): inString = true; afterComma = false
            case UInt8(ascii: ","): afterComma = true
            case UInt8(ascii: "}"), UInt8(ascii: "]"): if afterComma { return true }
            case 0x20, 0x09, 0x0A, 0x0D: break
            default: afterComma = false
            }
        }
        return false
    }

    /// Whether a parsed document holds a number whose value is past Double's range.
    static func holdsNumberBeyondDouble(_ doc: JSONDocument) -> Bool {
        func walk(_ r: JSONDocument.Ref) -> Bool {
            switch doc.kind(r) {
            case .number: return doc.double(r)?.isInfinite ?? false
            case .object: return doc.members(r).contains { walk($0.value) }
            case .array: return doc.elements(r).contains(where: walk)
            default: return false
            }
        }
        return walk(doc.root)
    }

    /// Fuzz: random mutations of real Segment messages never crash the parser or the source reader, and every
    /// accepted document agrees with Foundation's JSONSerialization on being valid.
    @Test func fuzzedMessagesNeverCrash() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("data/sample/mobile_events.jsonl")
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").prefix(200).map { Array($0.utf8) }
        var rng = FixtureRandom(seed: Fuzz.seed(7))
        var doc = JSONDocument()
        var accepted = 0, disagreements: [String] = []
        let source = SegmentSource(channel: "mobile_app")
        for i in 0..<Fuzz.iterations(20_000) {
            var b = lines[i % lines.count]
            for _ in 0...Int(rng.next() % 4) {
                let pos = Int(rng.next() % UInt64(b.count))
                switch rng.next() % 4 {
                case 0: b[pos] = UInt8(truncatingIfNeeded: rng.next())
                case 1: b.remove(at: pos)
                case 2:
                    let alphabet = Array("{}[]\",:\\0e-".utf8)
                    b.insert(alphabet[Int(rng.next() % UInt64(alphabet.count))], at: pos)
                default: b.removeLast(b.count - pos)
                }
                if b.isEmpty { b = [0x7B] }
            }
            var outOfRange = false
            let ok = b.withUnsafeBytes { p -> Bool in
                do { try doc.parse(p) } catch { return false }
                _ = source.record(doc)
                outOfRange = Self.holdsNumberBeyondDouble(doc)
                return true
            }
            // Foundation also accepts a trailing comma before } or ], which RFC 8259 does not: such texts are invalid.
            // It rejects a number beyond Double's range (`3e869`), which the grammar allows (RFC 8259 section 6 lets
            // a reader limit ranges; ours keeps the text, and money out of range is quarantined): such texts are valid.
            let foundation = ((try? JSONSerialization.jsonObject(with: Data(b), options: [.fragmentsAllowed])) != nil || outOfRange)
                && !Self.hasTrailingComma(b)
            if ok { accepted += 1 }
            if ok != foundation && disagreements.count < 5 { disagreements.append(String(decoding: b, as: UTF8.self)) }
        }
        #expect(accepted > 1000)
        #expect(disagreements.isEmpty, "parsers disagree on: \(disagreements)")
    }
}

/// A Segment message lands two ways: an ingest worker's piece copies its texts into the columns as bytes
/// (`SegmentRow`), and the public `record(_:)` gives a `ParsedRecord` of Strings. Both must give the same rows,
/// identifiers (with their hashes), notes and issues.
@Suite struct SegmentPathTests {
    struct Outcome: Equatable, CustomStringConvertible {
        var issue: String?
        var rows: [[Value]] = []
        var identifiers: [String] = []
        var notes: [String] = []

        init(issue: String? = nil, rows: [[Value]] = [], identifiers: [String] = [], notes: [String] = []) {
            (self.issue, self.rows, self.identifiers, self.notes) = (issue, rows, identifiers, notes)
        }

        var description: String { "issue \(issue ?? "-") rows \(rows) ids \(identifiers) notes \(notes)" }
    }

    static func viaPiece(_ text: [UInt8]) -> Outcome {
        var b = Ingestor.PieceBuilder(piece: 0, capacity: 4)
        var doc = JSONDocument()
        text.withUnsafeBytes { p in b.addMessage(parsing: p, scratch: &doc, line: 1, sub: 0, rawStart: 0, rawEnd: p.count) }
        let item = b.items[0]
        guard item.parsed else { return Outcome(issue: b.issues[Int(item.issue)].rule) }
        let chunk = b.rows.finish()
        return Outcome(
            rows: (0..<chunk.rowCount).map { r in chunk.columns.map { $0.value(at: r) } },
            identifiers: b.identifiers.map { f in
                "\(f.type.rawValue):\(String(decoding: b.identifierBytes[Int(f.bytes.lowerBound)..<Int(f.bytes.upperBound)], as: UTF8.self)) #\(f.hash)"
            },
            notes: b.notes.map(\.rule))
    }

    static func viaRecord(_ text: [UInt8]) -> Outcome {
        var doc = JSONDocument()
        return text.withUnsafeBytes { p -> Outcome in
            do { try doc.parse(p) } catch { return Outcome(issue: "broken_json") }
            switch Ingestor.segmentSource(for: doc).record(doc) {
            case .rejected(let why): return Outcome(issue: why.rule)
            case .parsed(let rec):
                var rows = RowBuilder(CanonicalTables.events)
                for r in rec.rows { rows.addEvent(r, customer: nil) }
                let chunk = rows.finish()
                return Outcome(
                    rows: (0..<chunk.rowCount).map { r in chunk.columns.map { $0.value(at: r) } },
                    identifiers: rec.identifiers.map { id in
                        var bytes: [UInt8] = []
                        return "\(id.type.rawValue):\(id.value) #\(IdentityGraph.FlatIdentifier(id, appendingTo: &bytes).hash)"
                    },
                    notes: rec.notes.map(\.rule))
            }
        }
    }

    static let messages: [String] = [
        #"{"type":"track","event":"Product Viewed","userId":"  u1 ","anonymousId":"a1","messageId":"m1","timestamp":"2026-03-01T10:00:00.000Z","properties":{"product_id":42,"category":"Caf\u00e9","price":"12.50","currency":"eur","campaign":true}}"#,
        #"{"type":"tr\u0061ck","event":"Product\u0020Added","userId":7,"messageId":"m2","timestamp":"2026-03-01T10:00:00Z","properties":{"sku":"S-1","currency":"Eür","price":3}}"#,
        #"{"type":"track","event":"Order Completed","anonymousId":"   ","context":{"device":{"id":" d-9 "}},"messageId":"m3","sentAt":"2026-03-01T10:00:05Z","receivedAt":"2026-03-01T10:00:07Z","timestamp":"2026-03-01T10:00:00Z","properties":{"currency":"usd","products":[{"product_id":"p1","price":10,"quantity":2},{"product_id":null,"sku":"k2","category":["x"],"price":1.005}]}}"#,
        #"{"type":"track","event":"Order Completed","userId":"u3","messageId":"m4","timestamp":"2026-03-01T10:00:00Z","properties":{"total":99.99}}"#,
        #"{"type":"track","event":"Something Else","userId":"u4","timestamp":"2026-03-01T10:00:00Z","properties":{"revenue":5,"currency":"GBP","campaign":"spring"}}"#,
        #"{"type":"track","event":"Email Unsubscribed","userId":"u5","messageId":"m6","timestamp":"2026-03-01T10:00:00Z"}"#,
        #"{"type":"page","name":"Home","anonymousId":"a7","messageId":"m7","timestamp":"2026-03-01T10:00:00+02:00","properties":{"path":"/"}}"#,
        #"{"type":"screen","name":"Cart","anonymousId":"a8","messageId":"m8","timestamp":"2026-03-01T10:00:00Z","context":{"library":{"name":"analytics-ios"}}}"#,
        #"{"type":"identify","userId":"u9","messageId":"m9","timestamp":"2026-03-01T10:00:00Z","traits":{"email":" Ann@Example.COM ","phone":"+1 415 555 0100","firstName":"ann","consent":{"email":true,"sms":false}}}"#,
        #"{"type":"group","userId":"u10","groupId":"g1","messageId":"m10","timestamp":"2026-03-01T10:00:00Z","traits":{"name":"Acme"}}"#,
        #"{"type":"alias","userId":"u11","previousId":" anon-11 ","messageId":"m11","timestamp":"2026-03-01T10:00:00Z"}"#,
        #"{"type":"bogus","userId":"u12","timestamp":"2026-03-01T10:00:00Z"}"#,
        #"{"type":"bogus","userId":"u13","timestamp":"yesterday"}"#,
        #"{"type":42,"userId":"u14","timestamp":"2026-03-01T10:00:00Z"}"#,
        #"{"type":"track","userId":"u15","timestamp":"2026-03-01T10:00:00Z"}"#,
        #"{"type":"track","event":7,"userId":"u16","timestamp":"2026-03-01T10:00:00Z"}"#,
        #"{"type":"track","event":"Order Refunded","userId":"u17","timestamp":"2026-03-01T10:00:00Z","properties":{"price":"abc","currency":"USD"}}"#,
        #"{"type":"track","event":"Product Viewed","userId":"u18","timestamp":"2026-03-01T10:00:00Z","properties":{"price":4}}"#,
        #"{"type":"track","event":"Product Viewed","userId":"u19","timestamp":"2026-03-01T10:00:00Z","properties":{"price":4,"currency":{"code":"USD"}}}"#,
        #"{"type":"track","event":"Product Viewed","userId":"u20","timestamp":"2026-03-01T10:00:00Z","properties":{"price":4,"currency":12}}"#,
    ]

    @Test func bothPathsGiveTheSameRows() {
        var parsed = 0
        for m in Self.messages {
            let text = Array(m.utf8)
            let piece = Self.viaPiece(text), record = Self.viaRecord(text)
            #expect(piece == record, "\(m)")
            if piece.issue == nil { parsed += 1 }
        }
        #expect(parsed >= 12)
        // Values are trimmed, numbers taken as written, blank ones dropped (both paths share this step).
        func ids(_ m: Int) -> [String] { Self.viaPiece(Array(Self.messages[m].utf8)).identifiers.map { String($0.prefix { $0 != " " }) } }
        #expect(ids(0) == ["user_id:u1", "anonymous_id:a1"])
        #expect(ids(1) == ["user_id:7"])
        #expect(ids(2) == ["device_id:d-9"])
        #expect(ids(10) == ["user_id:u11", "anonymous_id:anon-11"])
    }

    /// The same over random mutations of the messages above and of the sample's app messages.
    @Test func bothPathsAgreeOnMutatedMessages() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("data/sample/mobile_events.jsonl")
        let sample = try String(contentsOf: url, encoding: .utf8).split(separator: "\n").prefix(100).map { Array($0.utf8) }
        let lines = Self.messages.map { Array($0.utf8) } + sample
        var rng = FixtureRandom(seed: Fuzz.seed(11))
        var parsed = 0, disagreements: [String] = []
        for i in 0..<Fuzz.iterations(6_000) {
            var b = lines[i % lines.count]
            for _ in 0...Int(rng.next() % 3) {
                let pos = Int(rng.next() % UInt64(b.count))
                let alphabet = Array(" \"\\uaA0:,{}".utf8)
                switch rng.next() % 3 {
                case 0: b[pos] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
                case 1: b.remove(at: pos)
                default: b.insert(alphabet[Int(rng.next() % UInt64(alphabet.count))], at: pos)
                }
                if b.isEmpty { b = [0x7B] }
            }
            let piece = Self.viaPiece(b), record = Self.viaRecord(b)
            if piece.issue == nil { parsed += 1 }
            if piece != record && disagreements.count < 3 { disagreements.append(String(decoding: b, as: UTF8.self)) }
        }
        #expect(parsed > 1000)
        #expect(disagreements.isEmpty, "paths disagree on: \(disagreements)")
    }
}

@Suite struct CSVTests {
    static let text = "\u{FEFF}id,name,note\r\n1,\"Smith, Ann\",\"said \"\"hi\"\"\"\r\n2,Zoë,\"two\nlines\"\n\n3,,last"

    func records(_ bytes: [UInt8], window: Int) -> [[String]] {
        var out: [[String]] = []
        var start = 0, line = 1, first = true
        while start < bytes.count {
            let end = min(bytes.count, start + window)
            var done = false
            var grow = end
            while !done {
                let isLast = grow == bytes.count
                let consumed: Int = bytes[start..<grow].withUnsafeBytes { p in
                    var r = CSVReader(window: p, dialect: CSVDialect(), isLast: isLast, firstLine: line, skipBOM: first)
                    var fields: [CSVField] = []
                    var used = 0
                    while case .record = r.next(&fields) {
                        out.append(fields.map { r.text($0) })
                        used = r.position
                        line = r.line
                    }
                    return isLast ? p.count : used
                }
                if consumed == 0 && !isLast { grow = min(bytes.count, grow + window); continue }
                first = false
                start += consumed
                done = true
            }
        }
        return out
    }

    @Test func quotedFieldsCRLFAndBOM() {
        let r = records(Array(Self.text.utf8), window: 1 << 20)
        #expect(r == [["id", "name", "note"], ["1", "Smith, Ann", "said \"hi\""], ["2", "Zoë", "two\nlines"], [""], ["3", "", "last"]])
    }

    /// Streaming property: however the file is cut into windows, the records are the same.
    @Test func everyWindowSizeGivesTheSameRecords() {
        let bytes = Array(Self.text.utf8)
        let whole = records(bytes, window: 1 << 20)
        for w in 1...bytes.count { #expect(records(bytes, window: w) == whole, "window \(w)") }
    }

    /// A unit price times a quantity past Int64's minor units is a critical money issue in both readers, not a
    /// crash of the multiplication (the long JSON fuzz found prices like `3e869`; a large finite one multiplied).
    @Test func amountsPastTheRangeAreQuarantined() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let mapping = try Mapping.load(root.appendingPathComponent("data/mappings/pos.yaml").path)
        let header = "receipt_id,store_id,till,local_time,loyalty_id,phone,sku,product_name,quantity,unit_price,currency,line_type"
        let source = try CSVSource(mapping: mapping, header: header.split(separator: ",").map(String.init), file: "pos.csv")
        func csv(_ quantity: Int, _ price: String) -> RecordOutcome {
            let line = Array("S-1,US-1,till-1,2025-01-01T16:51:39-05:00,,,SKU-1,Thing,\(quantity),\(price),USD,sale\n".utf8)
            return line.withUnsafeBytes { p in
                var r = CSVReader(window: p, dialect: mapping.dialect, isLast: true, firstLine: 2, skipBOM: false)
                var fields: [CSVField] = []
                _ = r.next(&fields)
                return source.record(CSVRecordView(window: p, quote: mapping.dialect.quote, fields: fields[...], start: r.recordStart, end: r.recordEnd), occurrence: 0)
            }
        }
        func json(_ quantity: Int, _ price: String) -> RecordOutcome {
            let text = Array("""
                {"type":"track","event":"Product Added","messageId":"m1","userId":"u1","timestamp":"2024-11-20T22:32:00Z",\
                "properties":{"product_id":"SKU-1","price":\(price),"currency":"EUR","quantity":\(quantity)}}
                """.utf8)
            var doc = JSONDocument()
            return text.withUnsafeBytes { p in
                do { try doc.parse(p) } catch { return .rejected(QualityIssue(.error, "parse", "\(error)")) }
                return SegmentSource(channel: "web").record(doc)
            }
        }
        for (name, read) in [("csv", csv), ("json", json)] {
            for (quantity, price) in [(3, "90000000000000000"), (2, "3e869"), (1_000_000, "99999999999999")] {
                guard case .rejected(let issue) = read(quantity, price) else {
                    Issue.record("\(name): \(quantity) × \(price) landed")
                    continue
                }
                #expect(issue.severity == .critical && issue.rule == "bad_amount", "\(name): \(issue.rule) \(issue.message)")
            }
            guard case .parsed(let rec) = read(3, "12.5") else {
                Issue.record("\(name): a small amount did not land")
                continue
            }
            #expect(rec.rows.first?.amount == 3750, "\(name)")
        }
    }

    /// Fuzz: random mutations of the sample's POS export never crash the splitter or the mapping; what lands
    /// still obeys the mapping (a sale or a return with its amount and currency), what does not names a rule.
    @Test func fuzzedExportsNeverCrash() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try Array(Data(contentsOf: root.appendingPathComponent("data/sample/pos_transactions.csv")))
        let mapping = try Mapping.load(root.appendingPathComponent("data/mappings/pos.yaml").path)
        let header = String(decoding: text.prefix { $0 != 0x0A }, as: UTF8.self).split(separator: ",").map(String.init)
        let source = try CSVSource(mapping: mapping, header: header, file: "pos.csv")
        var rng = FixtureRandom(seed: Fuzz.seed(11))
        var outcomes = 0
        for _ in 0..<Fuzz.iterations(300) {
            var b = Array(text.prefix(4000))
            for _ in 0..<Int(rng.next() % 20) {
                let pos = Int(rng.next() % UInt64(b.count))
                let alphabet = Array("\",\r\n;-.0e\u{FF}".utf8)
                b[pos] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
            }
            b.withUnsafeBytes { p in
                var r = CSVReader(window: p, dialect: mapping.dialect, isLast: true, firstLine: 1, skipBOM: true)
                var fields: [CSVField] = []
                while true {
                    let step = r.next(&fields)
                    if step == .end { break }
                    guard step == .record else { continue }
                    let view = CSVRecordView(window: p, quote: mapping.dialect.quote, fields: fields[...], start: r.recordStart, end: r.recordEnd)
                    switch source.record(view, occurrence: 0) {
                    case .parsed(let rec):
                        guard let row = rec.rows.first else {
                            Issue.record("a mapped record without a row")
                            continue
                        }
                        let mapped = row.eventType == "purchase" || row.eventType == "return"
                        #expect(mapped || rec.notes.contains { $0.rule == "unmapped_event_type" }, "\(row.eventType)")
                        #expect(row.amount == nil || row.currency != nil)
                        #expect((row.quantity ?? 1) >= 0 || !mapped)
                    case .rejected(let issue):
                        #expect(issue.severity.quarantines, "\(issue.rule)")
                    }
                    outcomes += 1
                }
            }
        }
        #expect(outcomes > 1000)
    }

    @Test func unclosedQuoteIsMalformedWithItsLine() {
        let bytes = Array("a,b\n1,\"open\n2,3\n".utf8)
        bytes.withUnsafeBytes { p in
            var r = CSVReader(window: p, dialect: CSVDialect(), isLast: true, firstLine: 1, skipBOM: true)
            var f: [CSVField] = []
            #expect(r.next(&f) == .record)
            #expect(r.next(&f) == .malformed("a quoted field opened on line 2 is never closed"))
        }
    }
}

@Suite struct GzipFuzzTests {
    /// Random damage to a gzip file never crashes the reader: it stops with a located `damage`, or, when it reports
    /// none, what it read is the original text byte for byte (the gzip trailer's CRC-32 and length vouch for it).
    @Test func fuzzedGzipNeverCrashes() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let original = try Array(Data(contentsOf: root.appendingPathComponent("data/sample/pos_transactions.csv")))
        let dir = VectorFixtures.temporaryDirectory("gzfuzz")
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try IngestEndToEndTests.gzip(root.appendingPathComponent("data/sample/pos_transactions.csv").path, to: dir + "/clean.gz")
        let packed = try Array(Data(contentsOf: URL(fileURLWithPath: dir + "/clean.gz")))
        var rng = FixtureRandom(seed: Fuzz.seed(5))
        var damaged = 0, intact = 0
        for k in 0..<Fuzz.iterations(200) {
            var b = packed
            for _ in 0...Int(rng.next() % 3) {
                let pos = Int(rng.next() % UInt64(b.count))
                switch rng.next() % 3 {
                case 0: b[pos] = UInt8(truncatingIfNeeded: rng.next())
                case 1: b.removeLast(b.count - max(pos, 2))
                default: b.insert(UInt8(truncatingIfNeeded: rng.next()), at: pos)
                }
            }
            let path = dir + "/m\(k % 4).gz"
            try Data(b).write(to: URL(fileURLWithPath: path))
            let fd = open(path, O_RDONLY)
            defer { close(fd) }
            let stream = try InputStream(fd: fd, fileBytes: b.count, path: path, gzip: true)
            var out: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let got = try buffer.withUnsafeMutableBytes { try stream.read(into: $0.baseAddress!, count: $0.count) }
                if got == 0 { break }
                out.append(contentsOf: buffer[..<got])
                #expect(out.count <= original.count * 4, "runaway output")
                if out.count > original.count * 4 { break }
            }
            if stream.damage != nil { damaged += 1 } else {
                intact += 1
                #expect(out == original, "no damage reported, yet the text differs (mutation \(k))")
            }
        }
        #expect(damaged > 0)
    }
}

/// Fuzz sizes: the suite's defaults, or longer runs on demand (`SEAM_FUZZ_SCALE=100 SEAM_FUZZ_SEED=3 swift test
/// --filter fuzzed`). The defaults keep `make test` fast and deterministic.
enum Fuzz {
    static func iterations(_ base: Int) -> Int {
        base * (ProcessInfo.processInfo.environment["SEAM_FUZZ_SCALE"].flatMap { Int($0) } ?? 1)
    }

    static func seed(_ base: UInt64) -> UInt64 {
        base &+ (ProcessInfo.processInfo.environment["SEAM_FUZZ_SEED"].flatMap { UInt64($0) } ?? 0)
    }
}
