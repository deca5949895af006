public import Seam
import Foundation

/// The REPL's core, independent of the terminal: it collects lines into statements ended by `;`, runs them,
/// handles dot commands and renders results. `seam sql` drives it from libedit, a pipe or a script.
public final class Shell {
    public let engine: QueryEngine
    public var mode: OutputMode
    public var timer = false
    public var maxRows = 40
    /// Where results go (`.output FILE`); `nil` for standard output.
    public private(set) var outputPath: String? = nil
    /// Standard output when there is no `.output` file: `nil` to hand results back as text (tests, embedding), or a
    /// file descriptor (`seam sql` sets 1) that csv, json and line results are written to while the query runs (a
    /// large result is never held whole) and everything else as it comes, in order.
    public var screen: Int32? = nil
    /// Statements and commands that failed (an SQL error, a bad dot command, output that could not be written): a
    /// script runs on past them, and `seam sql` then exits with status 1.
    public private(set) var failures = 0
    private var pending = ""
    /// The running query's token, for Ctrl-C.
    public let current = CurrentQuery()

    public init(engine: QueryEngine, mode: OutputMode = .table) {
        self.engine = engine
        self.mode = mode
    }

    /// Text that is not a complete statement yet (the prompt shows a continuation).
    public var isContinuing: Bool { !pending.isEmpty }

    public enum Outcome {
        case more
        case output(String)
        case quit
    }

    /// Feeds one input line. Returns what to print (results, errors) or `.more` while a statement is open.
    public func feed(_ line: String) -> Outcome {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        if pending.isEmpty && trimmed.hasPrefix(".") { return dotCommand(trimmed) }
        pending += (pending.isEmpty ? "" : "\n") + line
        let (statements, complete) = Lexer.splitStatements(pending)
        guard complete else { return .more }
        pending = ""
        var out = ""
        for s in statements { out += run(s) }
        return .output(out)
    }

    /// Drops a statement being typed (Ctrl-C at the prompt).
    public func discardPending() { pending = "" }

    /// Runs what is still pending (end of input without a final `;`).
    public func finish() -> String {
        let rest = pending.trimmingCharacters(in: .whitespacesAndNewlines)
        pending = ""
        if rest.isEmpty { return "" }
        return Lexer.splitStatements(rest).statements.map(run).joined()
    }

    /// Runs one statement and renders its result or its error (with a caret under the spot).
    public func run(_ sql: String) -> String {
        let token = current.start()
        defer { current.end() }
        do {
            if let outputPath, mode != .table, let h = FileHandle(forWritingAtPath: outputPath) {
                // An export to a file is written while the query runs, never as one string of the whole result.
                defer { h.closeFile() }
                h.seekToEndOfFile()
                let done = try ResultRenderer.export(sql, as: mode, on: engine, token: token, to: h.fileDescriptor, name: outputPath)
                if timer { h.write(Data(String(format: "Run Time: %.3f s, %d rows\n", done.elapsed, done.rows).utf8)) }
                return ""
            }
            if outputPath == nil, mode != .table, let screen {
                let done = try ResultRenderer.export(sql, as: mode, on: engine, token: token, to: screen, name: "standard output")
                return timer ? emit(String(format: "Run Time: %.3f s, %d rows\n", done.elapsed, done.rows)) : ""
            }
            if mode == .table {
                // Only the rows shown are kept while the result streams past.
                let shown = try ResultRenderer.streamTable(sql, on: engine, token: token, maxRows: maxRows)
                var out = shown.text
                if timer { out += String(format: "Run Time: %.3f s, %d rows\n", shown.elapsed, shown.rows) }
                return deliver(out)
            }
            let r = try engine.query(sql, token: token)
            var out = ResultRenderer.render(r, mode: mode, maxRows: maxRows)
            if timer { out += String(format: "Run Time: %.3f s, %d rows\n", r.elapsed, r.rowCount) }
            return deliver(out)
        } catch let e as SQLError {
            return emit(failed(e.render(sql: sql) + "\n"))
        } catch {
            return emit(failed("Error: \(error)\n"))
        }
    }

    /// `s` written to ``screen`` (then "" is left to print), or handed back when there is none. When the screen
    /// cannot be written (a full disk, a closed pipe), the failure and the text go to standard error instead.
    private func emit(_ s: String) -> String {
        guard let screen, !s.isEmpty else { return s }
        do throws(StorageError) {
            try FileIO.writeAll(screen, Array(s.utf8), "standard output")
        } catch {
            failures += 1
            FileHandle.standardError.write(Data("Error: \(error)\n\(s)".utf8))
        }
        return ""
    }

    /// `message`, counted as a failure.
    private func failed(_ message: String) -> String {
        failures += 1
        return message
    }

    private func deliver(_ s: String) -> String {
        guard let outputPath else { return emit(s) }
        if let h = FileHandle(forWritingAtPath: outputPath) {
            h.seekToEndOfFile()
            h.write(Data(s.utf8))
            h.closeFile()
            return ""
        }
        return failed("Error: cannot write to \(outputPath)\n") + s
    }

