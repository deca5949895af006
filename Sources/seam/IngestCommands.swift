import ArgumentParser
import Foundation
import Seam

extension SeamCommand {
    struct Ingest: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read raw exports (Segment JSON, CSV) into the canonical tables, resolving identities.",
            discussion: """
                PATHs are files or folders (read recursively). The source of each file is detected from its content,
                name and header (Segment JSON, or a mapping in data/mappings whose file pattern or header matches),
                or named with --source / --mapping. Records that cannot land go to quality_issues and the quarantine.
                """)
        @OptionGroup var storeOption: StoreOption
        @Argument(help: "Files or folders.") var paths: [String]
        @Option(help: "Read every file as this source: segment or a mapping's name.") var source: String?
        @Option(help: "A mapping file (YAML) for the files.") var mapping: String?
        @Option(help: "Folder of built-in mappings (default: $SEAM_MAPPINGS or data/mappings).") var mappings: String?
        @Option(help: "Records per commit (bounds memory).") var batch = 400_000

        func run() throws {
            let s = try storeOption.open(create: true)
            var options = IngestOptions()
            options.source = source
            options.mapping = try mapping.map(Mapping.load)
            options.mappings = try SeamStore.mappings(in: mappings)
            options.batchRecords = batch
            options.progress = Progress.reporter()
            options.faults = CommitFaults.fromEnvironment(ProcessInfo.processInfo.environment["SEAM_CRASH_AT"])
            let summary = try s.ingest(paths, options: options)
            Progress.finish()
            printSummary(summary)
            if !summary.failedFiles.isEmpty || !summary.damagedFiles.isEmpty { throw ExitCode(1) }
        }
    }

    struct Identity: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Explain, split, rebuild and evaluate identity resolution.",
            subcommands: [Explain.self, Split.self, Rebuild.self, Evaluate.self])

        struct Explain: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Show which records and identifiers joined a customer, and refused merges.")
            @OptionGroup var storeOption: StoreOption
            @Argument(help: "A customer id, or an identifier (type:value, or a bare value).") var query: String
            func run() throws {
                let s = try storeOption.open(readOnly: true)
                print(try IdentityService.explain(s.storage, query), terminator: "")
            }
        }

        struct Split: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Detach an identifier (and the records only it tied in) into a customer of its own.")
            @OptionGroup var storeOption: StoreOption
            @Argument(help: "The customer the identifier belongs to now.") var customer: Int64
            @Option(help: "type:value, e.g. phone:+15550100") var identifier: String
            func run() throws {
                guard let id = SeamIngest.Identifier(parsing: identifier) else {
                    throw ValidationError("--identifier must be type:value with a type of \(IdentifierType.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                let s = try storeOption.open()
                let node = try IdentityService.split(s.storage, customer: customer, identifier: id)
                print("\(id) split from customer \(customer): it is now customer \(node) (rule saved in \(storeOption.path)/identity.yaml)")
            }
        }

        struct Rebuild: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Re-run resolution over all history under the rules in STORE/identity.yaml.")
            @OptionGroup var storeOption: StoreOption
            func run() throws {
                let s = try storeOption.open()
                let r = try IdentityService.rebuild(s.storage)
                print("identity rebuilt: \(r.before) → \(r.after) customers")
            }
        }

        struct Evaluate: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Score resolution against the generator's truth: pairwise precision, recall, F1.")
            @OptionGroup var storeOption: StoreOption
            @Option(help: "The generator's truth folder.") var truth: String
            func run() throws {
                let s = try storeOption.open(readOnly: true)
                let r = try IdentityService.evaluate(s.storage, truthDir: truth)
                print("identifiers in truth: \(r.identifiers); \(r.unseen) occur nowhere in the data and are left out; \(r.matched) resolved to a customer")
                print("same-person pairs: truth \(r.truePairs), resolved \(r.predictedPairs), both \(r.correctPairs)")
                print(String(format: "precision %.4f  recall %.4f  F1 %.4f", r.precision, r.recall, r.f1))
                print(String(format: "recall over the %d pairs the data connects at all: %.4f", r.linkablePairs, r.linkableRecall))
                for (t, m) in r.missingByType.sorted(by: { $0.key < $1.key }) { print("  \(t): \(m.total) in truth, \(m.missing) not resolved to a customer") }
                if !r.mixedCustomers.isEmpty {
                    print("customers holding identifiers of several people: \(r.mixedCustomers.count) (e.g. \(r.mixedCustomers.prefix(5).map(String.init).joined(separator: ", ")); see seam identity explain)")
                }
                print("placeholder/shared identifiers in truth: \(r.sharedInTruth), merged into someone: \(r.sharedMerged)")
            }
        }
    }

    struct Quarantine: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List quarantined records, or replay them after fixing a mapping.", subcommands: [List.self, Replay.self])

        struct List: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Quarantined records by rule, with their locations.")
            @OptionGroup var storeOption: StoreOption
            @Option(help: "Locations shown per rule.") var limit = 5
            func run() throws {
                let s = try storeOption.open(readOnly: true)
                let entries = try QuarantineWriter.entries(storePath: s.storage.path)
                var byRule: [String: [QuarantineEntry]] = [:]
                for e in entries { byRule["\(e.severity) \(e.source) \(e.rule)", default: []].append(e) }
                for (k, list) in byRule.sorted(by: { $0.key < $1.key }) {
                    print("\(k): \(list.count)")
                    for e in list.prefix(limit) { print("  \(e.file):\(e.line)  \(e.message)") }
                }
                print("\(entries.count) record(s) in quarantine")
            }
        }

        struct Replay: ParsableCommand {
            static let configuration = CommandConfiguration(abstract: "Land quarantined records that now parse; keep the rest.")
            @OptionGroup var storeOption: StoreOption
            @Option(help: "A (fixed) mapping file for the CSV records.") var mapping: String?
            @Option(help: "Folder of built-in mappings.") var mappings: String?
            func run() throws {
                let s = try storeOption.open()
                var options = IngestOptions()
                options.mapping = try mapping.map(Mapping.load)
                options.mappings = try SeamStore.mappings(in: mappings)
                let r = try Ingestor(store: s.storage, options: options).replayQuarantine()
                print("replayed: \(r.landed) landed, \(r.kept) still in quarantine")
            }
        }
    }
}

