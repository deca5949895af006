/// Recursive-descent parser from tokens to ``Statement``s. Errors point at the token where parsing stopped.
public struct Parser {
    private var tokens: [Token]
    private var pos = 0
    private var depth = 0

    /// Words that end an expression or a clause, so they are never taken as an implicit alias.
    static let reserved: Set<String> = [
        "SELECT", "FROM", "WHERE", "GROUP", "BY", "HAVING", "ORDER", "LIMIT", "OFFSET", "JOIN", "LEFT", "RIGHT", "INNER",
        "OUTER", "FULL", "CROSS", "ON", "USING", "AS", "AND", "OR", "NOT", "UNION", "CASE", "WHEN", "THEN", "ELSE", "END", "IS",
        "NULL", "IN", "BETWEEN", "LIKE", "ILIKE", "DISTINCT", "WITH", "FILTER", "OVER", "ASC", "DESC", "NULLS", "QUALIFY",
        "WINDOW", "ALL", "EXCEPT", "INTERSECT",
    ]

    public static func parse(_ sql: String) throws(SQLError) -> Statement {
        var p = Parser(tokens: try Lexer.tokenize(sql))
        while p.peek.isOp(";") { p.pos += 1 }
        let s = try p.statement()
        while p.peek.isOp(";") { p.pos += 1 }
        guard p.peek.kind == .end else { throw p.unexpected("end of statement") }
        return s
    }

    /// Parses one expression (tests, audiences' conditions).
    public static func parseExpression(_ sql: String) throws(SQLError) -> Expr {
        var p = Parser(tokens: try Lexer.tokenize(sql))
        let e = try p.expression()
        guard p.peek.kind == .end else { throw p.unexpected("end of expression") }
        return e
    }

    private init(tokens: [Token]) { self.tokens = tokens }

    private var peek: Token { tokens[pos] }
    private func peek(_ n: Int) -> Token { tokens[min(pos + n, tokens.count - 1)] }

    private mutating func advance() -> Token {
        let t = tokens[pos]
        if pos < tokens.count - 1 { pos += 1 }
        return t
    }

    private mutating func accept(_ word: String) -> Bool {
        if peek.isWord(word) {
            pos += 1
            return true
        }
        return false
    }

    private mutating func acceptOp(_ op: String) -> Bool {
        if peek.isOp(op) {
            pos += 1
            return true
        }
        return false
    }

    private mutating func expect(_ word: String) throws(SQLError) {
        guard accept(word) else { throw unexpected(word) }
    }

    private mutating func expectOp(_ op: String) throws(SQLError) {
        guard acceptOp(op) else { throw unexpected("\"\(op)\"") }
    }

    private func describe(_ t: Token) -> String {
        switch t.kind {
        case .end: return "end of input"
        case .string: return "'\(t.text)'"
        case .quotedName: return "\"\(t.text)\""
        default: return "\"\(t.text)\""
        }
    }

    private func unexpected(_ wanted: String) -> SQLError {
        SQLError(.syntax, "syntax error at or near \(describe(peek)), expected \(wanted)", at: peek.location)
    }

    // MARK: statements

    private mutating func statement() throws(SQLError) -> Statement {
        if accept("SHOW") {
            guard accept("TABLES") else { throw unexpected("TABLES") }
            return .showTables
        }
        if peek.isWord("DESCRIBE") || peek.isWord("DESC") {
            pos += 1
            if peek.isWord("SELECT") || peek.isWord("WITH") { return .describeQuery(try select()) }
            let t = peek
            return .describe(table: try name("a table name"), at: t.location)
        }
        if accept("EXPLAIN") {
            let analyze = accept("ANALYZE")
            return .explain(try select(), analyze: analyze)
        }
        if peek.isWord("SELECT") || peek.isWord("WITH") || peek.isOp("(") { return .select(try select()) }
        if peek.kind == .word {
            throw SQLError(
                .unsupported, "\(peek.text.uppercased()) statements are not supported; Seam's SQL is read-only (SELECT, WITH, SHOW TABLES, DESCRIBE, EXPLAIN)",
                at: peek.location)
        }
        throw unexpected("a statement")
    }

