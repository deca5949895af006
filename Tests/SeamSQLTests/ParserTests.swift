import SeamColumnar
import SeamSQL
import SeamTestSupport
import Testing

/// A catalog of two tables for binding without a store.
struct TestCatalog: Catalog {
    func tableNames() -> [String] { ["events", "customers"] }
    func schema(of table: String) -> Schema? {
        switch table {
        case "events": return CanonicalTables.events
        case "customers": return CanonicalTables.customers
        default: return nil
        }
    }
}

@Suite struct ParserTests {
    func error(_ sql: String) -> SQLError? {
        do {
            _ = try Binder(catalog: TestCatalog()).bind(try Parser.parse(sql))
            return nil
        } catch {
            return error
        }
    }

    @Test func syntaxErrorsPointAtTheToken() throws {
        let e = try #require(error("SELECT channel,\n  count(*\nFROM events"))
        #expect(e.kind == .syntax)
        #expect(e.location.line == 3 && e.location.column == 1)
        #expect(e.render(sql: "SELECT channel,\n  count(*\nFROM events").hasSuffix("LINE 3: FROM events\n        ^"))
        let u = try #require(error("SELECT 'open"))
        #expect(u.message.contains("unterminated string") && u.location.column == 8)
    }

    @Test func unknownNamesSuggestNearOnes() throws {
        let t = try #require(error("SELECT * FROM event"))
        #expect(t.message.contains("Table with name event does not exist") && t.hint == "Did you mean \"events\"?")
        let c = try #require(error("SELECT evnt_type FROM events"))
        #expect(c.hint?.contains("event_type") == true && c.location.column == 8)
        let f = try #require(error("SELECT cout(*) FROM events"))
        #expect(f.message.contains("cout") && f.hint?.contains("count") == true)
    }

    @Test func typeMismatchesAreExplained() throws {
        let e = try #require(error("SELECT * FROM events WHERE amount = channel"))
        #expect(e.kind == .type && e.message.contains("DECIMAL(18,2)") && e.message.contains("VARCHAR"))
        let g = try #require(error("SELECT channel, count(*) FROM events"))
        #expect(g.message.contains("must appear in the GROUP BY clause"))
        let w = try #require(error("SELECT * FROM events WHERE sum(amount) > 1"))
        #expect(w.message.contains("aggregate functions are not allowed in WHERE"))
        let n = try #require(error("SELECT sum(count(*)) FROM events"))
        #expect(n.message.contains("cannot be nested"))
    }

    @Test func statementsSplitOutsideQuotesAndComments() {
        let (s, complete) = Lexer.splitStatements("SELECT ';'; -- a ; comment\nSELECT \"a;b\" /* ; */ FROM t;\nSELECT 3")
        #expect(s.count == 3 && s[0] == "SELECT ';'" && !complete)
        #expect(Lexer.splitStatements("SELECT 1;").complete)
    }

    @Test func operatorsTokenizeLongestFirst() throws {
        let ops = try Lexer.tokenize("a::b//c<=d>=e<>f!=g==h||i->>j+-*/%=<>(),.;[]").filter { $0.kind == .op }.map(\.text)
        #expect(ops == ["::", "//", "<=", ">=", "<>", "!=", "==", "||", "->>", "+", "-", "*", "/", "%", "=", "<>", "(", ")", ",", ".", ";", "[", "]"])
        // `->` is not an operator: a minus, then a greater-than; `< =` apart are two.
        #expect(try Lexer.tokenize("a->b < = c").filter { $0.kind == .op }.map(\.text) == ["-", ">", "<", "="])
        for bad in ["a : b", "a ! b", "a | b", "a ? b"] {
            let e = error("SELECT \(bad) FROM events")
            #expect(e?.kind == .syntax && e?.message.contains("unexpected character") == true, "\(bad)")
        }
    }

    @Test func namesMatchInAnyCase() throws {
        #expect(error("SELECT AmOuNt, E.CHANNEL FROM events e WHERE Event_Type = 'x'") == nil)
        let c = try #require(error("SELECT amounts FROM events"))
        #expect(c.message.contains("amounts"))
        #expect(error("SELECT \"EVENT_TYPE\" FROM events") == nil)
        // A prefix, a longer name, and names with non-ASCII letters (compared lower-cased) do not match.
        for name in ["\"event_typ\"", "\"event_types\"", "\"ÉVENT_TYPE\"", "\"amöunt\""] {
            #expect(error("SELECT \(name) FROM events")?.message.contains("not found") == true, "\(name)")
        }
    }

