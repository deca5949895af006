import Foundation
import SeamStorage

/// Raw bytes of records that did not land, one JSON line each in `STORE/quarantine/<source>.jsonl`, so a user can
/// fix a mapping and replay them (`seam quarantine replay`). Written and fsynced before the quality issues that
/// point at them are committed.
public struct QuarantineEntry: Codable, Sendable {
    public var source: String
    public var file: String
    public var line: Int
    public var severity: String
    public var rule: String
    public var message: String
    /// The CSV header of the file, so a replay can bind a mapping again.
    public var header: String?
    /// The record as it was read; `rawBase64` instead when it was not valid UTF-8.
    public var raw: String?
    public var rawBase64: String?
    public var recordID: Int64

    enum CodingKeys: String, CodingKey {
        case source, file, line, severity, rule, message, header, raw, rawBase64 = "raw_base64", recordID = "record_id"
    }

    public var bytes: [UInt8] {
        if let raw { return Array(raw.utf8) }
        return rawBase64.flatMap { Data(base64Encoded: $0) }.map { Array($0) } ?? []
    }
}

public final class QuarantineWriter {
    /// Every record in the quarantine of the store at `storePath`.
    public static func entries(storePath: String) throws(IngestError) -> [QuarantineEntry] { try read(storePath: storePath) }

    let dir: String
    var pending: [String: [UInt8]] = [:]

    init(storePath: String) {
        dir = storePath + "/quarantine"
    }

    func add(_ e: QuarantineEntry) {
        var entry = e
        let enc = JSONEncoder()
        enc.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        if entry.raw == nil && entry.rawBase64 == nil { entry.raw = "" }
        guard let data = try? enc.encode(entry) else { return }
        pending[e.source, default: []].append(contentsOf: data)
        pending[e.source, default: []].append(0x0A)
    }

    /// Appends what is pending and fsyncs each file.
    func flush() throws {
        try Self.append(take(), dir: dir)
    }

    /// What is pending, per source; the writer is empty afterwards.
    func take() -> [String: [UInt8]] {
        defer { pending.removeAll() }
        return pending
    }

    /// Appends entries (JSON lines per source) to the quarantine files in `dir` and fsyncs them.
    static func append(_ pending: [String: [UInt8]], dir: String) throws {
        guard !pending.isEmpty else { return }
        try FileIO.makeDirectory(dir)
        for (source, bytes) in pending.sorted(by: { $0.key < $1.key }) {
            try FileIO.appendDurably(dir + "/" + source + ".jsonl", bytes)
        }
        try FileIO.sync(dir, directory: true)
    }

    static func read(storePath: String) throws(IngestError) -> [QuarantineEntry] {
        let dir = storePath + "/quarantine"
        guard let files = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return [] }
        var out: [QuarantineEntry] = []
        for f in files.sorted() where f.hasSuffix(".jsonl") {
            guard let data = FileManager.default.contents(atPath: dir + "/" + f) else { continue }
            for (i, line) in data.split(separator: 0x0A).enumerated() {
                do {
                    out.append(try JSONDecoder().decode(QuarantineEntry.self, from: Data(line)))
                } catch {
                    throw IngestError("\(dir)/\(f):\(i + 1): unreadable quarantine entry: \(error)")
                }
            }
        }
        return out
    }
}