    private mutating func name(_ what: String) throws(SQLError) -> String {
        let t = peek
        if t.kind == .quotedName || (t.kind == .word && !Parser.reserved.contains(t.text.uppercased())) {
            pos += 1
            return t.text
        }
        throw unexpected(what)
    }

    private mutating func nest() throws(SQLError) {
        depth += 1
        if depth > 200 { throw SQLError(.syntax, "statement nested too deeply (over 200 levels)", at: peek.location) }
    }

    mutating func select() throws(SQLError) -> SelectStatement {
        try nest()
        defer { depth -= 1 }
        var ctes: [CommonTableExpression] = []
        if accept("WITH") {
            _ = accept("RECURSIVE")
            repeat {
                let at = peek.location
                let n = try name("a CTE name")
                try expect("AS")
                try expectOp("(")
                let q = try select()
                try expectOp(")")
                ctes.append(CommonTableExpression(name: n, query: q, location: at))
            } while acceptOp(",")
        }
        var stmt: SelectStatement
        if acceptOp("(") {
            stmt = try select()
            try expectOp(")")
            if !ctes.isEmpty { stmt.ctes = ctes + stmt.ctes }
        } else {
            stmt = SelectStatement(ctes: ctes, core: try selectCore())
        }
        while peek.kind == .word, let word = ["UNION", "INTERSECT", "EXCEPT"].first(where: { peek.isWord($0) }) {
            pos += 1
            let op: SetOperator = SetOperator(word: word, all: accept("ALL"))!
            if !op.keepsDuplicates { _ = accept("DISTINCT") }
            if peek.isOp("(") {
                pos += 1
                let inner = try select()
                try expectOp(")")
                guard inner.orderBy.isEmpty, inner.limit == nil, inner.setOperations.isEmpty, inner.ctes.isEmpty else {
                    throw SQLError(.unsupported, "a parenthesized \(word) arm with ORDER BY, LIMIT, WITH or a set operation of its own is not supported", at: peek.location)
                }
                stmt.setOperations.append((op, inner.core))
            } else {
                stmt.setOperations.append((op, try selectCore()))
            }
        }
        if accept("ORDER") {
            try expect("BY")
            if peek.isWord("ALL") {
                let at = peek.location
                pos += 1
                stmt.orderByAll = try orderDirection(.literal(.integer("0"), at: at))
            } else {
                stmt.orderBy = try orderItems()
            }
        }
        if accept("LIMIT") { stmt.limit = try expression() }
        if accept("OFFSET") { stmt.offset = try expression() }
        if stmt.limit == nil && accept("LIMIT") { stmt.limit = try expression() }
        return stmt
    }

    private mutating func orderItems() throws(SQLError) -> [OrderItem] {
        var items: [OrderItem] = []
        repeat {
            items.append(try orderDirection(try expression()))
        } while acceptOp(",")
        return items
    }

    /// `[ASC|DESC] [NULLS FIRST|LAST]` after a sort expression.
    private mutating func orderDirection(_ e: Expr) throws(SQLError) -> OrderItem {
        var desc = false
        if accept("DESC") { desc = true } else { _ = accept("ASC") }
        var nullsFirst: Bool? = nil
        if accept("NULLS") {
            if accept("FIRST") { nullsFirst = true } else if accept("LAST") { nullsFirst = false } else { throw unexpected("FIRST or LAST") }
        }
        return OrderItem(expr: e, descending: desc, nullsFirst: nullsFirst)
    }

