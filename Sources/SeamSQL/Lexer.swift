/// A token of SQL text.
public struct Token: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// A bare word (keyword or name); `text` keeps its spelling.
        case word
        /// A "double-quoted" name.
        case quotedName
        case string
        case integer
        case number
        case op
        case end
    }

    public var kind: Kind
    public var text: String
    public var location: SourceLocation

    /// True when this is the bare word `keyword` (an upper-case ASCII keyword), in any ASCII case. Compared byte by
    /// byte: counting characters and upper-casing a String per check was a tenth of parsing a short query.
    public func isWord(_ keyword: String) -> Bool {
        guard kind == .word, text.utf8.count == keyword.utf8.count else { return false }
        return text.utf8.elementsEqual(keyword.utf8) { a, b in a == b || (a >= 0x61 && a <= 0x7A && a - 0x20 == b) }
    }

    public func isOp(_ s: String) -> Bool { kind == .op && text == s }
}

/// Splits SQL text into tokens. Never traps: every input gives tokens or a located syntax error.
public enum Lexer {
    /// The operator starting at `chars[i]`, the longest that matches (`<=` before `<`), or nil: `::` `//` `<=` `>=`
    /// `<>` `!=` `==` `||` `->>` and `+ - * / % = < > ( ) , . ; [ ]`. A switch on the first character: trying each
    /// operator's text in turn was a fifth of tokenizing a short query.
    static func op(_ chars: [Unicode.Scalar], _ i: Int) -> String? {
        func at(_ k: Int) -> Unicode.Scalar? { i + k < chars.count ? chars[i + k] : nil }
        switch chars[i] {
        case ":": return at(1) == ":" ? "::" : nil
        case "/": return at(1) == "/" ? "//" : "/"
        case "<": return at(1) == "=" ? "<=" : at(1) == ">" ? "<>" : "<"
        case ">": return at(1) == "=" ? ">=" : ">"
        case "!": return at(1) == "=" ? "!=" : nil
        case "=": return at(1) == "=" ? "==" : "="
        case "|": return at(1) == "|" ? "||" : nil
        case "-": return at(1) == ">" && at(2) == ">" ? "->>" : "-"
        case "+": return "+"
        case "*": return "*"
        case "%": return "%"
        case "(": return "("
        case ")": return ")"
        case ",": return ","
        case ".": return "."
        case ";": return ";"
        case "[": return "["
        case "]": return "]"
        default: return nil
        }
    }

    public static func tokenize(_ sql: String) throws(SQLError) -> [Token] {
        var tokens: [Token] = []
        let chars = Array(sql.unicodeScalars)
        var i = 0
        var line = 1
        var lineStart = 0
        func loc(_ at: Int) -> SourceLocation { SourceLocation(offset: at, line: line, column: at - lineStart + 1) }
        // ASCII is told apart by value; the Unicode property look-ups (a few hundred instructions each) are for the
        // rest. A short query's text was a quarter of its time in this function before.
        func isIdentStart(_ c: Unicode.Scalar) -> Bool {
            c.value < 0x80 ? (c.value | 0x20 >= 0x61 && c.value | 0x20 <= 0x7A) || c == "_" : c.properties.isAlphabetic
        }
        func isIdentPart(_ c: Unicode.Scalar) -> Bool { isIdentStart(c) || ("0"..."9").contains(c) || c == "$" }
        func isSpace(_ c: Unicode.Scalar) -> Bool {
            c.value < 0x80 ? c.value == 0x20 || (c.value >= 0x09 && c.value <= 0x0D) : c.properties.isWhitespace
        }
        while i < chars.count {
            let c = chars[i]
            if c == "\n" {
                i += 1
                line += 1
                lineStart = i
                continue
            }
            if isSpace(c) {
                i += 1
                continue
            }
            // Comments: -- to the end of the line, /* … */.
            if c == "-" && i + 1 < chars.count && chars[i + 1] == "-" {
                while i < chars.count && chars[i] != "\n" { i += 1 }
                continue
            }
            if c == "/" && i + 1 < chars.count && chars[i + 1] == "*" {
                let start = loc(i)
                i += 2
                var closed = false
                while i < chars.count {
                    if chars[i] == "*" && i + 1 < chars.count && chars[i + 1] == "/" {
                        i += 2
                        closed = true
                        break
                    }
                    if chars[i] == "\n" {
                        line += 1
                        lineStart = i + 1
                    }
                    i += 1
                }
                if !closed { throw SQLError(.syntax, "unterminated /* comment", at: start) }
                continue
            }
            let start = i
            let startLoc = loc(i)
            if isIdentStart(c) {
                while i < chars.count && isIdentPart(chars[i]) { i += 1 }
                tokens.append(Token(kind: .word, text: text(chars, start, i), location: startLoc))
                continue
            }
            if ("0"..."9").contains(c) || (c == "." && i + 1 < chars.count && ("0"..."9").contains(chars[i + 1])) {
                var isInteger = true
                while i < chars.count && (("0"..."9").contains(chars[i]) || chars[i] == "_") { i += 1 }
                if i < chars.count && chars[i] == "." && !(i + 1 < chars.count && chars[i + 1] == ".") {
                    isInteger = false
                    i += 1
                    while i < chars.count && ("0"..."9").contains(chars[i]) { i += 1 }
                }
                if i < chars.count && (chars[i] == "e" || chars[i] == "E") {
                    var j = i + 1
                    if j < chars.count && (chars[j] == "+" || chars[j] == "-") { j += 1 }
                    if j < chars.count && ("0"..."9").contains(chars[j]) {
                        isInteger = false
                        i = j
                        while i < chars.count && ("0"..."9").contains(chars[i]) { i += 1 }
                    }
                }
                if i < chars.count && isIdentStart(chars[i]) {
                    throw SQLError(.syntax, "malformed number \"\(text(chars, start, i + 1))\"", at: startLoc)
                }
                tokens.append(Token(kind: isInteger ? .integer : .number, text: text(chars, start, i).filter { $0 != "_" }, location: startLoc))
                continue
            }
            if c == "'" || c == "\"" {
                let quote = c
                var value = String.UnicodeScalarView()
                i += 1
                var closed = false
                while i < chars.count {
                    if chars[i] == quote {
                        if i + 1 < chars.count && chars[i + 1] == quote {
                            value.append(quote)
                            i += 2
                            continue
                        }
                        i += 1
                        closed = true
                        break
                    }
                    if chars[i] == "\n" {
                        line += 1
                        lineStart = i + 1
                    }
                    value.append(chars[i])
                    i += 1
                }
                if !closed {
                    throw SQLError(.syntax, quote == "'" ? "unterminated string literal" : "unterminated quoted name", at: startLoc)
                }
                tokens.append(Token(kind: quote == "'" ? .string : .quotedName, text: String(value), location: startLoc))
                continue
            }
            guard let op = op(chars, i) else { throw SQLError(.syntax, "unexpected character \"\(Character(c))\"", at: startLoc) }
            tokens.append(Token(kind: .op, text: op, location: startLoc))
            i += op.utf8.count
        }
        tokens.append(Token(kind: .end, text: "", location: loc(i)))
        return tokens
    }

