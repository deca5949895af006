public import Seam

/// One column of a result batch seen through raw pointers, to write its rows as CSV fields or JSON values.
///
/// A writer visits every field of an export. Reaching each through its `ColumnVector` (the optional validity and
/// dictionary, a closure per typed read) cost retains, releases and value-witness calls per field: most of the time
/// of a CSV export. This view holds no reference (the batch it was made from must outlive it), so a row's fields are
/// read from a plain array of them.
struct ColumnText {
    enum Kind { case bigint, integer, timestamp, date, double, decimal, boolean, flatText, dictionaryText, other }
    let kind: Kind
    /// The column's position in its batch (the slow path reads the vector's `Value`).
    let index: Int
    let values: UnsafeRawPointer
    /// Bit set = valid; nil when every row is.
    let validity: UnsafePointer<UInt64>?
    /// Text: the bytes and their offsets (of the dictionary's entries for the dictionary form).
    let textBytes: UnsafeRawPointer?
    let textOffsets: UnsafePointer<UInt32>?
    let codes: UnsafePointer<UInt32>?

    init(_ c: ColumnVector, index: Int) {
        self.index = index
        validity = c.validity.map { UnsafePointer($0.typed(UInt64.self, count: Bitmap.wordCount(c.count)).baseAddress!) }
        if let d = c.dictionary {
            kind = .dictionaryText
            values = UnsafeRawPointer(d.codePointer)
            codes = d.codePointer
            textBytes = UnsafeRawPointer(d.entries.values.base)
            textOffsets = UnsafePointer(d.entries.offsets!.typed(UInt32.self, count: d.entries.count + 1).baseAddress!)
            return
        }
        values = UnsafeRawPointer(c.values.base)
        codes = nil
        switch c.type {
        case .bigint: kind = .bigint
        case .integer: kind = .integer
        case .timestamp: kind = .timestamp
        case .date: kind = .date
        case .double: kind = .double
        case .decimal: kind = .decimal
        case .boolean: kind = .boolean
        case .varchar: kind = .flatText
        default: kind = .other
        }
        if c.type == .varchar {
            textBytes = values
            textOffsets = UnsafePointer(c.offsets!.typed(UInt32.self, count: c.count + 1).baseAddress!)
        } else {
            textBytes = nil
            textOffsets = nil
        }
    }

    @inline(__always) func isNull(_ row: Int) -> Bool {
        guard let validity else { return false }
        return validity[row >> 6] & (1 << UInt64(row & 63)) == 0
    }

    @inline(__always) func text(_ row: Int) -> UnsafeRawBufferPointer {
        let k = kind == .dictionaryText ? Int(codes![row]) : row
        let start = Int(textOffsets![k])
        return UnsafeRawBufferPointer(start: textBytes! + start, count: Int(textOffsets![k + 1]) - start)
    }

    /// Row `row` of a number, timestamp, date or boolean column, as CSV and lines print it; false (nothing written)
    /// for text and other kinds.
    @inline(__always) func appendPlain(_ row: Int, to out: inout TextBuffer) -> Bool {
        switch kind {
        case .bigint: DecimalText.append(signed: values.load(fromByteOffset: row &* 8, as: Int64.self), to: &out)
        case .integer: DecimalText.append(signed: Int64(values.load(fromByteOffset: row &* 4, as: Int32.self)), to: &out)
        case .timestamp: Timestamp.append(values.load(fromByteOffset: row &* 8, as: Int64.self), to: &out)
        case .date: Timestamp.appendDate(values.load(fromByteOffset: row &* 4, as: Int32.self), to: &out)
        case .double:
            // The shortest text that reads back as the same double, as ``ResultRenderer/text(_:csv:)`` writes it:
            // still a String per field (one of more than 15 bytes has storage of its own), but no Value.
            var text = ValueCast.formatDouble(values.load(fromByteOffset: row &* 8, as: Double.self))
            text.withUTF8 { out.append(bytes: UnsafeRawBufferPointer($0)) }
        case .decimal: Decimal2.append(values.load(fromByteOffset: row &* 8, as: Int64.self), to: &out)
        case .boolean: out.append(values.load(fromByteOffset: row, as: UInt8.self) != 0 ? "true" : "false")
        case .flatText, .dictionaryText, .other: return false
        }
        return true
    }