    private mutating func selectCore() throws(SQLError) -> SelectCore {
        try expect("SELECT")
        var core = SelectCore()
        if accept("DISTINCT") { core.distinct = true } else { _ = accept("ALL") }
        repeat {
            if peek.isWord("FROM") { throw SQLError(.syntax, "SELECT list is empty", at: peek.location) }
            let e = try expression()
            if case .star = e {
                core.items.append(try starModifiers(SelectItem(expr: e, alias: nil)))
                continue
            }
            var alias: String? = nil
            if accept("AS") {
                alias = try name("an alias")
            } else if peek.kind == .quotedName || (peek.kind == .word && !Parser.reserved.contains(peek.text.uppercased())) {
                alias = try name("an alias")
            }
            core.items.append(SelectItem(expr: e, alias: alias))
        } while acceptOp(",")
        if accept("FROM") { core.from = try tableRef() }
        if accept("WHERE") { core.whereClause = try expression() }
        if accept("GROUP") {
            try expect("BY")
            if accept("ALL") {
                core.groupByAll = true
            } else {
                repeat {
                    if let sets = try groupingConstruct() { core.groupingSets.append(sets) } else { core.groupBy.append(try expression()) }
                } while acceptOp(",")
            }
        }
        if accept("HAVING") { core.having = try expression() }
        if accept("WINDOW") {
            repeat {
                let at = peek.location
                let n = try name("a window name")
                try expect("AS")
                try expectOp("(")
                core.windows.append((n, try windowSpec(), at))
                try expectOp(")")
            } while acceptOp(",")
        }
        if accept("QUALIFY") { core.qualify = try expression() }
        return core
    }

    /// `ROLLUP (a, b)` (sets a,b / a / none), `CUBE (a, b)` (every subset) or `GROUPING SETS (…)` (sets written out:
    /// `(a, b)`, `()` or one expression), as their sets; nil when the GROUP BY element is a plain expression.
    private mutating func groupingConstruct() throws(SQLError) -> [[Expr]]? {
        let at = peek.location
        func list() throws(SQLError) -> [Expr] {
            try expectOp("(")
            if acceptOp(")") { return [] }
            var es = [try expression()]
            while acceptOp(",") { es.append(try expression()) }
            try expectOp(")")
            return es
        }
        if (peek.isWord("ROLLUP") || peek.isWord("CUBE")) && peek(1).isOp("(") {
            let rollup = advance().text.uppercased() == "ROLLUP"
            let es = try list()
            if rollup { return (0...es.count).reversed().map { Array(es.prefix($0)) } }
            guard es.count <= 12 else { throw SQLError(.unsupported, "CUBE over more than 12 expressions (4,096 grouping sets)", at: at) }
            return (0..<(1 << es.count)).reversed().map { mask in es.indices.filter { mask & (1 << (es.count - 1 - $0)) != 0 }.map { es[$0] } }
        }
        guard peek.isWord("GROUPING"), peek(1).isWord("SETS") else { return nil }
        pos += 2
        try expectOp("(")
        var sets: [[Expr]] = []
        repeat {
            if peek.isOp("(") { sets.append(try list()) } else { sets.append([try expression()]) }
        } while acceptOp(",")
        try expectOp(")")
        return sets
    }

    /// `EXCLUDE (a, b)` / `EXCLUDE a` and `REPLACE (expr AS a, …)` after a star, in either order.
    private mutating func starModifiers(_ star: SelectItem) throws(SQLError) -> SelectItem {
        var item = star
        while true {
            if accept("EXCLUDE") {
                let parenthesized = acceptOp("(")
                repeat {
                    let at = peek.location
                    item.exclude.append((try name("a column name"), at))
                } while parenthesized && acceptOp(",")
                if parenthesized { try expectOp(")") }
            } else if accept("REPLACE") {
                let parenthesized = acceptOp("(")
                repeat {
                    let e = try expression()
                    try expect("AS")
                    item.replace.append((e, try name("a column name")))
                } while parenthesized && acceptOp(",")
                if parenthesized { try expectOp(")") }
            } else {
                return item
            }
        }
    }

    private mutating func tableRef() throws(SQLError) -> TableRef {
        var left = try tablePrimary()
        while true {
            let at = peek.location
            if acceptOp(",") {
                left = .join(left, try tablePrimary(), kind: .cross, on: nil, using: [], at: at)
                continue
            }
            var kind: JoinKind
            if accept("JOIN") {
                kind = .inner
            } else if accept("INNER") {
                try expect("JOIN")
                kind = .inner
            } else if let outer = [JoinKind.left, .right, .full].first(where: { peek.isWord($0.rawValue) }) {
                pos += 1
                _ = accept("OUTER")
                try expect("JOIN")
                kind = outer
            } else if accept("CROSS") {
                try expect("JOIN")
                kind = .cross
            } else {
                return left
            }
            let right = try tablePrimary()
            if kind == .cross {
                left = .join(left, right, kind: .cross, on: nil, using: [], at: at)
                continue
            }
            if accept("ON") {
                left = .join(left, right, kind: kind, on: try expression(), using: [], at: at)
            } else if accept("USING") {
                try expectOp("(")
                var cols: [String] = []
                repeat { cols.append(try name("a column name")) } while acceptOp(",")
                try expectOp(")")
                left = .join(left, right, kind: kind, on: nil, using: cols, at: at)
            } else {
                throw unexpected("ON or USING")
            }
        }
    }