    static let help = """
        .tables              list tables
        .schema [TABLE]      columns and types of a table (all tables without one)
        .mode MODE           table, csv, json or line
        .timer on|off        print elapsed time and row count after each statement
        .output [FILE]       send results to FILE (appending); without FILE, back to the screen
        .read FILE           run the statements in FILE
        .maxrows N           rows shown in table mode before eliding the middle
        .help                this text
        .quit                leave (also Ctrl-D)
        Statements end with ';' and may span lines. Ctrl-C cancels a running query.

        """

    func dotCommand(_ line: String) -> Outcome {
        let parts = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        let arg = parts.count > 1 ? parts[1] : nil
        switch parts[0] {
        case ".quit", ".exit", ".q": return .quit
        case ".help": return .output(Shell.help)
        case ".tables": return .output(run("SHOW TABLES"))
        case ".schema":
            if let arg { return .output(run("DESCRIBE \"\(arg)\"")) }
            let names = engine.store.tableNames
            return .output(((try? names()) ?? []).map { run("DESCRIBE \"\($0)\"") }.joined())
        case ".mode":
            guard let arg, let m = OutputMode(rawValue: arg) else { return .output(failed("Error: .mode takes one of table, csv, json, line\n")) }
            mode = m
            return .output("")
        case ".timer":
            guard let arg, arg == "on" || arg == "off" else { return .output(failed("Error: .timer takes on or off\n")) }
            timer = arg == "on"
            return .output("")
        case ".maxrows":
            guard let arg, let n = Int(arg), n > 0 else { return .output(failed("Error: .maxrows takes a positive number\n")) }
            maxRows = n
            return .output("")
        case ".output":
            if let arg {
                if !FileManager.default.fileExists(atPath: arg) { FileManager.default.createFile(atPath: arg, contents: nil) }
                guard FileManager.default.isWritableFile(atPath: arg) else { return .output(failed("Error: cannot write to \(arg)\n")) }
                outputPath = arg
            } else {
                outputPath = nil
            }
            return .output("")
        case ".read":
            guard let arg else { return .output(failed("Error: .read takes a file name\n")) }
            guard let text = try? String(contentsOfFile: arg, encoding: .utf8) else { return .output(failed("Error: cannot read \(arg)\n")) }
            return .output(runScript(text))
        default:
            let near = nearNames(parts[0], in: [".tables", ".schema", ".mode", ".timer", ".output", ".read", ".help", ".quit", ".maxrows"])
            return .output(failed("Error: unknown command \(parts[0])" + (near.isEmpty ? "" : "; did you mean \(near[0])?") + " (.help lists them)\n"))
        }
    }

    /// Runs a whole script: statements and dot commands, in order.
    public func runScript(_ text: String) -> String {
        var out = ""
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            switch feed(String(line)) {
            case .output(let s): out += emit(s)
            case .quit: return out
            case .more: continue
            }
        }
        return out + finish()
    }

    /// Completions for the word being typed: keywords, table names and column names (case-insensitive prefix).
    public func completions(for prefix: String) -> [String] {
        let lower = prefix.lowercased()
        var words = Shell.keywords
        let tables = (try? engine.store.tableNames()) ?? []
        words += tables
        for t in tables { words += (try? engine.store.manifest(t).schema.fields.map(\.name)) ?? [] }
        words += [".tables", ".schema", ".mode", ".timer", ".output", ".read", ".help", ".quit", ".maxrows"]
        let hits = Set(words.filter { $0.lowercased().hasPrefix(lower) && $0.count > prefix.count })
        return hits.sorted().map { w in
            // Keep the user's case for keywords typed in lower case.
            Shell.keywords.contains(w) && prefix == prefix.lowercased() ? w.lowercased() : w
        }
    }

    static let keywords = [
        "SELECT", "FROM", "WHERE", "GROUP", "BY", "HAVING", "ORDER", "LIMIT", "OFFSET", "JOIN", "LEFT", "INNER", "ON", "USING", "AS",
        "AND", "OR", "NOT", "CASE", "WHEN", "THEN", "ELSE", "END", "IS", "NULL", "IN", "BETWEEN", "LIKE", "ILIKE", "DISTINCT", "WITH",
        "FILTER", "OVER", "PARTITION", "ASC", "DESC", "NULLS", "FIRST", "LAST", "CAST", "INTERVAL", "TIMESTAMP", "UNION", "INTERSECT", "EXCEPT", "ALL",
        "EXPLAIN", "ANALYZE", "DESCRIBE", "SHOW", "TABLES", "count", "sum", "avg", "min", "max", "date_trunc", "date_diff",
        "date_part", "extract", "coalesce", "row_number", "rank", "dense_rank", "ntile", "lag", "lead", "json_extract_string",
        "QUALIFY", "WINDOW", "VALUES", "EXCLUDE", "REPLACE", "median", "mode", "quantile_cont", "quantile_disc", "split_part",
    ]
}

/// The token of the statement that is running, so a signal handler can cancel it.
public final class CurrentQuery: @unchecked Sendable {
    private let lock = NSLock()
    private var token: CancellationToken? = nil

    func start() -> CancellationToken {
        let t = CancellationToken()
        lock.lock()
        token = t
        lock.unlock()
        return t
    }

    func end() {
        lock.lock()
        token = nil
        lock.unlock()
    }

    /// Cancels the running statement; `false` when none is running.
    @discardableResult
    public func cancel() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard let token else { return false }
        token.cancel("cancelled by Ctrl-C")
        return true
    }
}