func printSummary(_ s: IngestSummary) {
    func pad(_ v: Any, _ n: Int) -> String { String(describing: v).leftPad(n) }
    print("source        files      read    landed  quarantined  duplicates      rows  issues (critical/error/warning/info)")
    var all = SourceSummary(source: "total")
    for x in s.sources {
        let sev = Severity.allCases.reversed().map { String(x.issues[$0] ?? 0) }.joined(separator: "/")
        print(x.source.padding(toLength: 12, withPad: " ", startingAt: 0) + pad(x.files, 6) + pad(x.read, 10) + pad(x.landed, 10)
            + pad(x.quarantined, 13) + pad(x.duplicates, 12) + pad(x.rows, 10) + "  " + sev + (x.balanced ? "" : "  COUNTS DO NOT ADD UP"))
        all.files += x.files; all.read += x.read; all.landed += x.landed; all.quarantined += x.quarantined
        all.duplicates += x.duplicates; all.rows += x.rows
    }
    print("total".padding(toLength: 12, withPad: " ", startingAt: 0) + pad(all.files, 6) + pad(all.read, 10) + pad(all.landed, 10)
        + pad(all.quarantined, 13) + pad(all.duplicates, 12) + pad(all.rows, 10))
    print("read = landed + quarantined + duplicates: \(all.balanced ? "yes" : "NO")")
    print("\(s.customers) customers from \(s.identifiers) identifiers, in \(String(format: "%.2f", s.seconds)) s"
        + (s.seconds > 0 ? String(format: " (%.0f records/s)", Double(all.read) / s.seconds) : ""))
    for f in s.failedFiles { printError("FAILED \(f.file): \(f.reason)") }
    for f in s.damagedFiles { printError("DAMAGED \(f.file): \(f.reason); the records before it were read") }
}

/// A progress line on a terminal (rows/s, bytes, ETA); one log line per file otherwise.
enum Progress {
    nonisolated(unsafe) static var lastDraw = Date.distantPast
    nonisolated(unsafe) static var started = Date()
    nonisolated(unsafe) static var drew = false

    static func reporter() -> @Sendable (String, Int, Int, Int) -> Void {
        let tty = isatty(STDERR_FILENO) != 0
        started = Date()
        return { file, done, total, records in
            let elapsed = Date().timeIntervalSince(started)
            if tty {
                guard Date().timeIntervalSince(lastDraw) > 0.2 || done == total else { return }
                lastDraw = Date()
                let rate = elapsed > 0 ? Double(records) / elapsed : 0
                let frac = total > 0 ? Double(done) / Double(total) : 1
                let eta = frac > 0 && frac < 1 ? String(format: " ETA %.0fs", elapsed / frac - elapsed) : ""
                let bar = String(repeating: "#", count: Int(frac * 20)) + String(repeating: ".", count: 20 - Int(frac * 20))
                FileHandle.standardError.write(Data("\r\u{1B}[K[\(bar)] \(file) \(formatBytes(done))/\(formatBytes(total)) \(records) records \(String(format: "%.0f", rate))/s\(eta)".utf8))
                drew = true
            } else if done == total {
                printError("read \(file): \(formatBytes(total)), \(records) records processed so far, \(String(format: "%.1f", elapsed)) s")
            }
        }
    }

    static func finish() {
        if drew { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
    }
}