    /// Row `row` as a CSV field: NULL is an empty field and the empty string `""`, as DuckDB's `COPY … (FORMAT csv)`
    /// writes them.
    @inline(__always) func appendCSV(_ row: Int, of batch: Batch, to out: inout TextBuffer) {
        if isNull(row) || appendPlain(row, to: &out) { return }
        if kind == .other {
            CSVText.appendField(ResultRenderer.text(batch.columns[index].value(at: row)), to: &out)
        } else {
            let bytes = text(row)
            if bytes.isEmpty { out.append("\"\"") } else { CSVText.appendField(bytes: bytes, to: &out) }
        }
    }

    /// Row `row` as the line view prints it (``ResultRenderer/text(_:csv:)``): NULL as `NULL`, text as it is.
    @inline(__always) func appendText(_ row: Int, of batch: Batch, to out: inout TextBuffer) {
        if isNull(row) {
            out.append("NULL")
        } else if appendPlain(row, to: &out) {
            return
        } else if kind == .other {
            var s = ResultRenderer.text(batch.columns[index].value(at: row))
            s.withUTF8 { out.append(bytes: UnsafeRawBufferPointer($0)) }
        } else {
            out.append(bytes: text(row))
        }
    }

    /// Row `row` as a JSON value: numbers bare (DECIMAL too), booleans bare, non-finite doubles and every other type
    /// as quoted text.
    @inline(__always) func appendJSON(_ row: Int, of batch: Batch, to out: inout TextBuffer) {
        if isNull(row) {
            out.append("null")
            return
        }
        switch kind {
        case .bigint, .integer, .decimal, .boolean: _ = appendPlain(row, to: &out)
        case .double:
            // Non-finite doubles (nan, inf) are not JSON numbers: quoted.
            let finite = values.load(fromByteOffset: row &* 8, as: Double.self).isFinite
            if !finite { out.append(0x22) }
            _ = appendPlain(row, to: &out)
            if !finite { out.append(0x22) }
        case .timestamp, .date:
            out.append(0x22)
            _ = appendPlain(row, to: &out)
            out.append(0x22)
        case .flatText, .dictionaryText: JSONText.appendQuoted(text(row), to: &out)
        case .other: JSONText.appendQuoted(ResultRenderer.text(batch.columns[index].value(at: row)), to: &out)
        }
    }

}

extension ResultRenderer {
    /// A batch's rows as CSV lines.
    @Sendable static func csvText(_ batch: Batch) -> [UInt8] {
        withViews(batch) { columns, out in
            for row in 0..<batch.count {
                for k in 0..<columns.count {
                    if k > 0 { out.append(0x2C) }
                    columns[k].appendCSV(row, of: batch, to: &out)
                }
                out.append(0x0A)
            }
        }
    }

    /// A batch's rows as JSON objects separated by `,` and a line break (none before the first).
    static func jsonText(_ batch: Batch, _ names: FieldLabels) -> [UInt8] {
        withViews(batch) { columns, out in
            names.bytes.withUnsafeBytes { bytes in
                names.starts.withUnsafeBufferPointer { starts in
                    for row in 0..<batch.count {
                        if row > 0 { out.append(",\n") }
                        out.append(UInt8(ascii: "{"))
                        for k in 0..<columns.count {
                            if k > 0 { out.append(UInt8(ascii: ",")) }
                            out.append(bytes: UnsafeRawBufferPointer(rebasing: bytes[starts[k]..<starts[k + 1]]))
                            columns[k].appendJSON(row, of: batch, to: &out)
                        }
                        out.append(UInt8(ascii: "}"))
                    }
                }
            }
        }
    }

