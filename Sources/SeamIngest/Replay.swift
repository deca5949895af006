import Foundation
import SeamStorage

extension Ingestor {
    /// Lands quarantined records that now parse (after a mapping was fixed, or with `--mapping`), and keeps the
    /// rest in the quarantine. Returns how many landed and how many stay.
    public func replayQuarantine() throws -> (landed: Int, kept: Int, summary: IngestSummary) {
        let entries = try QuarantineWriter.read(storePath: store.path)
        var keep: [QuarantineEntry] = []
        var landed = 0
        var doc = JSONDocument()
        for e in entries {
            var bytes = e.bytes
            let outcome: RecordOutcome? = bytes.withUnsafeMutableBytes { raw -> RecordOutcome? in
                let span = UnsafeRawBufferPointer(raw)
                if e.source == "segment" {
                    do { try doc.parse(span) } catch { return nil }
                    return Self.segmentSource(for: doc).record(doc)
                }
                guard let m = options.mapping ?? options.mappings.first(where: { $0.name == e.source }), let headerText = e.header else { return nil }
                var headerBytes = Array(headerText.utf8)
                return headerBytes.withUnsafeMutableBytes { hb -> RecordOutcome? in
                    var hr = CSVReader(window: UnsafeRawBufferPointer(hb), dialect: m.dialect, isLast: true, firstLine: 1, skipBOM: true)
                    var fields: [CSVField] = []
                    guard hr.next(&fields) == .record else { return nil }
                    let hv = CSVRecordView(window: UnsafeRawBufferPointer(hb), quote: m.dialect.quote, fields: fields[...], start: hr.recordStart, end: hr.recordEnd)
                    guard let src = try? CSVSource(mapping: m, header: (0..<hv.count).map { hv.text($0) }, file: e.file) else { return nil }
                    var r = CSVReader(window: span, dialect: m.dialect, isLast: true, firstLine: e.line, skipBOM: false)
                    guard r.next(&fields) == .record else { return nil }
                    let view = CSVRecordView(window: span, quote: m.dialect.quote, fields: fields[...], start: r.recordStart, end: r.recordEnd)
                    return src.record(view, occurrence: 0)
                }
            }
            guard let outcome, case .parsed = outcome else {
                keep.append(e)
                continue
            }
            var piece = PieceBuilder(piece: 0, capacity: 1)
            piece.add(line: e.line, sub: 0, outcome: outcome, rawStart: 0, rawEnd: 0)
            apply(ParsedWindow(pieces: [piece]), window: UnsafeRawBufferPointer(start: nil, count: 0), source: e.source, file: e.file, header: nil)
            landed += 1
        }
        try flush(rewritingIdentities: true)
        try QuarantineWriter.rewrite(storePath: store.path, keep)
        try Profiles.rebuild(store)
        var s = IngestSummary()
        s.sources = summaries.values.sorted { $0.source < $1.source }
        s.customers = Self.distinctCustomers(resolution.customer)
        s.identifiers = graph.nodes.count
        return (landed, keep.count, s)
    }
}

extension QuarantineWriter {
    /// Replaces the quarantine with `entries` (temporary file, fsync, rename per source).
    static func rewrite(storePath: String, _ entries: [QuarantineEntry]) throws {
        let dir = storePath + "/quarantine"
        let existing = (try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []
        var bySource: [String: [QuarantineEntry]] = [:]
        for e in entries { bySource[e.source, default: []].append(e) }
        for f in existing where f.hasSuffix(".jsonl") {
            let source = String(f.dropLast(6))
            let w = QuarantineWriter(storePath: storePath)
            for e in bySource[source] ?? [] { w.add(e) }
            try FileIO.replaceDurably(dir + "/" + f, w.pending[source] ?? [])
        }
    }
}
