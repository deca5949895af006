public import SeamColumnar
import Foundation
import Synchronization
import Dispatch

/// Options of `seam generate`.
public struct GeneratorOptions: Sendable {
    public var customers: Int
    public var seed: UInt64
    /// Simulation window [start, end), µs UTC.
    public var start: Int64
    public var end: Int64

    public init(
        customers: Int, seed: UInt64 = 42, start: Int64 = Timestamp.micros(year: 2024, month: 11, day: 1),
        end: Int64 = Timestamp.micros(year: 2026, month: 11, day: 1)
    ) {
        self.customers = customers
        self.seed = seed
        self.start = start
        self.end = end
    }

    var parameters: SynthParameters { SynthParameters(customers: customers, seed: seed, start: start, end: end) }
}

/// What a generator run wrote.
public struct GeneratorReport: Sendable {
    public struct File: Sendable {
        public var name: String
        /// Data lines (without the CSV header).
        public var lines: Int
        public var bytes: Int
    }
    public var customers: Int
    /// Canonical events the raw files describe (one per order line for purchases and returns).
    public var canonicalEvents: Int
    public var files: [File] = []
    public var injectedErrors: Int = 0
}

/// The deterministic generator of raw multi-channel exports with ground truth (`seam generate`).
public enum Generator {
    /// Writes the raw channel files and `truth/` into `directory`.
    public static func writeRawFiles(_ options: GeneratorOptions, to directory: String) throws -> GeneratorReport {
        let world = World.build(params: options.parameters)
        try FileManager.default.createDirectory(atPath: directory + "/truth", withIntermediateDirectories: true)
        var report = GeneratorReport(customers: options.customers, canonicalEvents: 0)
        var injected: [(String, InjectedError)] = []

        var byChannel: [Channel: [SimEvent]] = [:]
        for a in world.activity {
            for e in a.events { byChannel[e.channel, default: []].append(e) }
            report.canonicalEvents += canonicalCount(a)
        }
        func ordered(_ ch: Channel) -> [SimEvent] {
            (byChannel[ch] ?? []).sorted { ($0.received, $0.person, $0.seq) < ($1.received, $1.person, $1.seq) }
        }

        // JSON lines: one message per line, line numbers 1-based.
        for (name, ch, fileID) in [("web_events.jsonl", Channel.web, UInt64(1)), ("mobile_events.jsonl", Channel.mobile, UInt64(2))] {
            let events = ordered(ch)
            let w = SegmentEventsWriter(world: world, fileID: fileID)
            let (size, errs) = try renderFile(events.count, header: nil, to: directory + "/" + name) { i, out, errs in
                w.render(events[i], line: i + 1, into: &out, injected: &errs)
            }
            report.files.append(.init(name: name, lines: events.count, bytes: size))
            injected += errs.map { (name, $0) }
        }

        // POS: several lines per receipt; line numbers come from a prefix sum of lines per receipt.
        do {
            let events = ordered(.pos)
            var firstLine = [Int](repeating: 0, count: events.count)
            var line = 2
            for (i, e) in events.enumerated() {
                firstLine[i] = line
                let o = world.orders(of: Int(e.person))[Int(e.ref)]
                line += e.kind == .posReturn ? o.refundedLines.count : o.lines.count
            }
            let w = POSWriter(world: world)
            let starts = firstLine
            let (size, errs) = try renderFile(events.count, header: POSWriter.header, to: directory + "/pos_transactions.csv") {
                i, out, errs in _ = w.render(events[i], firstLine: starts[i], into: &out, injected: &errs)
            }
            report.files.append(.init(name: "pos_transactions.csv", lines: line - 2, bytes: size))
            injected += errs.map { ("pos_transactions.csv", $0) }
        }

        func csv(_ name: String, _ ch: Channel, header: String, _ render: @escaping @Sendable (SimEvent, Int, inout TextOutput, inout [InjectedError]) -> Void) throws {
            let events = ordered(ch)
            let (size, errs) = try renderFile(events.count, header: header, to: directory + "/" + name) { i, out, errs in
                render(events[i], i + 2, &out, &errs)
            }
            report.files.append(.init(name: name, lines: events.count, bytes: size))
            injected += errs.map { (name, $0) }
        }
        let email = EmailWriter(world: world), calls = CallCenterWriter(world: world), crm = CRMWriter(world: world)
        try csv("email_activity.csv", .email, header: EmailWriter.header) { email.render($0, line: $1, into: &$2, injected: &$3) }
        try csv("call_center.csv", .callCenter, header: CallCenterWriter.header) { calls.render($0, line: $1, into: &$2, injected: &$3) }
        try csv("crm_contacts.csv", .crm, header: CRMWriter.header) { crm.render($0, line: $1, into: &$2, injected: &$3) }

        report.injectedErrors = injected.count
        try TruthWriter(world: world).write(to: directory + "/truth", injected: injected)
        return report
    }