    /// A batch's rows in the line view: each field as `name = value` on a line of its own, names right-aligned, and
    /// a blank line before each row (the consumer drops the first one of the result).
    static func lineText(_ batch: Batch, _ labels: FieldLabels) -> [UInt8] {
        withViews(batch) { columns, out in
            labels.bytes.withUnsafeBytes { bytes in
                labels.starts.withUnsafeBufferPointer { starts in
                    for row in 0..<batch.count {
                        out.append(0x0A)
                        for k in 0..<columns.count {
                            out.append(bytes: UnsafeRawBufferPointer(rebasing: bytes[starts[k]..<starts[k + 1]]))
                            columns[k].appendText(row, of: batch, to: &out)
                            out.append(0x0A)
                        }
                    }
                }
            }
        }
    }

    /// The text `body` writes for `batch` through its columns' views.
    private static func withViews(_ batch: Batch, _ body: (UnsafeBufferPointer<ColumnText>, inout TextBuffer) -> Void) -> [UInt8] {
        var out = TextBuffer(capacity: batch.count * 16 * max(1, batch.columns.count))
        defer { out.deallocate() }
        withExtendedLifetime(batch) {
            let views = batch.columns.enumerated().map { ColumnText($1, index: $0) }
            views.withUnsafeBufferPointer { body($0, &out) }
        }
        return out.bytes
    }
}

/// The text before each field of a row, all in one array (`starts[k]` on): a batch reads them through one pointer
/// (an array per name cost a retain and release per field).
struct FieldLabels: Sendable {
    let bytes: [UInt8]
    let starts: [Int]

    /// Each member's name of a JSON object with its quotes and colon.
    init(_ schema: Schema) {
        self.init(schema) { name, bytes in
            JSONText.appendQuoted(name, to: &bytes)
            bytes.append(UInt8(ascii: ":"))
        }
    }

    /// The line view's `name = `, names right-aligned to the longest.
    init(lineOf schema: Schema) {
        let width = schema.fields.map { $0.name.count }.max() ?? 0
        self.init(schema) { name, bytes in
            bytes += Array((String(repeating: " ", count: width - name.count) + name + " = ").utf8)
        }
    }

    private init(_ schema: Schema, _ label: (String, inout [UInt8]) -> Void) {
        var bytes: [UInt8] = [], starts = [0]
        for f in schema.fields {
            label(f.name, &bytes)
            starts.append(bytes.count)
        }
        (self.bytes, self.starts) = (bytes, starts)
    }
}

/// Joins the JSON text of batches into one array: `[`, the batches' objects separated by `,` and a line break,
/// `]` and a line break.
struct JSONArrayWriter {
    let write: ([UInt8]) -> Void
    private var wroteObject = false

    init(_ write: @escaping ([UInt8]) -> Void) {
        self.write = write
        write(Array("[".utf8))
    }

    mutating func add(_ objects: [UInt8]) {
        guard !objects.isEmpty else { return }
        if wroteObject { write(Array(",\n".utf8)) }
        wroteObject = true
        write(objects)
    }

    func close() { write(Array("]\n".utf8)) }
}

/// Joins the line view of batches: their text less the blank line before the very first row.
struct LineWriter {
    let write: ([UInt8]) -> Void
    private var wroteRow = false

    init(_ write: @escaping ([UInt8]) -> Void) { self.write = write }

    mutating func add(_ rows: [UInt8]) {
        guard !rows.isEmpty else { return }
        write(wroteRow ? rows : Array(rows.dropFirst()))
        wroteRow = true
    }
}

/// Export text written to a file descriptor straight from its arrays. The first failed write (a full disk, a closed
/// pipe) is kept, later text is dropped, and `token` is cancelled so the query stops; ``check()`` throws it.
final class DescriptorOutput {
    let fd: Int32
    let name: String
    let token: CancellationToken
    private(set) var failure: StorageError?

    init(_ fd: Int32, name: String, token: CancellationToken) {
        (self.fd, self.name, self.token) = (fd, name, token)
    }

    func write(_ bytes: [UInt8]) {
        guard failure == nil else { return }
        do throws(StorageError) {
            try FileIO.writeAll(fd, bytes, name)
        } catch {
            failure = error
            token.cancel("cannot write to \(name)")
        }
    }

    func check() throws(StorageError) { if let failure { throw failure } }
}