    /// The text of `chars[from..<to]`, written as UTF-8 straight into the String (appending a slice of scalars to a
    /// `UnicodeScalarView` took thousands of instructions per token).
    private static func text(_ chars: [Unicode.Scalar], _ from: Int, _ to: Int) -> String {
        let end = min(to, chars.count)
        guard from < end else { return "" }
        return String(unsafeUninitializedCapacity: (end - from) * 4) { out in
            var k = 0
            for c in chars[from..<end] {
                if c.value < 0x80 {
                    out[k] = UInt8(truncatingIfNeeded: c.value)
                    k += 1
                } else {
                    UTF8.encode(c) { unit in
                        out[k] = unit
                        k += 1
                    }
                }
            }
            return k
        }
    }

    /// Splits a script into statements at top-level `;` (outside strings, quoted names and comments).
    /// Returns each statement's text without the `;`, and whether the last one was terminated.
    public static func splitStatements(_ script: String) -> (statements: [String], complete: Bool) {
        var out: [String] = []
        var current = String.UnicodeScalarView()
        let chars = Array(script.unicodeScalars)
        var i = 0
        var quote: Unicode.Scalar? = nil
        while i < chars.count {
            let c = chars[i]
            if let q = quote {
                current.append(c)
                if c == q { quote = nil }
                i += 1
                continue
            }
            if c == "'" || c == "\"" {
                quote = c
            } else if c == "-" && i + 1 < chars.count && chars[i + 1] == "-" {
                while i < chars.count && chars[i] != "\n" { i += 1 }
                continue
            } else if c == "/" && i + 1 < chars.count && chars[i + 1] == "*" {
                current.append(c)
                current.append("*")
                i += 2
                while i < chars.count && !(chars[i] == "*" && i + 1 < chars.count && chars[i + 1] == "/") {
                    current.append(chars[i])
                    i += 1
                }
                if i < chars.count {
                    current.append("*")
                    current.append("/")
                    i += 2
                }
                continue
            } else if c == ";" {
                let s = String(current).trimmingWhitespace()
                if !s.isEmpty { out.append(s) }
                current = String.UnicodeScalarView()
                i += 1
                continue
            }
            current.append(c)
            i += 1
        }
        let rest = String(current).trimmingWhitespace()
        if !rest.isEmpty { out.append(rest) }
        return (out, rest.isEmpty && quote == nil)
    }
}

extension String {
    func trimmingWhitespace() -> String {
        let s = unicodeScalars
        guard let a = s.firstIndex(where: { !$0.properties.isWhitespace }) else { return "" }
        let b = s.lastIndex(where: { !$0.properties.isWhitespace })!
        return String(s[a...b])
    }
}
