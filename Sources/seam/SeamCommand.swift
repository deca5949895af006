import ArgumentParser
import Foundation
import Seam

@main
struct SeamCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seam",
        abstract: "Seam: an embedded customer-data platform with its own columnar analytics core.",
        subcommands: [Generate.self, Ingest.self, SQL.self, Identity.self, Quarantine.self, Verify.self, Stats.self, Compact.self]
    )

    static func main() {
        // The instruction-set check ran before main (CCPU's load-time constructor): a binary built for a newer
        // level than this CPU's has said so and exited.
        do {
            var command = try parseAsRoot()
            // Query work reuses block-sized buffers and wants them kept in the heap and mapped (freed large
            // buffers are kept for the next query); ingest keeps freed memory in glibc's arenas but not the large
            // buffers (with the query settings a 10M-event ingest once peaked at 2.1 GB resident); the other
            // commands keep glibc's defaults.
            if command is SQL { Allocator.tuneForQueries() }
            if command is Ingest { Allocator.tuneForIngest(cores: ProcessInfo.processInfo.activeProcessorCount) }
            try command.run()
        } catch {
            exit(withError: error)
        }
    }
}

/// `--store DIR`, shared by the commands that open a store.
struct StoreOption: ParsableArguments {
    @Option(name: .long, help: "Store directory (default: $SEAM_STORE or ./seam-data).")
    var store: String?

    var path: String { store ?? SeamStore.defaultPath }

    func open(create: Bool = false, readOnly: Bool = false) throws -> SeamStore {
        try openStore(path, create: create, readOnly: readOnly)
    }
}

/// Opens a store and reports what recovery removed.
func openStore(_ path: String, create: Bool = false, readOnly: Bool = false) throws -> SeamStore {
        let s = try SeamStore(path: path, create: create, readOnly: readOnly)
        if !s.recovery.isEmpty {
            printError("recovered \(path): removed \(s.recovery.removedFiles.count) file(s) left by an interrupted commit:")
            for f in s.recovery.removedFiles { printError("  \(f)") }
        }
        return s
}

func printError(_ s: String) {
    FileHandle.standardError.write(Data((s + "\n").utf8))
}

extension SeamCommand {
    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate realistic multi-channel data with ground truth.",
            discussion: """
                Writes the raw exports of web, app, POS, email, call-centre and CRM (see data/README.md) to --out.
                With --store, also appends the same simulation's canonical events and customers (true traits and
                consent) straight into that store, without ingest: the scan-benchmark path (use --no-files to skip
                the raw files).
                """)

        @Option(help: "Number of customers to simulate.") var customers: Int
        @Option(help: "Random seed: the same seed gives the same files.") var seed: UInt64 = 42
        @Option(help: "Directory for the raw files.") var out: String = "data/generated"
        @Option(help: "Also load canonical events into this store.") var store: String?
        @Flag(name: .customLong("no-files"), help: "Skip the raw files (with --store).") var noFiles = false

        func validate() throws {
            guard customers > 0 else { throw ValidationError("--customers must be positive") }
            if noFiles && store == nil { throw ValidationError("--no-files needs --store") }
        }

        func run() throws {
            let options = GeneratorOptions(customers: customers, seed: seed)
            if !noFiles {
                let start = Date()
                let r = try Generator.writeRawFiles(options, to: out)
                let secs = Date().timeIntervalSince(start)
                print("generated \(r.customers) customers, \(r.canonicalEvents) events in \(String(format: "%.1f", secs)) s → \(out)")
                for f in r.files {
                    print("  \(f.name.padding(toLength: 22, withPad: " ", startingAt: 0)) \(String(f.lines).leftPad(9)) lines \(formatBytes(f.bytes).leftPad(10))")
                }
                print("  truth/                 \(r.injectedErrors) injected errors listed in truth/injected_errors.csv")
            }
            if let store {
                let start = Date()
                let s = try openStore(store, create: true)
                let rows = try s.loadSyntheticTables(options)
                print("loaded \(rows.events) canonical events and \(rows.customers) customers into \(store) in \(String(format: "%.1f", Date().timeIntervalSince(start))) s")
            }
        }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check every manifest and every block checksum of a store; exit 1 on damage.")
        @OptionGroup var storeOption: StoreOption

        func run() throws {
            let s = try storeOption.open(readOnly: true)
            let r = s.verify()
            for p in r.problems { print("DAMAGED \(p)") }
            if !r.orphans.isEmpty {
                print("\(r.orphans.count) file(s) left by an interrupted commit (not part of any commit; the next writer removes them):")
                for o in r.orphans { print("  \(o)") }
            }
            print("\(r.tables) table(s), \(r.segments) segment(s), \(r.blocks) block(s) checked: \(r.isClean ? "OK" : "\(r.problems.count) problem(s)")")
            if !r.isClean { throw ExitCode(1) }
        }
    }

    struct Compact: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Merge each partition's segments into sorted, partition-sized segments (one atomic commit per partition).")
        @OptionGroup var storeOption: StoreOption
        @Option(help: "Only this table (default: all).") var table: String?

        func run() throws {
            let s = try storeOption.open()
            for t in try table.map { [$0] } ?? s.storage.tableNames() {
                let r = try s.storage.compact(t)
                print("\(t): \(r.segmentsBefore) → \(r.segmentsAfter) segment(s), \(r.partitions) partition(s) rewritten")
            }
        }
    }

    struct Stats: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Rows, segments, raw vs stored bytes and encodings per table.")
        @OptionGroup var storeOption: StoreOption
        @Flag(help: "Also list decoded and stored bytes per column (what a scan of the column reads).") var columns = false

        func run() throws {
            let s = try storeOption.open(readOnly: true)
            for t in try s.stats() {
                let ratio = t.storedBytes > 0 ? Double(t.rawBytes) / Double(t.storedBytes) : 0
                print("\(t.table): \(t.rows) rows, \(t.segments) segment(s), \(t.blocks) block(s)")
                print("  raw \(formatBytes(t.rawBytes)), stored \(formatBytes(t.storedBytes)) (\(String(format: "%.2f", ratio))x)"
                    + (t.rows > 0 ? ", \(String(format: "%.1f", Double(t.storedBytes) / Double(t.rows))) bytes/row" : ""))
                for (name, e) in t.encodings.sorted(by: { $0.value.bytes > $1.value.bytes }) {
                    print("  \(name.padding(toLength: 18, withPad: " ", startingAt: 0)) \(String(e.blocks).leftPad(6)) block(s) \(formatBytes(e.bytes).leftPad(10))")
                }
                if columns {
                    print("  column               decoded bytes   stored bytes  encodings (blocks)")
                    for (c, encodings) in zip(t.columns, t.columnEncodings) {
                        let used = encodings.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map { "\($0.key) \($0.value)" }
                        print("  \(c.name.padding(toLength: 18, withPad: " ", startingAt: 0)) \(String(c.rawBytes).leftPad(15)) \(String(c.storedBytes).leftPad(14))  \(used.joined(separator: ", "))")
                    }
                }
            }
        }
    }
}

func formatBytes(_ n: Int) -> String { ByteCount.format(n) }

extension String {
    func leftPad(_ n: Int) -> String { count >= n ? self : String(repeating: " ", count: n - count) + self }
}
