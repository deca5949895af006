/// A place in SQL text: byte offset, 1-based line and column (in characters).
public struct SourceLocation: Sendable, Hashable {
    public var offset: Int
    public var line: Int
    public var column: Int

    public init(offset: Int, line: Int, column: Int) {
        self.offset = offset
        self.line = line
        self.column = column
    }

    public static let unknown = SourceLocation(offset: -1, line: 0, column: 0)
}

/// An error in a statement: what is wrong, where, and (when there is one) a suggestion.
public struct SQLError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case syntax = "Parser Error"
        case binder = "Binder Error"
        case type = "Type Error"
        case unsupported = "Not Implemented"
        case runtime = "Runtime Error"
        case interrupted = "Interrupted"
    }

    public var kind: Kind
    public var message: String
    public var location: SourceLocation
    public var hint: String?

    public init(_ kind: Kind, _ message: String, at location: SourceLocation = .unknown, hint: String? = nil) {
        self.kind = kind
        self.message = message
        self.location = location
        self.hint = hint
    }

    public var description: String {
        var s = "\(kind.rawValue): \(message)"
        if location.line > 0 { s += " (line \(location.line), column \(location.column))" }
        if let hint { s += "\n\(hint)" }
        return s
    }

    /// The message with the offending line of `sql` and a caret under the spot.
    public func render(sql: String) -> String {
        var out = "\(kind.rawValue): \(message)"
        guard location.line > 0 else { return hint.map { out + "\n" + $0 } ?? out }
        out += "\nLINE \(location.line):"
        let lines = sql.split(separator: "\n", omittingEmptySubsequences: false)
        if location.line <= lines.count {
            let text = String(lines[location.line - 1]).replacingTabs()
            let prefix = "LINE \(location.line): "
            out = "\(kind.rawValue): \(message)\n\(prefix)\(text)\n"
            out += String(repeating: " ", count: prefix.count + max(0, location.column - 1)) + "^"
        }
        if let hint { out += "\n\(hint)" }
        return out
    }
}

extension String {
    fileprivate func replacingTabs() -> String { String(map { $0 == "\t" ? " " : $0 }) }
}

/// Up to three names from `candidates` closest to `name` (edit distance), for "did you mean" hints.
public func nearNames(_ name: String, in candidates: [String]) -> [String] {
    let target = Array(name.lowercased())
    let scored = candidates.map { c -> (String, Int) in (c, editDistance(target, Array(c.lowercased()))) }
    let limit = max(2, target.count / 3)
    return scored.filter { $0.1 <= limit }.sorted { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }.prefix(3).map(\.0)
}

func editDistance(_ a: [Character], _ b: [Character]) -> Int {
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    var prev = Array(0...b.count)
    var cur = prev
    for i in 1...a.count {
        cur[0] = i
        for j in 1...b.count {
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&prev, &cur)
    }
    return prev[b.count]
}

extension String {
    /// The text with each `'` doubled, for a SQL string literal.
    public var sqlQuoted: String {
        var out = ""
        for c in self {
            out.append(c)
            if c == "'" { out.append("'") }
        }
        return out
    }
}