    private mutating func alias() throws(SQLError) -> String? {
        if accept("AS") { return try name("an alias") }
        if peek.kind == .quotedName || (peek.kind == .word && !Parser.reserved.contains(peek.text.uppercased())) {
            return try name("an alias")
        }
        return nil
    }

    private mutating func tablePrimary() throws(SQLError) -> TableRef {
        let at = peek.location
        if acceptOp("(") {
            if accept("VALUES") {
                var rows: [[Expr]] = []
                repeat {
                    try expectOp("(")
                    var row = [try expression()]
                    while acceptOp(",") { row.append(try expression()) }
                    try expectOp(")")
                    rows.append(row)
                } while acceptOp(",")
                try expectOp(")")
                let a = try alias()
                return .values(rows: rows, alias: a, columns: a == nil ? [] : try columnAliases(), at: at)
            }
            let q = try select()
            try expectOp(")")
            let a = try alias()
            return try renamed(.subquery(q, alias: a, at: at), a == nil ? [] : try columnAliases(), at)
        }
        var n = try name("a table name")
        // `main.events`: a schema qualifier is accepted and ignored (there is one schema).
        if acceptOp(".") { n = try name("a table name") }
        let a = try alias()
        return try renamed(.table(name: n, alias: a, at: at), a == nil ? [] : try columnAliases(), at)
    }

    /// `(x, y)` after a table alias: names for the first columns; none when no parenthesis follows.
    private mutating func columnAliases() throws(SQLError) -> [String] {
        guard acceptOp("(") else { return [] }
        var names = [try name("a column name")]
        while acceptOp(",") { names.append(try name("a column name")) }
        try expectOp(")")
        return names
    }

    private func renamed(_ ref: TableRef, _ columns: [String], _ at: SourceLocation) throws(SQLError) -> TableRef {
        columns.isEmpty ? ref : .renamed(ref, columns: columns, at: at)
    }

    // MARK: expressions (lowest precedence first)

    mutating func expression() throws(SQLError) -> Expr {
        try nest()
        defer { depth -= 1 }
        return try orExpr()
    }

    private mutating func orExpr() throws(SQLError) -> Expr {
        var e = try andExpr()
        while peek.isWord("OR") {
            let at = advance().location
            e = .binary(.or, e, try andExpr(), at: at)
        }
        return e
    }

    private mutating func andExpr() throws(SQLError) -> Expr {
        var e = try notExpr()
        while peek.isWord("AND") {
            let at = advance().location
            e = .binary(.and, e, try notExpr(), at: at)
        }
        return e
    }

    private mutating func notExpr() throws(SQLError) -> Expr {
        if peek.isWord("NOT") && !peek(1).isWord("EXISTS") {
            let at = advance().location
            try nest()
            defer { depth -= 1 }
            return .unary(.not, try notExpr(), at: at)
        }
        return try comparison()
    }

