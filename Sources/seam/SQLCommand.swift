import ArgumentParser
import CEditLine
import Foundation
import Seam
import SeamShell

extension SeamCommand {
    struct SQL: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "sql",
            abstract: "Query the store in SQL: one statement, a script on standard input, or an interactive prompt.",
            discussion: """
                With a QUERY, runs it and prints the result. Without one, reads a script from standard input when it is
                not a terminal, else opens the prompt: statements end with ';', .help lists the dot commands, Ctrl-C
                cancels a running query, history is kept in ~/.seam_history. A script runs on past a failed statement
                and exits with status 1 when any failed.
                """)
        @OptionGroup var storeOption: StoreOption
        @Argument(help: "A statement to run.") var query: String?
        @Option(help: "Output format: table, csv, json or line.") var format: String = "table"
        @Option(help: "Worker threads (default: every core).") var threads: Int?
        @Option(name: .customLong("max-rows"), help: "Rows shown in table format before the middle is elided.") var maxRows = 40
        @Option(name: .customLong("memory-limit"), help: "Memory a query may hold, e.g. 512MiB or 4GiB (default: 80% of RAM).")
        var memoryLimit: String?
        @Option(name: .customLong("repeat"), help: "Run the QUERY this many times, print its result once and each run's seconds to standard error (benchmarks).")
        var runs: Int = 1

        /// `4GiB`, `512MB`, `1000000` → bytes.
        static func bytes(_ s: String) -> Int? {
            let units: [(String, Int)] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10), ("GB", 1_000_000_000), ("MB", 1_000_000), ("KB", 1000), ("B", 1)]
            for (u, m) in units where s.hasSuffix(u) {
                return Double(s.dropLast(u.count)).flatMap { $0 > 0 ? Int($0 * Double(m)) : nil }
            }
            return Int(s).flatMap { $0 > 0 ? $0 : nil }
        }

        func validate() throws {
            guard OutputMode(rawValue: format) != nil else { throw ValidationError("--format must be table, csv, json or line") }
            if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
            if runs < 1 { throw ValidationError("--repeat must be at least 1") }
            if runs > 1 && query == nil { throw ValidationError("--repeat needs a QUERY") }
            if let memoryLimit, SQL.bytes(memoryLimit) == nil {
                throw ValidationError("--memory-limit '\(memoryLimit)' is not a size such as 512MiB or 4GiB")
            }
        }

        func run() throws {
            let store = try Store(path: storeOption.path, mode: .readOnly)
            let engine = QueryEngine(store: store, options: QueryOptions(threads: threads, memoryLimit: memoryLimit.flatMap(SQL.bytes)))
            let shell = Shell(engine: engine, mode: OutputMode(rawValue: format)!)
            shell.maxRows = maxRows
            if let query {
                do {
                    if runs == 1 && shell.mode != .table {
                        // An export is written while the query runs: a streaming result is never held whole.
                        _ = try ResultRenderer.export(query, as: shell.mode, on: engine, to: 1, name: "standard output")
                        return
                    }
                    if runs == 1 && shell.mode == .table {
                        // Only the rows shown are kept while the result streams past.
                        let shown = try ResultRenderer.streamTable(query, on: engine, maxRows: maxRows)
                        FileHandle.standardOutput.write(Data(shown.text.utf8))
                        return
                    }
                    var r = try engine.query(query)
                    if runs > 1 {
                        // Each run plans and executes afresh; the printed figure is the engine's own elapsed time
                        // (parse to materialized result), not rendering.
                        printError(String(format: "run 1: %.6f s", r.elapsed))
                        for i in 2...runs {
                            r = try engine.query(query)
                            printError(String(format: "run %d: %.6f s", i, r.elapsed))
                        }
                    }
                    if shell.mode == .csv || shell.mode == .json {
                        try ResultRenderer.write(r, as: shell.mode, to: 1, name: "standard output")
                    } else {
                        FileHandle.standardOutput.write(Data(ResultRenderer.render(r, mode: shell.mode, maxRows: maxRows).utf8))
                    }
                } catch let e as SQLError {
                    printError(e.render(sql: query))
                    throw ExitCode(1)
                } catch let e as StorageError {
                    printError("Error: \(e)")
                    throw ExitCode(1)
                }
                return
            }
            // Results stream to standard output as they come (a script's csv of a whole table is never one string).
            shell.screen = 1
            if isatty(0) == 0 {
                let data = FileHandle.standardInput.readDataToEndOfFile()
                let out = shell.runScript(String(decoding: data, as: UTF8.self))
                FileHandle.standardOutput.write(Data(out.utf8))
                // The script ran on past a failed statement, as DuckDB's shell does; its caller learns of it here.
                if shell.failures > 0 { throw ExitCode(1) }
                return
            }
            try Prompt(shell: shell).loop()
        }
    }
}

/// The interactive prompt over libedit: line editing, persistent history, tab completion, Ctrl-C.
struct Prompt {
    let shell: Shell
    nonisolated(unsafe) static var active: Shell? = nil
    /// Set by Ctrl-C at the prompt (no query running): the line being typed is dropped, the session stays.
    nonisolated(unsafe) static var interruptedInput = false

    func loop() throws {
        Prompt.active = shell
        let historyFile = (ProcessInfo.processInfo.environment["HOME"] ?? ".") + "/.seam_history"
        _ = read_history(historyFile)
        seam_set_completion { text, _, _ in
            guard let text, let shell = Prompt.active else { return nil }
            let words = shell.completions(for: String(cString: text))
            guard !words.isEmpty else { return nil }
            // readline wants a NULL-terminated array of malloc'd strings, the first being the common prefix.
            let list = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>.allocate(capacity: words.count + 2)
            list[0] = strdup(commonPrefix(words))
            for (i, w) in words.enumerated() { list[i + 1] = strdup(w) }
            list[words.count + 1] = nil
            return list
        }
        signal(SIGINT) { _ in
            if Prompt.active?.current.cancel() != true {
                // No query running: drop what is being typed (libedit returns from readline).
                Prompt.interruptedInput = true
                write(1, "^C\n", 3)
            }
        }
        print("Seam SQL — \(shell.engine.store.path). Statements end with ';'. .help for commands, .quit to leave.")
        while true {
            let prompt = shell.isContinuing ? "   ...> " : "seam> "
            guard let raw = readline(prompt) else {
                if Prompt.interruptedInput {
                    Prompt.interruptedInput = false
                    shell.discardPending()
                    continue
                }
                print("")
                break
            }
            if Prompt.interruptedInput {
                Prompt.interruptedInput = false
                shell.discardPending()
                free(raw)
                continue
            }
            let line = String(cString: raw)
            free(raw)
            if !line.trimmingCharacters(in: .whitespaces).isEmpty {
                add_history(line)
                _ = append_history(1, historyFile)
            }
            switch shell.feed(line) {
            case .more: continue
            case .quit:
                Prompt.active = nil
                return
            case .output(let s): FileHandle.standardOutput.write(Data(s.utf8))
            }
        }
        let rest = shell.finish()
        if !rest.isEmpty { FileHandle.standardOutput.write(Data(rest.utf8)) }
        Prompt.active = nil
    }
}

func commonPrefix(_ words: [String]) -> String {
    guard var p = words.first else { return "" }
    for w in words.dropFirst() {
        while !w.hasPrefix(p) { p.removeLast() }
    }
    return p
}
