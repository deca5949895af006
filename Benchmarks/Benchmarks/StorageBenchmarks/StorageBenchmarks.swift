import Benchmark
import BenchmarkSupport
import Seam

/// Encode and decode throughput per encoding and for LZ4, on columns shaped like the generator's events.
/// Each benchmark checks its result so a fast wrong answer fails (STYLE.md, habit 11).
/// Each reports rows/s and bytes/s (``Benchmark/measureThroughput(rows:bytes:_:)``): bytes are the decoded column's for
/// encode and decode, the uncompressed payload's for LZ4.
let rows = 65_536

/// Event-shaped columns from the generator's own canonical rows.
let eventColumns: [(name: String, vector: ColumnVector)] = {
    var chunk: Chunk? = nil
    try! Generator.canonicalEvents(GeneratorOptions(customers: 2_000, seed: 1), batch: 2_000) { c in chunk = c }
    let c = chunk!
    return c.schema.fields.indices.map { i in (c.schema[i].name, Gather.slice(c.columns[i], 0..<min(rows, c.rowCount))) }
}()

func column(_ name: String) -> ColumnVector { eventColumns.first { $0.name == name }!.vector }

/// (benchmark label, column, codec)
let cases: [(String, String, CodecID)] = [
    ("plain/amount", "amount", .plain),
    ("for/quantity", "quantity", .frameOfReference),
    ("for/customer_id", "customer_id", .frameOfReference),
    ("vfor/quantity", "quantity", .verticalFrameOfReference),
    ("vfor/customer_id", "customer_id", .verticalFrameOfReference),
    ("delta/ts", "ts", .delta),
    ("rle/customer_id", "customer_id", .runLength),
    ("rle/channel", "channel", .runLength),
    ("dictionary/event_type", "event_type", .dictionary),
    ("dictionary/category", "category", .dictionary),
]

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: throughputMetrics + [.mallocCountTotal], timeUnits: .microseconds, maxDuration: .seconds(2), maxIterations: 200)

    for (label, name, codec) in cases {
        let v = column(name)
        let bytesPerRow = Double(v.rawByteCount) / Double(v.count)
        Benchmark("encode \(label) (\(Int(bytesPerRow)) B/row raw)", configuration: .init(scalingFactor: .one)) { b in
            b.measureThroughput(rows: v.count, bytes: v.rawByteCount) {
                let e = BlockCodec.encode(v, force: codec, lz4: .never)
                precondition(e.codec == codec && e.rows == v.count)
                blackHole(e)
            }
        }
        let block = BlockCodec.encode(v, force: codec, lz4: .never)
        let aligned = Buffer(copying: block.bytes)
        Benchmark("decode \(label) (\(block.bytes.count / 1024) KiB block)", configuration: .init(scalingFactor: .one)) { b in
            try b.measureThroughput(rows: v.count, bytes: v.rawByteCount) {
                let d = try BlockCodec.decode(aligned.bytes, type: v.type, owner: aligned)
                precondition(d.count == v.count)
                blackHole(d)
            }
        }
    }

    // count(*) WHERE amount > 100.00 counted on the packed values of a sparse block (only purchases have an amount),
    // horizontal and vertical layouts; bytes are the block's stored bytes.
    let amounts = column("amount")
    let over = (0..<amounts.count).filter { i in if case .decimal(let x) = amounts.value(at: i) { x > 10_000 } else { false } }.count
    for codec in [CodecID.frameOfReference, .verticalFrameOfReference] {
        let block = BlockCodec.encode(amounts, force: codec, lz4: .never, sparse: .always)
        precondition(block.codec == codec)
        let aligned = Buffer(copying: block.bytes)
        Benchmark("count in range \(codec)+sparse/amount (\(block.bytes.count / 1024) KiB block)", configuration: .init(scalingFactor: .one)) { b in
            try b.measureThroughput(rows: amounts.count, bytes: block.bytes.count) {
                let n = try BlockCodec.countInRange(aligned.bytes, type: amounts.type, owner: aligned, lo: 10_001, hi: .max)
                precondition(n == over)
                blackHole(n)
            }
        }
    }

    // sum(amount) WHERE amount > 100.00 summed on the packed codes of the same sparse block, vertical layout.
    let overSum = (0..<amounts.count).reduce(Int64(0)) { s, i in if case .decimal(let x) = amounts.value(at: i), x > 10_000 { s + x } else { s } }
    do {
        let block = BlockCodec.encode(amounts, force: .verticalFrameOfReference, lz4: .never, sparse: .always)
        let aligned = Buffer(copying: block.bytes)
        let valid = (0..<amounts.count).filter { !amounts.value(at: $0).isNull }.count
        Benchmark("sum in range vfor+sparse/amount (\(block.bytes.count / 1024) KiB block)", configuration: .init(scalingFactor: .one)) { b in
            try b.measureThroughput(rows: amounts.count, bytes: block.bytes.count) {
                let r = try BlockCodec.sumInRange(aligned.bytes, type: amounts.type, lo: 10_001, hi: .max, valid: valid)
                precondition(r?.count == over && r?.sum == overSum)
                blackHole(r)
            }
        }
    }

    // count(*) WHERE channel = 'web' on a dictionary block's codes (one passing entry, compared four words of codes at
    // a time), and the same predicate's flags at the rows where quantity is valid (the equal codes marked, then 64 rows
    // at a time): what sum(quantity) WHERE channel = 'web' reads of the channel column.
    do {
        let channels = column("channel"), quantities = column("quantity")
        let isWeb: (ColumnVector) throws -> [UInt8] = { e in (0..<e.count).map { e.value(at: $0) == .varchar("web") ? 1 : 0 } }
        let web = (0..<channels.count).filter { channels.value(at: $0) == .varchar("web") }.count
        let block = BlockCodec.encode(channels, force: .dictionary, lz4: .never)
        let aligned = Buffer(copying: block.bytes)
        Benchmark("count equal dictionary/channel (\(block.bytes.count / 1024) KiB block)", configuration: .init(scalingFactor: .one)) { b in
            try b.measureThroughput(rows: channels.count, bytes: block.bytes.count) {
                let n = try BlockCodec.countDictionaryFlags(aligned.bytes, type: .varchar, owner: aligned, valid: channels.count, entryFlags: isWeb)
                precondition(n == web)
                blackHole(n)
            }
        }
        var words = [UInt64](repeating: 0, count: (quantities.count + 63) / 64)
        for r in 0..<quantities.count where !quantities.value(at: r).isNull { words[r >> 6] |= 1 << UInt64(r & 63) }
        let valid = words.reduce(0) { $0 + $1.nonzeroBitCount }
        let webWithQuantity = (0..<channels.count).filter { !quantities.value(at: $0).isNull && channels.value(at: $0) == .varchar("web") }.count
        Benchmark("flags at valid quantity rows dictionary/channel (\(block.bytes.count / 1024) KiB block, \(valid) rows)", configuration: .init(scalingFactor: .one)) { b in
            try b.measureThroughput(rows: channels.count, bytes: block.bytes.count) {
                let f = try words.withUnsafeBufferPointer {
                    try BlockCodec.decodeDictionaryFlags(aligned.bytes, type: .varchar, owner: aligned, atSetBitsOf: $0.baseAddress!, rows: channels.count, valid: valid, entryFlags: isWeb)
                }
                precondition(f!.reduce(0) { $0 + Int($1) } == webWithQuantity)
                blackHole(f)
            }
        }
        // The count as the engine takes it: the entries judged in place as bytes, no entries vector or closure.
        Benchmark("count matching in place dictionary/channel (\(block.bytes.count / 1024) KiB block)", configuration: .init(scalingFactor: .one)) { b in
            try b.measureThroughput(rows: channels.count, bytes: block.bytes.count) {
                let n = try BlockCodec.countDictionaryMatches(
                    aligned.bytes, type: .varchar, owner: aligned, valid: channels.count, constants: [Array("web".utf8)], passes: true)
                precondition(n == web)
                blackHole(n)
            }
        }
        // sum(quantity) WHERE channel = 'web' on both blocks' packed codes: the channel codes read at quantity's valid
        // rows into a bit per stored quantity, the quantities summed under those bits; bytes are both blocks'.
        let stored = BlockCodec.encode(quantities, force: .verticalFrameOfReference, lz4: .never, sparse: .always)
        let storedAligned = Buffer(copying: stored.bytes)
        let webUnits = (0..<channels.count).reduce(Int64(0)) { s, i in
            guard channels.value(at: i) == .varchar("web") else { return s }
            switch quantities.value(at: i) {
            case .integer(let q): return s + Int64(q)
            case .bigint(let q): return s + q
            default: return s
            }
        }
        Benchmark("sum where text matches vfor+sparse/quantity, dictionary/channel (\((stored.bytes.count + block.bytes.count) / 1024) KiB)", configuration: .init(scalingFactor: .one)) { b in
            try b.measureThroughput(rows: channels.count, bytes: stored.bytes.count + block.bytes.count) {
                let r = try BlockCodec.sumWhereTextMatches(
                    values: storedAligned.bytes, type: quantities.type, valid: valid, text: aligned.bytes, constants: [Array("web".utf8)], passes: true)
                precondition(r?.count == webWithQuantity && r?.sum == webUnits)
                blackHole(r)
            }
        }
    }

    // LZ4 on a byte-aligned payload (plain event types) and on a bit-packed one (FOR quantities).
    for (label, name, codec) in [("plain/event_type", "event_type", CodecID.plain), ("for/ts", "ts", CodecID.frameOfReference)] {
        let payload = BlockCodec.encode(column(name), force: codec, lz4: .never).bytes
        let compressed = LZ4Block.compressIfItPays(payload)
        Benchmark("lz4 compress \(label) (\(payload.count / 1024) KiB)", configuration: .init(scalingFactor: .one)) { b in
            b.measureThroughput(rows: rows, bytes: payload.count) { blackHole(LZ4Block.compressIfItPays(payload)) }
        }
        if let compressed {
            Benchmark("lz4 decompress \(label) (\(payload.count / 1024) → \(compressed.count / 1024) KiB)", configuration: .init(scalingFactor: .one)) { b in
                try b.measureThroughput(rows: rows, bytes: payload.count) {
                    let out = try compressed.withUnsafeBytes { try LZ4Block.decompress($0, rawCount: payload.count) }
                    precondition(out.count == payload.count)
                    out.deallocate()
                }
            }
        }
    }
}