    private mutating func comparison() throws(SQLError) -> Expr {
        var e = try concatExpr()
        while true {
            let t = peek
            if t.kind == .op, let op = Parser.comparisonOps[t.text] {
                pos += 1
                e = .binary(op, e, try concatExpr(), at: t.location)
                continue
            }
            if t.isWord("IS") {
                pos += 1
                let negated = accept("NOT")
                if accept("NULL") {
                    e = .isNull(e, negated: negated, at: t.location)
                } else if accept("DISTINCT") {
                    try expect("FROM")
                    e = .isDistinctFrom(e, try concatExpr(), negated: negated, at: t.location)
                } else if accept("TRUE") {
                    e = .isDistinctFrom(e, .literal(.boolean(true), at: t.location), negated: !negated, at: t.location)
                } else if accept("FALSE") {
                    e = .isDistinctFrom(e, .literal(.boolean(false), at: t.location), negated: !negated, at: t.location)
                } else {
                    throw unexpected("NULL, NOT NULL, TRUE, FALSE or DISTINCT FROM")
                }
                continue
            }
            if t.isWord("ISNULL") || t.isWord("NOTNULL") {
                pos += 1
                e = .isNull(e, negated: t.isWord("NOTNULL"), at: t.location)
                continue
            }
            var negated = false
            if t.isWord("NOT") && (peek(1).isWord("IN") || peek(1).isWord("BETWEEN") || peek(1).isWord("LIKE") || peek(1).isWord("ILIKE")) {
                pos += 1
                negated = true
            }
            let k = peek
            if accept("IN") {
                try expectOp("(")
                if peek.isWord("SELECT") || peek.isWord("WITH") {
                    let q = try select()
                    try expectOp(")")
                    e = .inSubquery(e, q, negated: negated, at: k.location)
                } else {
                    var list: [Expr] = []
                    repeat { list.append(try expression()) } while acceptOp(",")
                    try expectOp(")")
                    e = .inList(e, list, negated: negated, at: k.location)
                }
                continue
            }
            if accept("BETWEEN") {
                let lo = try concatExpr()
                try expect("AND")
                let hi = try concatExpr()
                e = .between(e, lo, hi, negated: negated, at: k.location)
                continue
            }
            if accept("LIKE") || accept("ILIKE") {
                let ci = k.isWord("ILIKE")
                let pattern = try concatExpr()
                let escape: Expr? = accept("ESCAPE") ? try concatExpr() : nil
                e = .like(e, pattern, caseInsensitive: ci, negated: negated, escape: escape, at: k.location)
                continue
            }
            if negated { throw unexpected("IN, BETWEEN, LIKE or ILIKE") }
            return e
        }
    }

    static let comparisonOps: [String: BinaryOperator] = [
        "=": .equal, "==": .equal, "<>": .notEqual, "!=": .notEqual, "<": .less, "<=": .lessEqual, ">": .greater, ">=": .greaterEqual,
    ]

    private mutating func concatExpr() throws(SQLError) -> Expr {
        var e = try additive()
        while peek.isOp("||") {
            let at = advance().location
            e = .binary(.concat, e, try additive(), at: at)
        }
        return e
    }

    private mutating func additive() throws(SQLError) -> Expr {
        var e = try multiplicative()
        while peek.isOp("+") || peek.isOp("-") {
            let t = advance()
            e = .binary(t.text == "+" ? .add : .subtract, e, try multiplicative(), at: t.location)
        }
        return e
    }

    private mutating func multiplicative() throws(SQLError) -> Expr {
        var e = try unaryExpr()
        while peek.isOp("*") || peek.isOp("/") || peek.isOp("//") || peek.isOp("%") {
            let t = advance()
            let op: BinaryOperator = t.text == "*" ? .multiply : t.text == "/" ? .divide : t.text == "//" ? .integerDivide : .modulo
            e = .binary(op, e, try unaryExpr(), at: t.location)
        }
        return e
    }

    private mutating func unaryExpr() throws(SQLError) -> Expr {
        if peek.isOp("-") || peek.isOp("+") {
            let t = advance()
            try nest()
            defer { depth -= 1 }
            let operand = try unaryExpr()
            // Fold the sign into a numeric literal so `-9223372036854775808` is representable.
            if t.text == "-", case .literal(.integer(let s), let at) = operand { return .literal(.integer("-" + s), at: at) }
            if t.text == "-", case .literal(.number(let s), let at) = operand { return .literal(.number("-" + s), at: at) }
            return .unary(t.text == "-" ? .negate : .plus, operand, at: t.location)
        }
        return try postfix()
    }

    private mutating func postfix() throws(SQLError) -> Expr {
        var e = try primary()
        while peek.isOp("::") {
            let at = advance().location
            e = .cast(e, typeName: try typeName(), at: at)
        }
        return e
    }

