/// The result of checking a store: every manifest, every segment footer and every block checksum.
public struct VerifyReport: Sendable {
    public var tables = 0
    public var segments = 0
    public var blocks = 0
    public var problems: [StorageError] = []
    /// Files no manifest refers to, left by an interrupted commit: harmless to readers, removed by the next writer.
    public var orphans: [String] = []
    public var isClean: Bool { problems.isEmpty }
}

/// Per-table size and encoding figures.
public struct TableStats: Sendable {
    public var table: String
    public var rows = 0
    public var segments = 0
    public var blocks = 0
    /// Bytes of the decoded columns in memory.
    public var rawBytes = 0
    /// Bytes of the segment files on disk.
    public var storedBytes = 0
    /// Blocks and stored bytes per encoding (`for`, `dictionary+lz4`, …).
    public var encodings: [String: (blocks: Int, bytes: Int)] = [:]
    /// Decoded and stored (block) bytes per column, in schema order: what a scan of that column must read.
    public var columns: [(name: String, rawBytes: Int, storedBytes: Int)] = []
    /// Blocks per encoding of each column, in schema order.
    public var columnEncodings: [[String: Int]] = []
}

extension Store {
    /// Reads every manifest and checks every block of every segment. Never throws: damage is reported.
    public func verify() -> VerifyReport {
        var report = VerifyReport()
        let names: [String]
        do { names = try FileIO.list(path + "/tables") } catch {
            report.problems.append(error)
            return report
        }
        for t in names where FileIO.isDirectory(tableDir(t)) {
            report.tables += 1
            let m: Manifest
            do { m = try manifest(t) } catch {
                report.problems.append(error)
                continue
            }
            let live = Set(m.segments.map(\.file))
            for f in (try? FileIO.list(tableDir(t) + "/data")) ?? [] where !live.contains("data/" + f) {
                report.orphans.append("tables/\(t)/data/\(f)")
            }
            for f in (try? FileIO.list(tableDir(t))) ?? [] where f.hasSuffix(".tmp") {
                report.orphans.append("tables/\(t)/\(f)")
            }
            for s in m.segments {
                report.segments += 1
                let full = tableDir(t) + "/" + s.file
                guard let size = FileIO.fileSize(full) else {
                    report.problems.append(StorageError(.notFound, "segment listed in the manifest is missing", file: full))
                    continue
                }
                guard size == s.bytes else {
                    report.problems.append(
                        StorageError(.corrupt, "segment is \(size) bytes, the manifest says \(s.bytes)", file: full))
                    continue
                }
                do {
                    // A fresh reader, not the cached one: verification must not trust earlier checks.
                    let r = try SegmentReader(path: full)
                    if r.rowCount != s.rows {
                        report.problems.append(
                            StorageError(.corrupt, "segment holds \(r.rowCount) rows, the manifest says \(s.rows)", file: full))
                    }
                    report.blocks += r.footer.columns.reduce(0) { $0 + $1.count }
                    report.problems += r.verifyAll()
                } catch {
                    report.problems.append(error)
                }
            }
        }
        return report
    }

    /// Size and encoding figures per table.
    public func stats() throws(StorageError) -> [TableStats] {
        var out: [TableStats] = []
        for t in try tableNames() {
            let m = try manifest(t)
            var s = TableStats(table: t)
            s.rows = m.rowCount
            s.segments = m.segments.count
            s.columns = m.schema.fields.map { ($0.name, 0, 0) }
            s.columnEncodings = m.schema.fields.map { _ in [:] }
            for r in try readers(m) {
                s.storedBytes += r.fileSize
                for (c, blocks) in r.footer.columns.enumerated() {
                    for b in blocks {
                        if c < s.columns.count {
                            s.columns[c].rawBytes += b.rawBytes
                            s.columns[c].storedBytes += b.length
                        }
                        s.blocks += 1
                        s.rawBytes += b.rawBytes
                        let name = b.codec.description + (b.sparse ? "+sparse" : "") + (b.lz4 ? "+lz4" : "")
                        if c < s.columns.count { s.columnEncodings[c][name, default: 0] += 1 }
                        let e = s.encodings[name] ?? (0, 0)
                        s.encodings[name] = (e.blocks + 1, e.bytes + b.length)
                    }
                }
            }
            out.append(s)
        }
        return out
    }
}
