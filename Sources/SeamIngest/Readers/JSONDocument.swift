import Foundation
import SeamColumnar

/// A parsed JSON text as a flat tape of entries over the input bytes (simdjson's idea, scalar here).
///
/// Parsing allocates nothing per value: entries go into one reused array and strings stay as spans of the
/// input until someone asks for them. Lookups compare key bytes in place. The document borrows the input:
/// it is valid only while the bytes it was parsed from are.
///
/// The grammar is RFC 8259 in full: every escape (with UTF-16 surrogate pairs), strict number syntax,
/// UTF-8 validation, any nesting up to ``JSONDocument/maxDepth``, nothing after the value but whitespace.
public struct JSONDocument {
    public enum Kind: UInt8, Sendable { case object, array, string, number, bool, null }

    /// A value in the document: an index into the tape.
    public struct Ref: Hashable, Sendable { let index: Int32 }

    struct Entry {
        var kind: Kind
        /// Strings: the span holds a backslash escape. Bools: the value.
        var flag: Bool
        /// Strings: the bytes between the quotes. Other kinds: the value's bytes.
        var start: Int32
        var end: Int32
        /// The tape index just past this value's subtree (skips a whole object or array in one step).
        var next: Int32
        /// Objects and arrays: members or elements.
        var count: Int32
    }

    public static let maxDepth = 256

    /// The tape: the document's entries first, then room for the next parse. (After a parse that threw, the tape
    /// holds whatever the parse wrote; a document whose parse threw is not read.)
    var entries = [Entry](repeating: Entry(kind: .null, flag: false, start: 0, end: 0, next: 0, count: 0), count: 256)
    public private(set) var bytes: UnsafeRawBufferPointer = UnsafeRawBufferPointer(start: nil, count: 0)

    public init() {}

    public var root: Ref { Ref(index: 0) }

    /// Parses `input` (one JSON text), replacing what the document held. Throws ``JSONError`` with the byte
    /// offset of the first problem.
    public mutating func parse(_ input: UnsafeRawBufferPointer) throws(JSONError) {
        guard input.count < Int(Int32.max) else { throw JSONError(offset: 0, "JSON text larger than 2 GiB") }
        bytes = input
        while true {
            let needed = try entries.withUnsafeMutableBufferPointer { tape throws(JSONError) -> Int in
                var p = JSONParser(bytes: input, tape: tape)
                try p.parseDocument()
                return p.count
            }
            if needed <= entries.count { return }
            // The tape was too small: it grows to what this text needs and the text is parsed again.
            entries = [Entry](repeating: entries[0], count: max(needed, entries.count * 2))
        }
    }

    public func kind(_ r: Ref) -> Kind { entries[Int(r.index)].kind }

    /// The member `key` of an object, or nil (also when `r` is not an object). The last duplicate wins, as in
    /// most JSON readers.
    public func member(_ r: Ref, _ key: StaticString) -> Ref? {
        key.withUTF8Buffer { k in member(r, UnsafeRawBufferPointer(k)) }
    }

    public func member(_ r: Ref, _ key: UnsafeRawBufferPointer) -> Ref? {
        let e = entries[Int(r.index)]
        guard e.kind == .object else { return nil }
        var i = Int(r.index) + 1
        var found: Ref?
        for _ in 0..<Int(e.count) {
            let keyEntry = entries[i]
            if keyMatches(keyEntry, key) { found = Ref(index: Int32(i + 1)) }
            i = Int(entries[i + 1].next)
        }
        return found
    }