    private mutating func typeName() throws(SQLError) -> String {
        guard peek.kind == .word else { throw unexpected("a type name") }
        var s = advance().text.uppercased()
        if s == "DOUBLE" && accept("PRECISION") { return s }
        if s == "CHARACTER" && accept("VARYING") { s = "VARCHAR" }
        if acceptOp("(") {
            var args: [String] = []
            repeat {
                guard peek.kind == .integer else { throw unexpected("a number") }
                args.append(advance().text)
            } while acceptOp(",")
            try expectOp(")")
            s += "(" + args.joined(separator: ",") + ")"
        }
        return s
    }

    private mutating func primary() throws(SQLError) -> Expr {
        let t = peek
        switch t.kind {
        case .integer:
            pos += 1
            return .literal(.integer(t.text), at: t.location)
        case .number:
            pos += 1
            return .literal(.number(t.text), at: t.location)
        case .string:
            pos += 1
            return .literal(.string(t.text), at: t.location)
        case .quotedName:
            return try columnRef()
        case .end:
            throw unexpected("an expression")
        case .op:
            if t.isOp("(") {
                pos += 1
                if peek.isWord("SELECT") || peek.isWord("WITH") {
                    let q = try select()
                    try expectOp(")")
                    return .subquery(q, at: t.location)
                }
                let e = try expression()
                try expectOp(")")
                return e
            }
            if t.isOp("*") {
                pos += 1
                return .star(table: nil, at: t.location)
            }
            throw unexpected("an expression")
        case .word:
            break
        }
        let upper = t.text.uppercased()
        switch upper {
        case "NULL":
            pos += 1
            return .literal(.null, at: t.location)
        case "TRUE", "FALSE":
            pos += 1
            return .literal(.boolean(upper == "TRUE"), at: t.location)
        case "CASE":
            pos += 1
            return try caseExpr(t.location)
        case "CAST", "TRY_CAST":
            pos += 1
            try expectOp("(")
            let e = try expression()
            try expect("AS")
            let ty = try typeName()
            try expectOp(")")
            return .cast(e, typeName: ty, at: t.location)
        case "EXISTS":
            pos += 1
            try expectOp("(")
            let q = try select()
            try expectOp(")")
            return .exists(q, negated: false, at: t.location)
        case "NOT" where peek(1).isWord("EXISTS"):
            pos += 2
            try expectOp("(")
            let q = try select()
            try expectOp(")")
            return .exists(q, negated: true, at: t.location)
        case "TIMESTAMP", "DATE" where peek(1).kind == .string:
            pos += 1
            let s = advance().text
            return .literal(upper == "DATE" ? .date(s) : .timestamp(s), at: t.location)
        case "INTERVAL":
            pos += 1
            return try intervalLiteral(t.location)
        case "POSITION" where peek(1).isOp("("):
            // position(needle IN haystack): strpos(haystack, needle). The needle is read below comparisons, so its IN
            // is this syntax's, not a list's.
            pos += 2
            let needle = try concatExpr()
            try expect("IN")
            let haystack = try expression()
            try expectOp(")")
            return .function(
                FunctionCall(name: "strpos", arguments: [haystack, needle], distinct: false, star: false, filter: nil, over: nil, location: t.location))
        case "EXTRACT" where peek(1).isOp("("):
            pos += 2
            guard peek.kind == .word || peek.kind == .string else { throw unexpected("a date part") }
            let part = advance().text.lowercased()
            try expect("FROM")
            let e = try expression()
            try expectOp(")")
            return .function(
                FunctionCall(
                    name: "date_part", arguments: [.literal(.string(part), at: t.location), e], distinct: false, star: false, filter: nil,
                    over: nil, location: t.location))
        default:
            break
        }
        // left(s, n) and right(s, n) are functions where an expression stands (LEFT and RIGHT are reserved for joins).
        if peek(1).isOp("(") && (!Parser.reserved.contains(upper) || upper == "LEFT" || upper == "RIGHT") { return try functionCall() }
        if Parser.reserved.contains(upper) { throw unexpected("an expression") }
        return try columnRef()
    }