    @Test func optimizerPrunesColumnsAndPushesFilters() throws {
        let sql = "SELECT c.email FROM events e JOIN customers c ON e.customer_id = c.customer_id WHERE e.channel = 'web' AND c.orders > 2"
        guard case .query(let plan) = try Binder(catalog: TestCatalog()).bind(try Parser.parse(sql)) else { return }
        let text = Optimizer.optimize(plan).explain()
        #expect(text.contains("SCAN events [customer_id, channel] zone filters: (channel = 'web')"), "\(text)")
        #expect(text.contains("SCAN customers [customer_id, email, orders] zone filters: (orders > 2)"), "\(text)")
    }

    /// Random mutations of valid statements: the lexer, parser and binder must return a statement or a
    /// located error for every one, never trap.
    @Test func fuzzNeverCrashes() {
        let corpus = [
            "SELECT channel, count(*) AS n, sum(amount) FILTER (WHERE event_type = 'purchase') FROM events WHERE ts >= TIMESTAMP '2024-01-01' - INTERVAL 30 DAY GROUP BY 1 HAVING n > 2 ORDER BY n DESC NULLS LAST LIMIT 10",
            "WITH c AS (SELECT customer_id, ntile(4) OVER (ORDER BY sum(amount) DESC) AS q FROM events GROUP BY customer_id) SELECT q, count(*) FROM c GROUP BY q",
            "SELECT e.*, c.email FROM events e LEFT JOIN customers c USING (customer_id) WHERE e.product_id IN (SELECT product_id FROM events LIMIT 3) AND CAST(e.quantity AS BIGINT) BETWEEN 1 AND 3",
            "SELECT CASE WHEN amount > 10 THEN 'a' ELSE lower(channel) || '-' END, json_extract_string(properties, '$.a[0]') FROM events WHERE channel LIKE 'w%' OR channel ILIKE '%APP'",
            "SELECT c.email, sum(amount) OVER (PARTITION BY e.customer_id ORDER BY ts ROWS BETWEEN 2 PRECEDING AND 1 FOLLOWING) FROM events e RIGHT JOIN customers c ON e.customer_id = c.customer_id ORDER BY ALL DESC NULLS FIRST",
            "SELECT c.customer_id, (SELECT count(*) + c.orders FROM events e WHERE e.customer_id = c.customer_id AND e.ts::DATE >= DATE '2024-01-01') FROM customers c WHERE NOT EXISTS (SELECT 1 FROM events x WHERE x.customer_id = c.customer_id ORDER BY ts LIMIT 1)",
            "SELECT (SELECT count(*) FROM events e WHERE e.customer_id = c.customer_id GROUP BY c.orders HAVING count(*) > c.orders) FROM customers c GROUP BY c.country",
            "SELECT ts::DATE - DATE '2024-01-01' + 1, current_date, (SELECT max(e2.ts)::DATE FROM events e2 WHERE e2.channel = events.channel GROUP BY ALL) FROM events GROUP BY ALL",
        ]
        let pieces = ["(", ")", ",", "'", "\"", "SELECT", "FROM", "*", "--", "/*", "::", "OVER (", "CASE", "END", "NULL", "9999999999999999999999", "1e", ".", ";", "\n", "ä", "\u{0}", "ROWS", "RANGE", "UNBOUNDED", "PRECEDING", "ALL", "RIGHT", "-1", "c.", "e.", "EXISTS (SELECT 1 FROM events WHERE customer_id = c.customer_id)", "DATE", "GROUP BY c.orders", "HAVING", "UNION ALL SELECT 1"]
        var rng = FixtureRandom(seed: 7)
        var errors = 0
        for i in 0..<6_000 {
            var chars = Array(corpus[i % corpus.count])
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let at = Int.random(in: 0...chars.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: if at < chars.count { chars.remove(at: at) }
                case 1: chars.insert(contentsOf: pieces.randomElement(using: &rng)!, at: at)
                default: if at < chars.count { chars[at] = Character(UnicodeScalar(UInt8.random(in: 32...126, using: &rng))) }
                }
            }
            let sql = String(chars)
            if let e = error(sql) {
                errors += 1
                _ = e.render(sql: sql)
                if e.kind == .syntax { #expect(e.location.line >= 1, "no location for \(sql)") }
            }
        }
        #expect(errors > 1_000, "mutations should mostly break the statements (\(errors) errors)")
    }
}