    /// The members of object `r` named in `keys`, found in one pass over its members: `found[k]` is the member named
    /// `keys.names[k]` (the last duplicate wins, as with ``member(_:_:)-6d3d4``), nil when absent or `r` is not an
    /// object. For readers that look up many names of one object: `member` scans the object once per name.
    public func members(_ r: Ref, _ keys: JSONKeySet, into found: UnsafeMutableBufferPointer<Ref?>) {
        for k in found.indices { found[k] = nil }
        // The tape is read through a pointer: two bounds checks per member were a tenth of this loop.
        entries.withUnsafeBufferPointer { tape in
            let e = tape[Int(r.index)]
            guard e.kind == .object else { return }
            var i = Int(r.index) + 1
            for _ in 0..<Int(e.count) {
                precondition(i + 1 < tape.count, "a member past the tape")
                let key = tape[i]
                if key.flag {  // an escaped name (rare): compare its decoded text with each name
                    let text = JSONParser.unescape(UnsafeRawBufferPointer(rebasing: bytes[Int(key.start)..<Int(key.end)]))
                    if let k = keys.names.firstIndex(where: { $0.elementsEqual(text.utf8) }) { found[k] = Ref(index: Int32(i + 1)) }
                } else if let k = keys.index(of: UnsafeRawBufferPointer(start: bytes.baseAddress! + Int(key.start), count: Int(key.end &- key.start))) {
                    found[k] = Ref(index: Int32(truncatingIfNeeded: i + 1))
                }
                i = Int(tape[i + 1].next)
            }
        }
    }

    /// Follows a path of object keys: `path(root, "context", "device", "id")`. Two and three keys are spelled
    /// out rather than variadic: a variadic call allocates its array, once per message on the ingest path.
    public func path(_ r: Ref, _ a: StaticString, _ b: StaticString) -> Ref? {
        member(r, a).flatMap { member($0, b) }
    }

    public func path(_ r: Ref, _ a: StaticString, _ b: StaticString, _ c: StaticString) -> Ref? {
        path(r, a, b).flatMap { member($0, c) }
    }

    /// The members of an object in order, as (key, value) pairs.
    public func members(_ r: Ref) -> [(key: Ref, value: Ref)] {
        let e = entries[Int(r.index)]
        guard e.kind == .object else { return [] }
        var out: [(Ref, Ref)] = []
        out.reserveCapacity(Int(e.count))
        var i = Int(r.index) + 1
        for _ in 0..<Int(e.count) {
            out.append((Ref(index: Int32(i)), Ref(index: Int32(i + 1))))
            i = Int(entries[i + 1].next)
        }
        return out
    }

    /// The elements of an array in order.
    public func elements(_ r: Ref) -> [Ref] {
        let e = entries[Int(r.index)]
        guard e.kind == .array else { return [] }
        var out: [Ref] = []
        out.reserveCapacity(Int(e.count))
        var i = Int(r.index) + 1
        for _ in 0..<Int(e.count) {
            out.append(Ref(index: Int32(i)))
            i = Int(entries[i].next)
        }
        return out
    }

    /// A string value, unescaped. Nil for other kinds.
    public func string(_ r: Ref) -> String? {
        let e = entries[Int(r.index)]
        guard e.kind == .string else { return nil }
        let span = UnsafeRawBufferPointer(rebasing: bytes[Int(e.start)..<Int(e.end)])
        if !e.flag { return String(decoding: span, as: UTF8.self) }
        return JSONParser.unescape(span)
    }

    /// A string or the text of a number or bool (exports type ids either way: `"id": 42` or `"id": "42"`).
    public func text(_ r: Ref) -> String? {
        let e = entries[Int(r.index)]
        switch e.kind {
        case .string: return string(r)
        case .number, .bool: return String(decoding: raw(r), as: UTF8.self)
        default: return nil
        }
    }

    /// Whether ``text(_:)`` gives a value: a string, number or bool.
    public func hasText(_ r: Ref) -> Bool {
        switch entries[Int(r.index)].kind {
        case .string, .number, .bool: true
        default: false
        }
    }

    /// What ``text(_:)`` gives, as bytes handed to `body`: no String is made when the value has no escapes.
    public func withText<R>(_ r: Ref, _ body: (UnsafeRawBufferPointer) -> R) -> R? {
        let e = entries[Int(r.index)]
        switch e.kind {
        case .string where e.flag:
            var s = JSONParser.unescape(UnsafeRawBufferPointer(rebasing: bytes[Int(e.start)..<Int(e.end)]))
            return s.withUTF8 { body(UnsafeRawBufferPointer($0)) }
        case .string, .number, .bool: return body(UnsafeRawBufferPointer(rebasing: bytes[Int(e.start)..<Int(e.end)]))
        default: return nil
        }
    }