    private mutating func intervalLiteral(_ at: SourceLocation) throws(SQLError) -> Expr {
        if peek.kind == .string {
            // INTERVAL '30 days' or INTERVAL '30' DAY
            let s = advance().text.trimmingWhitespace()
            let parts = s.split(separator: " ", omittingEmptySubsequences: true)
            if parts.count == 2 { return .literal(.interval(count: String(parts[0]), unit: String(parts[1])), at: at) }
            if parts.count == 1, peek.kind == .word { return .literal(.interval(count: String(parts[0]), unit: advance().text), at: at) }
            throw SQLError(.syntax, "malformed interval '\(s)', expected for example INTERVAL 30 DAY or INTERVAL '30 days'", at: at)
        }
        var sign = ""
        if acceptOp("-") { sign = "-" }
        guard peek.kind == .integer || peek.kind == .number else {
            if peek.isOp("(") {
                throw SQLError(.unsupported, "INTERVAL with an expression is not supported; write a number, e.g. INTERVAL 30 DAY", at: peek.location)
            }
            throw unexpected("a number")
        }
        let n = sign + advance().text
        guard peek.kind == .word else { throw unexpected("a unit such as DAY or HOUR") }
        return .literal(.interval(count: n, unit: advance().text), at: at)
    }

    private mutating func caseExpr(_ at: SourceLocation) throws(SQLError) -> Expr {
        var operand: Expr? = nil
        if !peek.isWord("WHEN") { operand = try expression() }
        var whens: [(Expr, Expr)] = []
        while accept("WHEN") {
            let c = try expression()
            try expect("THEN")
            whens.append((c, try expression()))
        }
        if whens.isEmpty { throw unexpected("WHEN") }
        var otherwise: Expr? = nil
        if accept("ELSE") { otherwise = try expression() }
        try expect("END")
        return .caseWhen(operand: operand, whens: whens, otherwise: otherwise, at: at)
    }

    private mutating func functionCall() throws(SQLError) -> Expr {
        let t = advance()
        try expectOp("(")
        var call = FunctionCall(name: t.text.lowercased(), arguments: [], distinct: false, star: false, filter: nil, over: nil, location: t.location)
        if acceptOp("*") {
            call.star = true
        } else if !peek.isOp(")") {
            if accept("DISTINCT") { call.distinct = true } else { _ = accept("ALL") }
            repeat { call.arguments.append(try expression()) } while acceptOp(",")
        }
        if accept("ORDER") {
            try expect("BY")
            call.orderBy = try orderItems()
        }
        try expectOp(")")
        if accept("WITHIN") {
            try expect("GROUP")
            try expectOp("(")
            try expect("ORDER")
            try expect("BY")
            call.withinGroup = try orderDirection(try expression())
            try expectOp(")")
        }
        if accept("FILTER") {
            try expectOp("(")
            try expect("WHERE")
            call.filter = try expression()
            try expectOp(")")
        }
        if accept("OVER") {
            if peek.isOp("(") {
                pos += 1
                call.over = try windowSpec()
                try expectOp(")")
            } else {
                let at = peek.location
                call.over = WindowSpec(partitionBy: [], orderBy: [], base: (try name("a window name or ("), at))
            }
        }
        return .function(call)
    }

    /// The inside of `OVER (…)` or `WINDOW w AS (…)`: `[name] [PARTITION BY …] [ORDER BY …] [frame]`.
    private mutating func windowSpec() throws(SQLError) -> WindowSpec {
        var spec = WindowSpec(partitionBy: [], orderBy: [])
        if peek.kind == .quotedName || (peek.kind == .word && !["PARTITION", "ORDER", "ROWS", "RANGE", "GROUPS"].contains { peek.isWord($0) }) {
            let at = peek.location
            spec.base = (try name("a window name"), at)
        }
        if accept("PARTITION") {
            try expect("BY")
            repeat { spec.partitionBy.append(try expression()) } while acceptOp(",")
        }
        if accept("ORDER") {
            try expect("BY")
            spec.orderBy = try orderItems()
        }
        if peek.isWord("ROWS") || peek.isWord("RANGE") || peek.isWord("GROUPS") {
            spec.frame = try windowFrame()
        }
        return spec
    }

