import Benchmark
import BenchmarkSupport
import Foundation
import Seam

/// Ingest throughput on the generator's raw files (2,000 customers, seed 42): the web analytics JSON lines and the
/// till (POS) CSV export, each the whole of `seam ingest` into a fresh store (parse, normalize, dedupe, quarantine,
/// identity resolution, profiles, commits), reported as input records/s and input bytes/s. A third case times
/// the JSON reader and Segment normalization alone on one thread, the part that scales with cores.
/// Each benchmark checks its result so a fast wrong answer fails (STYLE.md, habit 11).
/// The side-by-side with DuckDB's `read_json`/`read_csv` on the same kind of files is in `make compare`.
let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent().deletingLastPathComponent().path

let raw: String = {
    let dir = NSTemporaryDirectory() + "seam-ingest-bench-\(getpid())"
    try? FileManager.default.removeItem(atPath: dir)
    _ = try! Generator.writeRawFiles(GeneratorOptions(customers: 2_000, seed: 42), to: dir)
    return dir
}()

let mappings = try! SeamStore.mappings(in: repository + "/data/mappings")

/// Data lines of a file (records; the CSV header is not one).
func records(_ path: String) -> Int {
    let data = FileManager.default.contents(atPath: path)!
    let lines = data.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
    return path.hasSuffix(".csv") ? lines - 1 : lines
}

func fileSize(_ path: String) -> Int { (try! FileManager.default.attributesOfItem(atPath: path)[.size] as! NSNumber).intValue }

/// One full ingest of `file` into a new store; returns the records read.
func ingestOnce(_ file: String) throws -> Int {
    let dir = NSTemporaryDirectory() + "seam-ingest-bench-store-\(getpid())"
    try? FileManager.default.removeItem(atPath: dir)
    defer { try? FileManager.default.removeItem(atPath: dir) }
    let store = try SeamStore(path: dir, create: true)
    var options = IngestOptions()
    options.mappings = mappings
    let summary = try store.ingest([file], options: options)
    precondition(summary.failedFiles.isEmpty && summary.sources.allSatisfy(\.balanced))
    return summary.sources.reduce(0) { $0 + $1.read }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: throughputMetrics, timeUnits: .milliseconds, maxDuration: .seconds(10), maxIterations: 20)

    for name in ["web_events.jsonl", "pos_transactions.csv"] {
        let file = raw + "/" + name
        let n = records(file), bytes = fileSize(file)
        Benchmark("ingest \(name) (\(n) records, identity included)", configuration: .init(scalingFactor: .one)) { b in
            try b.measureThroughput(rows: n, bytes: bytes) {
                let read = try ingestOnce(file)
                precondition(read == n, "read \(read) of \(n) records")
            }
        }
    }

    // The JSON reader plus Segment normalization, one thread: the per-core rate ingest's parse stage scales from.
    let web = FileManager.default.contents(atPath: raw + "/web_events.jsonl")!
    let lines = web.split(separator: 0x0A)
    Benchmark("parse+normalize web_events.jsonl, 1 thread (\(lines.count) lines)", configuration: .init(scalingFactor: .one)) { b in
        b.measureThroughput(rows: lines.count, bytes: web.count) {
            var doc = JSONDocument()
            let source = SegmentSource(channel: "web")
            var parsed = 0
            for line in lines {
                line.withUnsafeBytes { bytes in
                    guard (try? doc.parse(bytes)) != nil else { return }
                    if case .parsed = source.record(doc) { parsed += 1 }
                }
            }
            precondition(parsed > lines.count * 9 / 10, "only \(parsed) of \(lines.count) lines parsed")
            blackHole(parsed)
        }
    }
}