    /// The exact bytes of a value as written (objects and arrays included), e.g. to keep it as JSON.
    public func raw(_ r: Ref) -> UnsafeRawBufferPointer {
        let e = entries[Int(r.index)]
        if e.kind == .string { return UnsafeRawBufferPointer(rebasing: bytes[Int(e.start) - 1..<Int(e.end) + 1]) }
        return UnsafeRawBufferPointer(rebasing: bytes[Int(e.start)..<Int(e.end)])
    }

    /// The span of a number (or numeric string) for exact decimal parsing.
    public func numberText(_ r: Ref) -> UnsafeRawBufferPointer? {
        let e = entries[Int(r.index)]
        guard e.kind == .number || (e.kind == .string && !e.flag) else { return nil }
        return UnsafeRawBufferPointer(rebasing: bytes[Int(e.start)..<Int(e.end)])
    }

    public func double(_ r: Ref) -> Double? {
        guard let t = numberText(r) else { return nil }
        return Double(String(decoding: t, as: UTF8.self))
    }

    public func bool(_ r: Ref) -> Bool? {
        let e = entries[Int(r.index)]
        return e.kind == .bool ? e.flag : nil
    }

    func keyMatches(_ e: Entry, _ key: UnsafeRawBufferPointer) -> Bool {
        let n = Int(e.end - e.start)
        if e.flag {  // escaped key: compare decoded text (rare)
            let s = JSONParser.unescape(UnsafeRawBufferPointer(rebasing: bytes[Int(e.start)..<Int(e.end)]))
            return s.utf8.elementsEqual(key)
        }
        guard n == key.count else { return false }
        return StringSpans.equal(UnsafeRawBufferPointer(start: bytes.baseAddress! + Int(e.start), count: n), key)
    }
}

/// Member names to look up together (``JSONDocument/members(_:_:into:)``), indexed by a small table on the name's
/// length and first and last bytes, so a member that is none of them costs one table probe.
public struct JSONKeySet: Sendable {
    public let names: [[UInt8]]
    /// The names' bytes one after another, name k at `starts[k]..<starts[k + 1]`: probed without touching `names`.
    private let flat: [UInt8]
    private let starts: [Int]
    /// Slot → index into `names` + 1 (0: no name there; -1: several, search them all).
    private let table: [Int8]

    public init(_ names: [StaticString]) {
        self.init(bytes: names.map { Array(UnsafeBufferPointer(start: $0.utf8Start, count: $0.utf8CodeUnitCount)) })
    }

    public init(strings names: [String]) {
        self.init(bytes: names.map { Array($0.utf8) })
    }

    init(bytes names: [[UInt8]]) {
        precondition(names.count < 127, "too many names")
        self.names = names
        flat = self.names.flatMap { $0 }
        starts = self.names.reduce(into: [0]) { $0.append($0.last! + $1.count) }
        var t = [Int8](repeating: 0, count: 256)
        for (k, n) in self.names.enumerated() {
            let s = Self.slot(n.count, n.first ?? 0, n.last ?? 0)
            t[s] = t[s] == 0 ? Int8(k + 1) : -1
        }
        table = t
    }

    @inline(__always) static func slot(_ count: Int, _ first: UInt8, _ last: UInt8) -> Int {
        (count &* 31 &+ Int(first) &* 7 &+ Int(last)) & 255
    }

    @inline(__always) func matches(_ k: Int, _ key: UnsafeRawBufferPointer) -> Bool {
        let s = starts[k], n = starts[k + 1] - s
        return n == key.count && flat.withUnsafeBytes { StringSpans.equal(UnsafeRawBufferPointer(rebasing: $0[s..<s + n]), key) }
    }

    /// The index of `key` in `names`, or nil.
    @inline(__always) public func index(of key: UnsafeRawBufferPointer) -> Int? {
        let t = table[Self.slot(key.count, key.first ?? 0, key.last ?? 0)]
        if t == 0 { return nil }
        if t > 0 { return matches(Int(t) - 1, key) ? Int(t) - 1 : nil }
        return names.indices.first { matches($0, key) }
    }
}

/// A JSON syntax error at a byte offset of the text.
public struct JSONError: Error, Sendable, CustomStringConvertible {
    public var offset: Int
    public var message: String
    public init(offset: Int, _ message: String) {
        self.offset = offset
        self.message = message
    }
    public var description: String { "\(message) at byte \(offset + 1)" }
}