    /// `ROWS|RANGE|GROUPS BETWEEN a AND b`, or `… a` (through the current row). `RANGE UNBOUNDED PRECEDING AND
    /// CURRENT ROW` is the default frame: nil.
    private mutating func windowFrame() throws(SQLError) -> WindowFrame? {
        let at = peek.location
        let mode = peek.text.uppercased()
        pos += 1
        var start: FrameBound
        var end: FrameBound = .currentRow
        var offsets: [Literal?] = [nil, nil]
        let isRange = mode == "RANGE"
        if accept("BETWEEN") {
            (start, offsets[0]) = try frameBound(range: isRange)
            try expect("AND")
            (end, offsets[1]) = try frameBound(range: isRange)
        } else {
            (start, offsets[0]) = try frameBound(range: isRange)
        }
        let rank: (FrameBound) -> Int = { b in
            switch b {
            case .unboundedPreceding: return 0
            case .preceding: return 1
            case .currentRow: return 2
            case .following: return 3
            case .unboundedFollowing: return 4
            }
        }
        if start == .unboundedFollowing || end == .unboundedPreceding || rank(start) > rank(end) {
            throw SQLError(.syntax, "the frame starts after it ends (\(start.sql) AND \(end.sql))", at: at)
        }
        if isRange {
            if start == .unboundedPreceding && end == .currentRow { return nil }
            if start == .unboundedPreceding && end == .unboundedFollowing { return WindowFrame(start: start, end: end) }
            // With an offset, or from CURRENT ROW: the binder turns the offsets into the ORDER BY key's units.
            var frame = WindowFrame(start: start, end: end)
            frame.range = true
            frame.rangeOffsets = offsets
            return frame
        }
        var frame = WindowFrame(start: start, end: end)
        frame.groups = mode == "GROUPS"
        return frame
    }

    /// One end of a frame. In a RANGE frame an offset is a number or an INTERVAL, returned as written (the bound's
    /// own offset is 0 until the binder sets it).
    private mutating func frameBound(range: Bool) throws(SQLError) -> (FrameBound, Literal?) {
        if accept("UNBOUNDED") {
            if accept("PRECEDING") { return (.unboundedPreceding, nil) }
            if accept("FOLLOWING") { return (.unboundedFollowing, nil) }
            throw unexpected("PRECEDING or FOLLOWING")
        }
        if accept("CURRENT") {
            try expect("ROW")
            return (.currentRow, nil)
        }
        if range {
            let at = peek.location
            let literal: Literal
            if peek.isWord("INTERVAL") {
                pos += 1
                guard case .literal(let l, _) = try intervalLiteral(at) else { throw unexpected("an interval") }
                literal = l
            } else if peek.kind == .integer || peek.kind == .number {
                literal = peek.kind == .integer ? .integer(advance().text) : .number(advance().text)
            } else {
                throw SQLError(.syntax, "a RANGE frame bound is UNBOUNDED PRECEDING|FOLLOWING, CURRENT ROW, or a number or INTERVAL with PRECEDING|FOLLOWING", at: at)
            }
            if accept("PRECEDING") { return (.preceding(0), literal) }
            if accept("FOLLOWING") { return (.following(0), literal) }
            throw unexpected("PRECEDING or FOLLOWING")
        }
        return (try rowsBound(), nil)
    }

    private mutating func rowsBound() throws(SQLError) -> FrameBound {
        let at = peek.location
        guard peek.kind == .integer, let n = Int(peek.text), n >= 0 else {
            throw SQLError(.syntax, "a frame bound is UNBOUNDED PRECEDING|FOLLOWING, CURRENT ROW or a non-negative integer", at: at)
        }
        pos += 1
        // Past any partition's size every offset frames the same rows; capping keeps `row ± n` from overflowing.
        let rows = min(n, 1 << 40)
        if accept("PRECEDING") { return .preceding(rows) }
        if accept("FOLLOWING") { return .following(rows) }
        throw unexpected("PRECEDING or FOLLOWING")
    }

    private mutating func columnRef() throws(SQLError) -> Expr {
        let at = peek.location
        var parts = [try name("a column name")]
        while acceptOp(".") {
            if acceptOp("*") { return .star(table: parts.last, at: at) }
            parts.append(try name("a column name"))
        }
        return .column(parts: parts, at: at)
    }
}
