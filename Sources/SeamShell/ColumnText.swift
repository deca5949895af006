import Dispatch
import Foundation
public import Seam

/// One column of a result batch seen through raw pointers, to write its rows as CSV fields or JSON values.
///
/// A writer visits every field of an export. Reaching each through its `ColumnVector` (the optional validity and
/// dictionary, a closure per typed read) cost retains, releases and value-witness calls per field: most of the time
/// of a CSV export. This view holds no reference (the batch it was made from must outlive it), so a row's fields are
/// read from a plain array of them.
struct ColumnText {
    enum Kind { case bigint, integer, timestamp, decimal, boolean, flatText, dictionaryText, other }
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

    /// Row `row` as a CSV field: NULL is an empty field and the empty string `""`, as DuckDB's `COPY … (FORMAT csv)`
    /// writes them.
    @inline(__always) func appendCSV(_ row: Int, of batch: Batch, to out: inout TextBuffer) {
        if isNull(row) { return }
        switch kind {
        case .bigint: DecimalText.append(signed: values.load(fromByteOffset: row &* 8, as: Int64.self), to: &out)
        case .integer: DecimalText.append(signed: Int64(values.load(fromByteOffset: row &* 4, as: Int32.self)), to: &out)
        case .timestamp: Timestamp.append(values.load(fromByteOffset: row &* 8, as: Int64.self), to: &out)
        case .decimal: Decimal2.append(values.load(fromByteOffset: row &* 8, as: Int64.self), to: &out)
        case .boolean: out.append(values.load(fromByteOffset: row, as: UInt8.self) != 0 ? "true" : "false")
        case .flatText, .dictionaryText:
            let bytes = text(row)
            if bytes.isEmpty { out.append("\"\"") } else { CSVText.appendField(bytes: bytes, to: &out) }
        case .other: CSVText.appendField(ResultRenderer.text(batch.columns[index].value(at: row)), to: &out)
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
        case .bigint: DecimalText.append(signed: values.load(fromByteOffset: row &* 8, as: Int64.self), to: &out)
        case .integer: DecimalText.append(signed: Int64(values.load(fromByteOffset: row &* 4, as: Int32.self)), to: &out)
        case .decimal: Decimal2.append(values.load(fromByteOffset: row &* 8, as: Int64.self), to: &out)
        case .timestamp:
            out.append(0x22)
            Timestamp.append(values.load(fromByteOffset: row &* 8, as: Int64.self), to: &out)
            out.append(0x22)
        case .boolean: out.append(values.load(fromByteOffset: row, as: UInt8.self) != 0 ? "true" : "false")
        case .flatText, .dictionaryText: JSONText.appendQuoted(text(row), to: &out)
        case .other:
            switch batch.columns[index].value(at: row) {
            case .double(let d) where d.isFinite:
                var text = ValueCast.formatDouble(d)
                text.withUTF8 { out.append(bytes: UnsafeRawBufferPointer($0)) }
            case let v: JSONText.appendQuoted(ResultRenderer.text(v), to: &out)
            }
        }
    }

}

extension ResultRenderer {
    /// Formats the batches of `r` on every core, a few at a time, and hands their bytes to `write` in order: `text`
    /// appends the rows of one batch (`first` is the result's first row there) through its columns' views.
    static func writeBatches(
        _ r: QueryResult, _ write: ([UInt8]) -> Void,
        _ text: @Sendable (_ columns: UnsafeBufferPointer<ColumnText>, _ batch: Batch, _ first: Bool, _ out: inout TextBuffer) -> Void
    ) {
        let threads = max(1, ProcessInfo.processInfo.activeProcessorCount)
        let batches = r.batches
        var firstRow = 0
        while firstRow < batches.count && batches[firstRow].count == 0 { firstRow += 1 }
        var start = 0
        // Two batches per core at a time: output in order, memory bounded by those batches' text.
        let step = 2 * threads
        while start < batches.count {
            let end = min(batches.count, start + step)
            var texts = [[UInt8]](repeating: [], count: end - start)
            let (from, firstRow) = (start, firstRow)
            texts.withUnsafeMutableBufferPointer { slots in
                let out = UncheckedSlots(slots: slots)
                DispatchQueue.concurrentPerform(iterations: end - start) { j in
                    let b = batches[from + j]
                    var bytes = TextBuffer(capacity: b.count * 16 * max(1, b.columns.count))
                    withExtendedLifetime(b) {
                        let views = b.columns.enumerated().map { ColumnText($1, index: $0) }
                        views.withUnsafeBufferPointer { text($0, b, from + j == firstRow, &bytes) }
                    }
                    out.slots[j] = bytes.bytes
                    bytes.deallocate()
                }
            }
            for t in texts where !t.isEmpty { write(t) }
            start = end
        }
    }
}

/// Result slots each written by one worker of `concurrentPerform`.
private struct UncheckedSlots: @unchecked Sendable {
    let slots: UnsafeMutableBufferPointer<[UInt8]>
}