    /// Canonical `events` rows straight from the simulation (no raw files, no mess), `batch` persons at a time:
    /// the scan-benchmark path for data sets too large to go through raw files.
    /// `customer_id` is the person's index + 1.
    public static func canonicalEvents(
        _ options: GeneratorOptions, batch: Int = 20_000, _ body: (Chunk) throws -> Void
    ) throws {
        try canonicalTables(options, batch: batch, customers: false) { events, _ in try body(events) }
    }

    /// Canonical `events` and `customers` rows straight from the simulation, `batch` persons at a time
    /// (see ``canonicalEvents(_:batch:_:)``; `customers` as ``CanonicalCustomers`` describes). With
    /// `customers: false` the second chunk is nil.
    public static func canonicalTables(
        _ options: GeneratorOptions, batch: Int = 20_000, customers: Bool = true, _ body: (Chunk, Chunk?) throws -> Void
    ) throws {
        let params = options.parameters
        let everyone = Population.make(params: params)
        var start = 0
        while start < everyone.count {
            let end = min(start + batch, everyone.count)
            let world = World.build(params: params, people: Array(everyone[start..<end]))
            try body(
                CanonicalEvents.chunk(world: world, personOffset: start),
                customers ? CanonicalCustomers.chunk(world: world, personOffset: start) : nil)
            start = end
        }
    }

    static func canonicalCount(_ a: Activity) -> Int {
        var n = 0
        for e in a.events where !e.duplicate {
            switch e.kind {
            case .identify, .alias: continue
            case .orderCompleted, .posSale: n += a.orders[Int(e.ref)].lines.count
            case .orderRefunded, .posReturn: n += a.orders[Int(e.ref)].refundedLines.count
            default: n += 1
            }
        }
        return n
    }

    /// Renders `count` items over all cores and writes them in order to `path`, a window of chunks at a time,
    /// so memory holds at most one window of text (about 64 × 4096 lines) whatever the file's size.
    /// Returns the bytes written and the injected errors.
    static func renderFile(
        _ count: Int, header: String?, to path: String, _ body: @Sendable (Int, inout TextOutput, inout [InjectedError]) -> Void
    ) throws -> (Int, [InjectedError]) {
        guard FileManager.default.createFile(atPath: path, contents: nil), let h = FileHandle(forWritingAtPath: path) else {
            throw GeneratorError(message: "cannot write \(path)")
        }
        defer { try? h.close() }
        var size = 0
        if let header {
            let line = Data((header + "\n").utf8)
            try h.write(contentsOf: line)
            size += line.count
        }
        let grain = 4096, window = 64
        var errors: [InjectedError] = []
        var first = 0
        while first < count {
            let chunks = min(window, (count - first + grain - 1) / grain)
            let base = first
            let parts = Mutex([([UInt8], [InjectedError])](repeating: ([], []), count: chunks))
            DispatchQueue.concurrentPerform(iterations: chunks) { c in
                var out = TextOutput(capacity: grain * 300)
                var errs: [InjectedError] = []
                for i in (base + c * grain)..<min(count, base + (c + 1) * grain) { body(i, &out, &errs) }
                parts.withLock { $0[c] = (out.bytes, errs) }
            }
            for (bytes, errs) in parts.withLock({ $0 }) {
                try h.write(contentsOf: Data(bytes))
                size += bytes.count
                errors += errs
            }
            first = min(count, first + chunks * grain)
        }
        return (size, errors)
    }

    static func write(_ bytes: [UInt8], to path: String) throws {
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
            throw GeneratorError(message: "cannot write \(path)")
        }
    }
}

public struct GeneratorError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
