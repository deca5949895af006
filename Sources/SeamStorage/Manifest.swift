public import SeamColumnar
import SeamKernels
import Foundation

/// How a table's rows are laid out across segments.
public struct TableLayout: Sendable, Codable, Equatable {
    public enum Granularity: String, Sendable, Codable { case day, month }
    /// A TIMESTAMP column whose value picks the partition of a row; `nil` for one partition.
    public var partitionColumn: String?
    public var granularity: Granularity
    /// Columns rows are sorted by within each segment.
    public var sortColumns: [String]
    /// A partition's rows are split into segments of at most this many rows.
    public var maxSegmentRows: Int
    /// A BIGINT column whose stored values are keys into another table and are read through it (see ``KeyMap``).
    public var keyMap: KeyMap?

    public init(
        partitionColumn: String? = nil, granularity: Granularity = .month, sortColumns: [String] = [],
        maxSegmentRows: Int = 4 << 20, keyMap: KeyMap? = nil
    ) {
        self.partitionColumn = partitionColumn
        self.granularity = granularity
        self.sortColumns = sortColumns
        self.maxSegmentRows = maxSegmentRows
        self.keyMap = keyMap
    }
}

/// Read-time substitution of a column's values through a small mapping table: a stored value `v` of `column` is
/// read as the `to` value of the row of `table` whose `from` equals `v` (NULL when there is none or it is NULL).
/// When several rows have the same `from`, the last one in the table's order (segments as the manifest lists them,
/// rows in segment order) counts, so a mapping can be changed by appending a row.
///
/// This is how a change that touches many rows lands in one small commit: the large table keeps stable keys and
/// only the mapping table is rewritten or appended to. Mapping keys must be small non-negative integers (a dense array is built).
public struct KeyMap: Sendable, Codable, Equatable {
    public var column: String
    public var table: String
    public var from: String
    public var to: String
    public init(column: String, table: String, from: String, to: String) {
        self.column = column
        self.table = table
        self.from = from
        self.to = to
    }
}

/// A segment as the manifest lists it.
public struct SegmentEntry: Sendable, Codable, Equatable {
    /// Path relative to the table directory.
    public var file: String
    public var rows: Int
    public var bytes: Int
    /// The partition key (`2025-03` or `2025-03-14`), when the table is partitioned.
    public var partition: String?
}

/// The manifest of a table: the complete list of its live segments at one commit.
///
/// Stored as `manifest.json`: the JSON document, a newline, then `crc32c XXXXXXXX` over the JSON bytes.
/// It is replaced only by rename, so a reader sees one whole commit or the previous one.
public struct Manifest: Sendable, Codable, Equatable {
    public var format: Int = 1
    public var table: String
    /// Commit number, starting at 0 for the empty table.
    public var version: Int
    public var schema: Schema
    public var layout: TableLayout
    public var segments: [SegmentEntry]

    public var rowCount: Int { segments.reduce(0) { $0 + $1.rows } }

    func serialized() -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let json = [UInt8](try! encoder.encode(self))
        return json + Array("\ncrc32c \(hex(CRC32C.checksum(json)))\n".utf8)
    }

    static func parse(_ bytes: [UInt8], path: String) throws(StorageError) -> Manifest {
        let marker = Array("\ncrc32c ".utf8)
        guard bytes.count > marker.count + 11,
            let at = (0...(bytes.count - marker.count)).reversed().first(where: { bytes[$0..<($0 + marker.count)].elementsEqual(marker) })
        else { throw StorageError(.corrupt, "manifest has no checksum line (truncated or not a manifest)", file: path) }
        let json = Array(bytes[0..<at])
        let stored = String(decoding: bytes[(at + marker.count)...], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let actual = hex(CRC32C.checksum(json))
        guard stored == actual else {
            throw StorageError(.checksumMismatch, "manifest checksum mismatch (stored \(stored), computed \(actual))", file: path)
        }
        do {
            return try JSONDecoder().decode(Manifest.self, from: Data(json))
        } catch {
            throw StorageError(.corrupt, "manifest does not parse: \(error)", file: path)
        }
    }
}
