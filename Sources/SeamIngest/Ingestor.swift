import Foundation
import Synchronization
public import SeamStorage
import SeamColumnar
import SeamKernels

/// What one ingest did, per source: every record read either landed, was quarantined or was a duplicate.
public struct SourceSummary: Sendable {
    public var source: String
    public var files = 0
    public var bytes = 0
    public var read = 0
    public var landed = 0
    public var quarantined = 0
    public var duplicates = 0
    /// Event rows written (an order with three lines is one record, three rows).
    public var rows = 0
    public var issues: [Severity: Int] = [:]
    public var balanced: Bool { read == landed + quarantined + duplicates }
    public init(source: String) { self.source = source }
}

public struct IngestSummary: Sendable {
    public var sources: [SourceSummary] = []
    public var customers = 0
    public var identifiers = 0
    public var seconds = 0.0
    /// Files that could not be read at all (with why); their records are not counted anywhere.
    public var failedFiles: [(file: String, reason: String)] = []
    /// Files read only up to damage (a truncated or corrupt gzip stream): the records before it are counted.
    public var damagedFiles: [(file: String, reason: String)] = []
}

public struct IngestOptions: Sendable {
    /// Read every file as this source: `segment`, or a mapping's name.
    public var source: String?
    /// A mapping for the files (overrides detection).
    public var mapping: Mapping?
    /// The mappings detection chooses from (the built-in ones in `data/mappings/`).
    public var mappings: [Mapping] = []
    public var windowBytes = 8 << 20
    /// Windows parsed ahead of the one landing (each holds `windowBytes` of input and its parsed records).
    public var parseAhead = 2
    /// Records per commit: bounds memory whatever the input size.
    public var batchRecords = 400_000
    /// Near the end of the input a batch commits once it holds at least what is left to read (estimated from the
    /// bytes left and the records per byte so far), and at least this many records: the batches halve towards the
    /// end, so the last commit, the one nothing else overlaps, is small.
    public var tailBatchRecords = 50_000
    /// A Segment file that is one JSON text (an array, a pretty-printed message) is read whole up to this size.
    public var maxDocumentBytes = 256 << 20
    /// Lines longer than this are quarantined instead of read.
    public var maxLineBytes = 64 << 20
    /// Crash injection for the commits (end-to-end crash tests; `SEAM_CRASH_AT`).
    public var faults: CommitFaults = .none
    /// Called with (file, bytes done, bytes total, records processed so far: landed, quarantined or duplicate) as a
    /// file is read. Landing runs a few windows behind reading, across files, so the count trails the bytes.
    public var progress: (@Sendable (String, Int, Int, Int) -> Void)?
    public init() {}
}

/// Reads raw files into the store: parse (in parallel) → normalize → dedupe → identity → commit, in bounded batches.
public final class Ingestor {
    let store: Store
    let options: IngestOptions
    let rules: IdentityRules
    // The landing state below is used by the landing thread alone, one access at a time (commits get copies). Its
    // properties skip the dynamic exclusivity checks of class properties (`@exclusivity(unchecked)`): a runtime call
    // with a thread-local lookup per access, several per record, took 9 % of the landing thread's per-record time.
    @exclusivity(unchecked) var graph: IdentityGraph
    @exclusivity(unchecked) var resolution: Resolution
    /// The resolution the store's `identities` holds: a commit writes the nodes whose customer or status differ.
    var savedResolution: Resolution
    /// Each node's standing under the rules' lists, judged once (``IdentityGraph/resolve(_:judged:)``).
    var judged: [Resolution.Status] = []
    @exclusivity(unchecked) var seenEvents: Int64Set
    @exclusivity(unchecked) var seenQuarantine: Int64Set
    @exclusivity(unchecked) var seenFacts: Int64Set
    @exclusivity(unchecked) var quality = RowBuilder(CanonicalTables.qualityIssues)
    @exclusivity(unchecked) var consents = RowBuilder(CanonicalTables.consents)
    @exclusivity(unchecked) var traits = RowBuilder(CanonicalTables.profileTraits)
    let quarantine: QuarantineWriter
    @exclusivity(unchecked) var summaries: [String: SourceSummary] = [:]
    var warnedOnce = Set<String>()
    @exclusivity(unchecked) var pending = 0
    var committing: Deferred<IngestCommitError?>?
    /// Landed event rows that workers built, waiting for the next commit.
    var eventChunks: [AppendRows] = []
    var damaged: [(file: String, reason: String)] = []
    @exclusivity(unchecked) var landing: [Landing] = []
    /// Windows parsed ahead of landing and per-file actions, in input order (``submit(_:source:file:)``).
    var queue: [Queued] = []
    var queuedWindows = 0
    /// The node ids of the record being landed (reused: no array per record).
    @exclusivity(unchecked) var observed: [Int64] = []
    /// The event totals of the rows landed by this ingest, per anchor node: `customers` is rebuilt from them and
    /// the segments stored before, without reading back what was just written.
    @exclusivity(unchecked) var landed: Profiles.LandedEvents
    /// Per node (id - 1), whether the rules' block list holds it; filled as nodes appear, for the nodes that
    /// resolution has not judged yet.
    @exclusivity(unchecked) var blockedNodes: [Bool] = []
    /// How far the run's input (file sizes, compressed ones as stored) has been read and landed: what
    /// ``InputProgress/remainingRecords`` estimates the records still to come from.
    var input = InputProgress()
    let ingestTime: Int64

    public init(store: Store, options: IngestOptions) throws {
        self.store = store
        self.options = options
        try IngestTables.ensure(store)
        rules = try IdentityRules.load(storePath: store.path)
        (graph, savedResolution) = try IdentityStore.loadWithCustomers(store)
        resolution = graph.resolve(rules, judged: &judged)
        seenEvents = Int64Set(try IngestTables.int64Column(store, "events", "event_id"))
        seenQuarantine = Int64Set(try IngestTables.int64Column(store, "quality_issues", "record_id"))
        seenFacts = Int64Set(try IngestTables.int64Column(store, "consents", "event_id") + IngestTables.int64Column(store, "profile_traits", "event_id"))
        quarantine = QuarantineWriter(storePath: store.path)
        landed = Profiles.LandedEvents(storedBefore: Set(try store.manifest("events").segments.map(\.file)))
        // The quality_issues commit is what makes a quarantine entry real: entries a crash left without one
        // belong to a batch that never landed and will be read again.
        ingestTime = Int64(Date().timeIntervalSince1970 * 1e6)
        let entries = try QuarantineWriter.read(storePath: store.path)
        let committed = seenQuarantine
        if entries.contains(where: { !committed.contains($0.recordID) }) {
            try QuarantineWriter.rewrite(storePath: store.path, entries.filter { committed.contains($0.recordID) })
        }
    }

    /// Ingests files and folders (recursively; hidden files and `truth/` folders are skipped).
    public func run(_ paths: [String]) throws -> IngestSummary {
        let start = Date()
        var summary = IngestSummary()
        let files = try Self.expand(paths)
        input.total = files.reduce(0) { total, file in
            var st = stat()
            return total + (stat(file, &st) == 0 ? Int(st.st_size) : 0)
        }
        for file in files {
            do {
                try ingestFile(file)
            } catch let e as IngestError {
                summary.failedFiles.append((file, e.message))
            }
        }
        try drain()
        // `customers` is built while the last commit writes its events: it reads the identities, traits and consents
        // that commit writes first, and takes the events' totals from what landed. It is written after the events.
        let factsCommitted = DispatchSemaphore(value: 0)
        try startCommit(rewritingIdentities: true, factsCommitted: factsCommitted)
        summary.customers = Self.distinctCustomers(resolution.customer)
        summary.identifiers = graph.nodes.count
        // What only landing needed is let go before `customers` is built. It is taken apart on another thread (a
        // graph of 100,000s of identifiers is not worth a wait here), so the two may briefly overlap in memory.
        let done = (seenEvents, seenFacts, graph)
        DispatchQueue.global().async { withExtendedLifetime(done) {} }
        (seenEvents, seenFacts, graph) = (Int64Set(), Int64Set(), IdentityGraph())
        // Customers through the key map the commit is writing (node → customer, as `identities` will say).
        let keyMap = [Int64.min] + (0..<summary.identifiers).map { resolution.storedCustomer(ofNodeAt: $0) ?? Int64.min }
        factsCommitted.wait()
        let customers = try? Profiles.build(store, landed: landed, keyMap: keyMap)
        try finishCommit()
        // Built from a store the commit left whole (had it failed, `finishCommit` threw): a failure to build is real.
        try IngestTables.replaceAll(store, "customers", customers ?? Profiles.build(store, landed: landed))
        summary.sources = summaries.values.sorted { $0.source < $1.source }
        summary.damagedFiles = damaged
        summary.seconds = Date().timeIntervalSince(start)
        return summary
    }

    /// How many distinct customers `customer` (per node; 0 for none) names. Customer ids are node ids, so a flag
    /// per node counts them without hashing.
    static func distinctCustomers(_ customer: [Int64]) -> Int {
        var seen = [Bool](repeating: false, count: customer.count + 1)
        var n = 0
        for c in customer where c > 0 && c < seen.count && !seen[Int(c)] {
            seen[Int(c)] = true
            n += 1
        }
        // Ids past the node count cannot come from resolution; counted apart all the same.
        return n + Set(customer.filter { $0 >= seen.count }).count
    }

    /// File names a folder scan picks up (each also gzip-compressed, with `.gz` after it).
    static let inputSuffixes = [".json", ".jsonl", ".ndjson", ".csv", ".txt", ".tsv"]

    static func expand(_ paths: [String]) throws(IngestError) -> [String] {
        var out: [String] = []
        for p in paths {
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: p, isDirectory: &isDir) else { throw IngestError("\(p): no such file or folder") }
            if isDir.boolValue {
                let items = (try? FileManager.default.subpathsOfDirectory(atPath: p)) ?? []
                for item in items.sorted() {
                    let parts = item.split(separator: "/")
                    if parts.contains(where: { $0.hasPrefix(".") || $0 == "truth" }) { continue }
                    let full = p + "/" + item
                    var d: ObjCBool = false
                    if FileManager.default.fileExists(atPath: full, isDirectory: &d), !d.boolValue,
                        Self.inputSuffixes.contains(where: { item.hasSuffix($0) || item.hasSuffix($0 + ".gz") })
                    {
                        out.append(full)
                    }
                }
            } else {
                out.append(p)
            }
        }
        return out
    }

    // MARK: - Files

    enum Kind {
        case segment
        case csv(Mapping)
    }

    func ingestFile(_ path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw IngestError("\(path): cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var st = stat()
        fstat(fd, &st)
        let total = Int(st.st_size)
        defer { input.fileBase += total }
        let name = (path as NSString).lastPathComponent
        let gzip = InputStream.isGzip(fd: fd)
        let head = try InputStream.head(fd: fd, fileBytes: total, path: path, count: 64 << 10)
        // `web_events.jsonl.gz` is detected as `web_events.jsonl` would be.
        let kind = try detect(name: gzip && name.hasSuffix(".gz") ? String(name.dropLast(3)) : name, head: head)
        let sourceName: String
        switch kind {
        case .segment: sourceName = "segment"
        case .csv(let m): sourceName = m.name
        }
        summaries[sourceName, default: SourceSummary(source: sourceName)].files += 1
        summaries[sourceName]!.bytes += total
        let stream = try InputStream(fd: fd, fileBytes: total, path: path, gzip: gzip)
        let lastLine: Int
        switch kind {
        case .segment:
            // One JSON text over many lines (a pretty-printed message, an array of messages, a batch envelope) is
            // read as a whole; anything else as one message per line.
            let oneText = Self.looksLikeOneDocument(head)
            // A plain file known to be too large to read whole is not read twice (compressed sizes say nothing).
            if oneText, gzip || total <= options.maxDocumentBytes,
                let last = try readJSONDocument(fd: fd, fileBytes: total, path: path, gzip: gzip, file: name)
            {
                lastLine = last
            } else if oneText, Self.firstToken(Self.skippingBOM(head)) == UInt8(ascii: "[") {
                // An array too large to read whole (or whose text does not parse as a whole): element by element.
                lastLine = try readJSONArray(stream, file: name)
            } else {
                lastLine = try readJSONLines(stream, file: name)
            }
        case .csv(let m): lastLine = try readCSV(stream, file: name, mapping: m)
        }
        if let damage = stream.damage {
            damaged.append((path, damage))
            try afterQueued { [self] in
                // The records before the damage landed; the damage itself is reported once (also across re-runs).
                let id = Int64(bitPattern: Hash64.hash(sourceName + "|" + name + "|damaged_input|" + damage))
                if seenQuarantine.insert(id) {
                    summaries[sourceName]!.issues[.error, default: 0] += 1
                    quality.add([.varchar(sourceName), .varchar("\(name):\(lastLine)"), .varchar(Severity.error.rawValue),
                        .varchar("damaged_input"), .varchar(damage + "; the records before it were read"), .timestamp(ingestTime), .bigint(id)])
                }
                try flush()
            }
        }
    }

    func detect(name: String, head: [UInt8]) throws(IngestError) -> Kind {
        if let m = options.mapping { return .csv(m) }
        if let s = options.source {
            if s == "segment" { return .segment }
            guard let m = options.mappings.first(where: { $0.name == s }) else {
                throw IngestError("unknown source '\(s)' (known: segment, \(options.mappings.map(\.name).joined(separator: ", ")))")
            }
            return .csv(m)
        }
        let body = Self.skippingBOM(head)
        if let first = Self.firstToken(body),
            first == UInt8(ascii: "{") || first == UInt8(ascii: "[") && (name.hasSuffix(".json") || name.hasSuffix(".jsonl"))
        {
            return .segment  // JSON lines, or one JSON text (an array of messages)
        }
        if head.isEmpty, name.hasSuffix(".json") || name.hasSuffix(".jsonl") { return .segment }
        let firstLine = body.prefix { $0 != 0x0A }
        for m in options.mappings {
            let d = m.dialect
            let header = String(decoding: firstLine, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                .split(separator: Character(UnicodeScalar(d.delimiter)), omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"' ")) }
            if m.matches(fileName: name, header: header) { return .csv(m) }
        }
        throw IngestError(
            "\(name): cannot tell which source this file is (not Segment JSON, and no mapping's file name or header matches); "
                + "name one with --source or --mapping"
                + (options.mappings.isEmpty ? " (no mappings were loaded: point --mappings or SEAM_MAPPINGS at a folder of them)" : ""))
    }

    /// Reads windows of the file, handing each (the unused tail of the previous one plus fresh bytes) to `process`,
    /// which returns how many bytes it used; the rest starts the next window.
    ///
    /// `process` calls its third argument with that count as soon as it knows it (before it lands the previous
    /// window): the next window is then read on another thread while this one lands. Reading (a copy out of the page
    /// cache, and first touches of the new window) had taken a tenth of the landing thread's time.
    func windows(_ stream: InputStream, file: String, _ process: ([UInt8], Bool, _ readNext: (Int) -> Void) throws -> Int) throws {
        let want = options.windowBytes
        // The carried tail, then fresh bytes read straight into the new window (not cleared first: only what was
        // read counts).
        @Sendable func fill(_ stream: InputStream, _ carry: [UInt8]) throws -> (window: [UInt8], eof: Bool) {
            var eof = false
            let window = try [UInt8](unsafeUninitializedCapacity: carry.count + want) { buffer, count in
                let base = UnsafeMutableRawPointer(buffer.baseAddress!)
                carry.withUnsafeBytes { if $0.count > 0 { base.copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
                var filled = 0
                defer { count = carry.count + filled }
                while filled < want {
                    let got = try stream.read(into: base + carry.count + filled, count: want - filled)
                    filled += got
                    if got == 0 || stream.position >= stream.fileBytes && !stream.compressed {
                        eof = true
                        break
                    }
                }
            }
            return (window, eof)
        }
        nonisolated(unsafe) let reader = stream  // touched by one thread at a time: the read ahead is waited for
        var (window, eof) = try fill(reader, [])
        while true {
            input.readTo = input.fileBase + stream.position
            var ahead: Deferred<Result<(window: [UInt8], eof: Bool), any Error>>?
            var position = stream.position
            // A read ahead still running when `process` throws is waited for: the stream is closed after this.
            defer { _ = ahead?.wait() }
            let used = try process(window, eof) { used in
                guard !eof, ahead == nil else { return }
                position = stream.position
                let carry = used == window.count ? [] : Array(window[used...])
                ahead = Deferred(onOwnThread: true) { Result { try fill(reader, carry) } }
            }
            options.progress?(file, position, stream.fileBytes, summaries.values.reduce(0) { $0 + $1.read })
            if let next = ahead {
                ahead = nil
                (window, eof) = try next.wait().get()
            } else if !eof {
                (window, eof) = try fill(reader, used == window.count ? [] : Array(window[used...]))
            } else {
                // At the end: what is left is handed over again, unless nothing of it was used.
                guard used > 0 && used < window.count else { return }
                window = Array(window[used...])
            }
        }
    }

    /// A window whose records are being parsed on other threads while an earlier window lands.
    struct InFlight {
        var window: [UInt8]
        var header: String?
        var parsed: Deferred<ParsedWindow>
        /// The run's input bytes up to the end of this window (set by ``submit(_:source:file:)``).
        var inputEnd = 0
    }

    /// How far the run's input has been read and landed, for the estimate of the records still to come.
    struct InputProgress {
        var total = 0
        var fileBase = 0
        var readTo = 0
        /// Input bytes and records (read: landed, quarantined or duplicate) landed so far.
        var landedBytes = 0, landedRecords = 0
        /// Where the file being landed began, in both.
        var fileStartBytes = 0, fileStartRecords = 0
        var landingFile = ""

        /// Records still to land, at the records per byte of the file being landed (of the whole run before its
        /// first window lands).
        var remainingRecords: Int {
            let (fileBytes, fileRecords) = (landedBytes - fileStartBytes, landedRecords - fileStartRecords)
            let (bytes, records) = fileBytes > 0 && fileRecords > 0 ? (fileBytes, fileRecords) : (landedBytes, landedRecords)
            guard bytes > 0 else { return Int.max }
            return Int(Double(max(0, total - landedBytes)) * Double(records) / Double(bytes))
        }

        mutating func landed(_ w: InFlight, file: String, records: Int) {
            if file != landingFile {
                (landingFile, fileStartBytes, fileStartRecords) = (file, landedBytes, landedRecords)
            }
            landedBytes = max(landedBytes, w.inputEnd)
            landedRecords += records
        }
    }

    /// What lands next, in input order: windows being parsed, and what a file does once its last window landed.
    enum Queued {
        case window(InFlight, source: String, file: String)
        case afterFile(() throws -> Void)
    }

    /// Queues a window being parsed, then lands the oldest windows (in order) until at most
    /// `options.parseAhead` are still being parsed: the workers always have the next window to start on while
    /// the landing thread works, instead of idling at the end of each window. The queue runs across files, so the
    /// next file's first windows parse while the previous file's last ones land.
    func submit(_ w: InFlight, source: String, file: String) throws {
        var w = w
        w.inputEnd = input.readTo
        queue.append(.window(w, source: source, file: file))
        queuedWindows += 1
        while queuedWindows > options.parseAhead { try landNext() }
    }

    /// Runs `action` once everything queued before it has landed.
    func afterQueued(_ action: @escaping () throws -> Void) throws {
        if queue.isEmpty { try action() } else { queue.append(.afterFile(action)) }
    }

    /// Lands the oldest queued window, and the file actions right behind it.
    func landNext() throws {
        repeat {
            switch queue.removeFirst() {
            case .window(let w, let source, let file):
                queuedWindows -= 1
                try land(w, source: source, file: file)
            case .afterFile(let action): try action()
            }
        } while !queue.isEmpty && { if case .afterFile = queue[0] { true } else { false } }()
    }

    /// Lands everything queued, in order.
    func drain() throws {
        while !queue.isEmpty { try landNext() }
    }

    /// Lands a window (waiting for its parse), and commits when a batch is full.
    func land(_ w: InFlight, source: String, file: String) throws {
        let items = w.parsed.wait()
        let before = pending
        w.window.withUnsafeBytes { apply(items, window: $0, source: source, file: file, header: w.header) }
        // A window's records are a few flat lists per piece: freed here, at once.
        _ = consume items
        input.landed(w, file: file, records: pending - before)
        if pending >= options.batchRecords || pending >= options.tailBatchRecords && pending >= input.remainingRecords { try startCommit() }
    }

    // MARK: - Segment JSON

    static func skippingBOM(_ head: [UInt8]) -> ArraySlice<UInt8> {
        head.starts(with: [0xEF, 0xBB, 0xBF]) ? head.dropFirst(3) : head[...]
    }

    static func isJSONSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 }

    /// The first byte of `text` that is not JSON whitespace.
    static func firstToken<C: Collection<UInt8>>(_ text: C) -> UInt8? { text.first { !isJSONSpace($0) } }

    /// Whether a Segment file is one JSON text rather than one message per line: it opens with `[`, or its first
    /// line is not a whole JSON value.
    static func looksLikeOneDocument(_ head: [UInt8]) -> Bool {
        let body = Self.skippingBOM(head)
        guard let first = body.firstIndex(where: { !Self.isJSONSpace($0) }) else { return false }
        if body[first] == UInt8(ascii: "[") { return true }
        guard body[first] == UInt8(ascii: "{") else { return false }
        // JSON lines whose first line is broken still have whole messages on the next lines; a pretty-printed text
        // has none (its lines are pieces: `"type": "track",`).
        var doc = JSONDocument()
        let lines = body[first...].split(separator: 0x0A, maxSplits: 4, omittingEmptySubsequences: true).prefix(4)
        return !lines.contains { line in Array(line).withUnsafeBytes { p in (try? doc.parse(p)) != nil } }
    }

    /// Reads a file holding one JSON text: an array of messages, a `batch` envelope or a single message, however it
    /// is laid out over lines. Each message is a record located by the line it starts on. Returns nil (nothing read)
    /// when the file is not one valid JSON text, or is larger than `maxDocumentBytes`: it is then read line by line.
    func readJSONDocument(fd: Int32, fileBytes: Int, path: String, gzip: Bool, file: String) throws -> Int? {
        let stream = try InputStream(fd: fd, fileBytes: fileBytes, path: path, gzip: gzip)
        var text: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let got = try chunk.withUnsafeMutableBytes { try stream.read(into: $0.baseAddress!, count: $0.count) }
            if got == 0 { break }
            text.append(contentsOf: chunk[..<got])
            if text.count > options.maxDocumentBytes { return nil }
        }
        guard stream.damage == nil else { return nil }
        let start = text.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
        var doc = JSONDocument()
        let parsed: ParsedWindow? = text.withUnsafeBytes { all -> ParsedWindow? in
            let body = UnsafeRawBufferPointer(rebasing: all[start...])
            do {
                try doc.parse(body)
            } catch let error as JSONError {
                // An array is read element by element instead (``readJSONArray``): its good elements still land.
                // JSON lines whose first lines are broken: their other lines are whole messages, read line by line.
                if Self.firstToken(body) == UInt8(ascii: "[") || Self.someLineParses(body) { return nil }
                // One text that does not parse: quarantined as one record, the error placed by line and column.
                let at = start + error.offset
                let before = UnsafeRawBufferPointer(rebasing: all[..<min(at, all.count)])
                let line = before.reduce(1) { $0 + ($1 == 0x0A ? 1 : 0) }
                let column = at - ((before.lastIndex(of: 0x0A) ?? -1) + 1) + 1
                var piece = PieceBuilder(piece: 0, capacity: 1)
                piece.add(line: 1, sub: 0, outcome: .rejected(QualityIssue(.error, "broken_json",
                    "the file is one JSON text that does not parse: \(error.message) at line \(line), column \(column)")),
                    rawStart: 0, rawEnd: all.count)
                return ParsedWindow(pieces: [piece])
            } catch {
                return nil
            }
            var messages: [JSONDocument.Ref] = []
            if doc.kind(doc.root) == .array {
                messages = doc.elements(doc.root)
            } else if let batch = doc.member(doc.root, "batch"), doc.kind(batch) == .array {
                messages = doc.elements(batch)
            } else {
                messages = [doc.root]
            }
            // Line of a byte offset: newlines before it, found once.
            var newlines: [Int] = []
            for (i, c) in all.enumerated() where c == 0x0A { newlines.append(i) }
            func line(_ offset: Int) -> Int {
                var lo = 0, hi = newlines.count
                while lo < hi {
                    let mid = (lo + hi) / 2
                    if newlines[mid] < offset { lo = mid + 1 } else { hi = mid }
                }
                return lo + 1
            }
            var piece = PieceBuilder(piece: 0, capacity: messages.count)
            let several = messages.count > 1 || doc.kind(doc.root) == .array
            var one = JSONDocument()
            for (i, m) in messages.enumerated() {
                let raw = doc.raw(m)
                let s = all.baseAddress!.distance(to: raw.baseAddress!)
                piece.addMessage(parsing: raw, scratch: &one, line: line(s), sub: several ? i + 1 : 0, rawStart: s, rawEnd: s + raw.count)
            }
            return ParsedWindow(pieces: [piece])
        }
        guard let parsed else { return nil }
        try drain()  // landed in place, after what earlier files queued
        text.withUnsafeBytes { apply(parsed, window: $0, source: "segment", file: file, header: nil) }
        if pending >= options.batchRecords { try startCommit() }
        return newlineCount(text) + 1
    }

    /// Whether some line of `text` is a JSON object on its own (the file is JSON lines, not one broken text).
    static func someLineParses(_ text: UnsafeRawBufferPointer) -> Bool {
        var doc = JSONDocument()
        return text.split(separator: 0x0A).contains { line in
            guard firstToken(line) == UInt8(ascii: "{") else { return false }
            return (try? doc.parse(UnsafeRawBufferPointer(rebasing: line))) != nil && doc.kind(doc.root) == .object
        }
    }

    func newlineCount(_ b: [UInt8]) -> Int { b.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) } }

    /// Reads Segment messages, one per line; returns the number of the last line.
    func readJSONLines(_ stream: InputStream, file: String) throws -> Int {
        var lineNo = 1
        var first = true
        var skipping = false
        let maxLine = options.maxLineBytes
        try windows(stream, file: file) { (window: [UInt8], isLast: Bool, readNext: (Int) -> Void) throws -> Int in
            var lines: [(start: Int, end: Int, line: Int, sub: Int)] = []
            var tooLong: Rejected?
            let used = window.withUnsafeBytes { buf -> Int in
                var p = 0
                if first, buf.count >= 3, buf[0] == 0xEF, buf[1] == 0xBB, buf[2] == 0xBF { p = 3 }
                first = false
                while p < buf.count {
                    guard let nl = memchr(buf.baseAddress! + p, 0x0A, buf.count - p) else {
                        if !isLast {
                            if buf.count - p > maxLine {
                                if !skipping {
                                    tooLong = Rejected(line: lineNo, sub: 0, issue: QualityIssue(.error, "line_too_long",
                                        "a line longer than \(maxLine >> 20) MiB"), rawStart: p, rawEnd: p + 4096)
                                }
                                skipping = true
                                return buf.count
                            }
                            break
                        }
                        if !skipping { lines.append((p, buf.count, lineNo, 0)) }
                        skipping = false
                        p = buf.count
                        break
                    }
                    let e = buf.baseAddress!.distance(to: UnsafeRawPointer(nl))
                    if !skipping { lines.append((p, e, lineNo, 0)) }
                    skipping = false
                    lineNo += 1
                    p = e + 1
                }
                return p  // the start of an unfinished line, or the end
            }
            readNext(used)
            let (lineList, tooLongItem) = (lines, tooLong)
            let parsed = Deferred { () -> ParsedWindow in
                var parsed = window.withUnsafeBytes { Self.parseParallel($0, lineList) }
                if let tooLongItem { parsed.merge([tooLongItem]) }
                return parsed
            }
            try submit(InFlight(window: window, header: nil, parsed: parsed), source: "segment", file: file)
            return used
        }
        return lineNo
    }

    /// Reads a Segment file that is one JSON array too large to read whole, element by element as the windows
    /// stream by (``JSONArraySplitter``): each element is a record at the line it starts on, numbered as when the
    /// file is read whole. Text outside the elements is quarantined where it stands. Returns the last line.
    func readJSONArray(_ stream: InputStream, file: String) throws -> Int {
        var splitter = JSONArraySplitter(maxElementBytes: options.maxLineBytes)
        let maxMiB = options.maxLineBytes >> 20
        try windows(stream, file: file) { (window: [UInt8], isLast: Bool, readNext: (Int) -> Void) throws -> Int in
            let (elements, used) = window.withUnsafeBytes { splitter.split($0, isLast: isLast) }
            readNext(used)
            let stray = splitter.stray.map { s in
                Rejected(line: s.line, sub: 0, issue: QualityIssue(.error, "broken_json",
                    "text outside the elements of the file's JSON array"), rawStart: s.start, rawEnd: s.end)
            } + splitter.tooLong.map { e in
                Rejected(line: e.line, sub: e.sub, issue: QualityIssue(.error, "line_too_long",
                    "an array element longer than \(maxMiB) MiB"), rawStart: e.start, rawEnd: e.end)
            }
            (splitter.stray, splitter.tooLong) = ([], [])
            let parsed = Deferred { () -> ParsedWindow in
                var parsed = window.withUnsafeBytes { Self.parseParallel($0, elements, envelopes: false) }
                parsed.merge(stray)
                return parsed
            }
            try submit(InFlight(window: window, header: nil, parsed: parsed), source: "segment", file: file)
            return used
        }
        return splitter.line
    }

    /// The records of `lines`, parsed on all cores: one list per worker, in line order.
    /// `sub` numbers an array's elements (0 on JSON lines, where a line holding a `batch` envelope is a record per
    /// message: `envelopes`).
    static func parseParallel(
        _ buf: UnsafeRawBufferPointer, _ lines: [(start: Int, end: Int, line: Int, sub: Int)], envelopes: Bool = true
    ) -> ParsedWindow {
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, lines.count / 256 + 1))
        let results = Mutex([PieceBuilder?](repeating: nil, count: workers))
        nonisolated(unsafe) let window = buf
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            let lo = lines.count * w / workers, hi = lines.count * (w + 1) / workers
            var doc = JSONDocument()
            var out = PieceBuilder(piece: w, capacity: hi - lo, textBytes: hi > lo ? lines[hi - 1].end - lines[lo].start : 0)
            var one = JSONDocument()
            for k in lo..<hi {
                var (s, e, line, sub) = lines[k]
                if e > s && window[e - 1] == 0x0D { e -= 1 }
                var blank = true
                for i in s..<e where window[i] != 0x20 && window[i] != 0x09 {
                    blank = false
                    break
                }
                if blank && envelopes { continue }  // a blank line; an empty array element is broken JSON
                let span = UnsafeRawBufferPointer(rebasing: window[s..<e])
                do {
                    try doc.parse(span)
                } catch let error as JSONError {
                    out.add(line: line, sub: sub, outcome: .rejected(QualityIssue(.error, "broken_json", error.description)), rawStart: s, rawEnd: e)
                    continue
                } catch {
                    continue
                }
                if envelopes, let batch = doc.member(doc.root, "batch"), doc.kind(batch) == .array {
                    // A batch envelope: each message is a record; the envelope's bytes are kept per message.
                    for (i, m) in doc.elements(batch).enumerated() {
                        out.addMessage(parsing: doc.raw(m), scratch: &one, line: line, sub: i + 1, rawStart: s, rawEnd: e)
                    }
                    continue
                }
                out.addMessage(doc, line: line, sub: sub, rawStart: s, rawEnd: e)
            }
            results.withLock { $0[w] = out }
        }
        return ParsedWindow(pieces: results.withLock { $0.map { $0! } })
    }

    /// Mobile libraries name themselves in `context.library.name` (analytics-ios, analytics-android, …).
    static let webSource = SegmentSource(channel: "web"), appSource = SegmentSource(channel: "mobile_app")

    /// The source a message belongs to: the app channel for the mobile libraries, the web otherwise.
    static func segmentSource(for doc: JSONDocument) -> SegmentSource { isMobile(doc) ? appSource : webSource }

    static func isMobile(_ doc: JSONDocument) -> Bool {
        guard let r = doc.path(doc.root, "context", "library", "name"), doc.kind(r) == .string else { return false }
        // The name's bytes are compared in place: no String per message (web messages fail at the tenth byte).
        return doc.withText(r) { name in
            // Every mobile library's name starts "analytics-"; analytics.js (the web) differs at its tenth byte.
            guard name.count > 10, name[9] == UInt8(ascii: "-") else { return false }
            return mobileLibraries.contains { prefix in
                name.count >= prefix.count && prefix.withUnsafeBytes { memcmp(name.baseAddress!, $0.baseAddress!, prefix.count) == 0 }
            }
        } ?? false
    }

    /// Each begins "analytics-" (``isMobile(_:)`` checks the hyphen first).
    static let mobileLibraries: [[UInt8]] = [
        "analytics-ios", "analytics-android", "analytics-react-native", "analytics-flutter", "analytics-kotlin", "analytics-swift",
    ].map { Array($0.utf8) }

    // MARK: - CSV

    /// Reads a CSV export described by `mapping`; returns the number of the last line.
    func readCSV(_ stream: InputStream, file: String, mapping: Mapping) throws -> Int {
        var source: CSVSource?
        var headerText: String?
        var line = 1
        var first = true
        var occurrences: [UInt64: Int] = [:]
        try windows(stream, file: file) { (window: [UInt8], isLast: Bool, readNext: (Int) -> Void) throws -> Int in
            var flat: [CSVField] = []
            var recs: [(fieldStart: Int, count: Int, line: Int, start: Int, end: Int, occurrence: Int)] = []
            var rejected: [Rejected] = []
            var used = 0
            try window.withUnsafeBytes { buf throws in
                var reader = CSVReader(window: buf, dialect: mapping.dialect, isLast: isLast, firstLine: line, skipBOM: first)
                first = false
                var fields: [CSVField] = []
                loop: while true {
                    let step = reader.next(&fields)
                    switch step {
                    case .end, .incomplete: break loop
                    case .malformed(let why):
                        rejected.append(Rejected(line: reader.recordLine, sub: 0, issue: QualityIssue(.error, "malformed_csv", why),
                            rawStart: reader.recordStart, rawEnd: min(reader.recordEnd, buf.count)))
                    case .record:
                        if fields.count == 1 && fields[0].start == fields[0].end { break }  // blank line
                        if source == nil {
                            let view = CSVRecordView(window: buf, quote: mapping.dialect.quote, fields: fields[...], start: reader.recordStart, end: reader.recordEnd)
                            let header = (0..<view.count).map { view.text($0).trimmingCharacters(in: .whitespaces) }
                            source = try CSVSource(mapping: mapping, header: header, file: file)
                            headerText = String(decoding: view.recordBytes, as: UTF8.self)
                            break
                        }
                        let h = Hash64.hash(reader.recordBytes)
                        let occ = occurrences[h, default: 0]
                        occurrences[h] = occ + 1
                        recs.append((flat.count, fields.count, reader.recordLine, reader.recordStart, reader.recordEnd, occ))
                        flat.append(contentsOf: fields)
                    }
                    used = reader.position
                    line = reader.line
                }
            }
            if isLast { used = window.count }
            readNext(used)
            guard let src = source else { return used }
            // Normalization of the window's records runs on all cores while the previous window lands.
            let (records, fieldSpans, rejects) = (recs, flat, rejected)
            let quote = mapping.dialect.quote
            let parsed = Deferred { () -> ParsedWindow in
                let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, records.count / 256 + 1))
                let results = Mutex([PieceBuilder?](repeating: nil, count: workers))
                window.withUnsafeBytes { buf in
                    nonisolated(unsafe) let buf = buf
                    DispatchQueue.concurrentPerform(iterations: workers) { w in
                        let lo = records.count * w / workers, hi = records.count * (w + 1) / workers
                        var out = PieceBuilder(piece: w, capacity: hi - lo)
                        var scratch: [UInt8] = []
                        for r in records[lo..<hi] {
                            let view = CSVRecordView(window: buf, quote: quote, fields: fieldSpans[r.fieldStart..<r.fieldStart + r.count], start: r.start, end: r.end)
                            out.addRecord(view, of: src, occurrence: r.occurrence, line: r.line, scratch: &scratch)
                        }
                        results.withLock { $0[w] = out }
                    }
                }
                var parsed = ParsedWindow(pieces: results.withLock { $0.map { $0! } })
                parsed.merge(rejects)
                return parsed
            }
            try submit(InFlight(window: window, header: headerText, parsed: parsed), source: mapping.name, file: file)
            return used
        }
        if source == nil && stream.fileBytes > 0 && stream.damage == nil {
            let noHeader = Int64(bitPattern: Hash64.hash(mapping.name + "|" + file + "|no_header"))
            try afterQueued { [self] in
                // Only blank lines: nothing to land, but the user should hear of it (once, not on every re-run).
                guard seenQuarantine.insert(noHeader) else { return }
                summaries[mapping.name]!.issues[.warning, default: 0] += 1
                quality.add([.varchar(mapping.name), .varchar(file + ":1"), .varchar(Severity.warning.rawValue), .varchar("no_header"),
                    .varchar("the file has no header line (only blank lines)"), .timestamp(ingestTime), .bigint(noHeader)])
            }
        }
        return line
    }

    // MARK: - Landing

    /// Lands parsed records, in order (lists in order, each in order).
    func apply(_ parsed: ParsedWindow, window: UnsafeRawBufferPointer, source: String, file: String, header: String?) {
        var sum = summaries[source, default: SourceSummary(source: source)]
        defer { summaries[source] = sum }
        landing = parsed.chunks.map { _ in Landing() }
        defer { keepLanded(parsed.chunks) }
        for list in parsed.order {
            for (k, it) in list.enumerated() {
                if k + 12 < list.count {
                    // The seen-event set's slot and the identity index's slots of the record 12 ahead: both miss the
                    // cache on nearly every record.
                    let ahead = list[k + 12]
                    if ahead.parsed {
                        let p = Int(ahead.piece)
                        if !ahead.rows.isEmpty { seenEvents.prefetch(parsed.pieces[p].eventIDs[Int(ahead.rows.lowerBound)]) }
                        for i in ahead.identifiers { graph.prefetch(parsed.pieces[p].identifiers[Int(i)]) }
                    }
                }
                sum.read += 1
                pending += 1
                // Built only when something needs it (a quarantine entry, a new link, a note): not per record.
                let location = { "\(file):\(it.line)" + (it.sub > 0 ? "#\(it.sub)" : "") }
                if it.parsed {
                    land(it, of: parsed.pieces[Int(it.piece)], location: location, source: source, summary: &sum)
                    continue
                }
                let issue = parsed.pieces[Int(it.piece)].issues[Int(it.issue)]
                let raw = UnsafeRawBufferPointer(rebasing: window[it.rawStart..<min(it.rawEnd, window.count)])
                let rid = Self.recordID(raw, file: file, line: it.line, sub: it.sub)
                // The same file read compressed or not (`web.jsonl`, `web.jsonl.gz`) holds the same records.
                let other = Self.recordID(raw, file: file.hasSuffix(".gz") ? String(file.dropLast(3)) : file + ".gz", line: it.line, sub: it.sub)
                if seenQuarantine.contains(rid) || seenQuarantine.contains(other) {
                    sum.duplicates += 1
                    continue
                }
                seenQuarantine.insert(rid)
                sum.quarantined += 1
                sum.issues[issue.severity, default: 0] += 1
                quality.add([.varchar(source), .varchar(location()), .varchar(issue.severity.rawValue), .varchar(issue.rule),
                    .varchar(issue.message), .timestamp(ingestTime), .bigint(rid)])
                let utf8 = String(validating: raw, as: UTF8.self)
                quarantine.add(QuarantineEntry(source: source, file: file, line: it.line, severity: issue.severity.rawValue,
                    rule: issue.rule, message: issue.message, header: header, raw: utf8,
                    rawBase64: utf8 == nil ? Data(raw).base64EncodedString() : nil, recordID: rid))
            }
        }
    }

    /// The id of a quarantined record: its bytes, the name of its file and where it sits there.
    static func recordID(_ raw: UnsafeRawBufferPointer, file: String, line: Int, sub: Int) -> Int64 {
        Int64(bitPattern: Hash64.combine(Hash64.hash(raw, seed: Hash64.hash(file)), UInt64(line << 16 | sub)))
    }

    /// The rows of worker-built chunks that land, and their customer (node) ids.
    struct Landing {
        var rows: [Int32] = []
        var customers = ColumnBuilder(.bigint)
    }

    /// Moves the landed rows of a window's chunks into the pending batch, customer ids filled in. The chunks are
    /// kept whole with the list of rows that landed: the commit gathers them once, straight into segments.
    func keepLanded(_ chunks: [Chunk]) {
        for (c, chunk) in chunks.enumerated() where !landing[c].rows.isEmpty {
            let l = landing[c]
            var columns = chunk.columns
            let all = l.rows.count == chunk.rowCount
            columns[IngestTables.eventsCustomerColumn] = all ? l.customers.finish() : Self.scatter(l.customers.finish(), to: l.rows, count: chunk.rowCount)
            eventChunks.append(AppendRows(Chunk(schema: chunk.schema, columns: columns), rows: all ? nil : l.rows))
        }
        landing = []
    }

    /// A BIGINT column of `count` rows holding `values[k]` at row `rows[k]`, NULL elsewhere.
    static func scatter(_ values: ColumnVector, to rows: [Int32], count: Int) -> ColumnVector {
        let validity = Buffer(byteCount: Bitmap.wordCount(count) * 8) { raw in
            let out = raw.bindMemory(to: UInt64.self)
            for (k, r) in rows.enumerated() where !values.isNull(k) { out[Int(r) >> 6] |= 1 << UInt64(Int(r) & 63) }
        }
        let data = Buffer(byteCount: count * 8) { raw in
            let out = raw.bindMemory(to: Int64.self)
            values.withValues(Int64.self) { v in
                for (k, r) in rows.enumerated() { out[Int(r)] = v[k] }
            }
        }
        return ColumnVector(type: .bigint, count: count, values: data, validity: validity)
    }

    /// Lands one parsed record of piece `p`, whose event rows the worker built in the piece's chunk: the rows not
    /// in the store yet land, with the customer (node) of the record's anchor identifier.
    func land(_ it: Item, of p: Piece, location: () -> String, source: String, summary sum: inout SourceSummary) {
        // One probe for the usual one-row record: its id goes in now (a re-run finds it and counts a duplicate).
        let rows = it.rows
        let single = rows.count == 1
        if single && !seenEvents.insert(p.eventIDs[Int(rows.lowerBound)]) {
            sum.duplicates += 1
            return
        }
        guard let firstFresh = single ? rows.lowerBound : rows.first(where: { !seenEvents.contains(p.eventIDs[Int($0)]) }) else {
            sum.duplicates += 1
            return
        }
        let channel = p.channels[Int(it.channel)], factKey = p.eventIDs[Int(firstFresh)]
        sum.landed += 1
        p.withIdentifiers(of: it) { ids, bytes in
            graph.observe(ids, bytes: bytes, ts: it.ts, source: channel, location: location(), into: &observed)
        }
        // The record belongs to its highest-priority identifier that can identify someone (the first one of
        // that type in the record).
        var anchor: Int64?
        var anchorType = Int.max
        for (k, n) in observed.enumerated() {
            let priority = p.identifiers[Int(it.identifiers.lowerBound) + k].type.priority
            guard priority < anchorType else { continue }
            if Int(n) <= resolution.status.count {
                // Resolution already judged this node under the same rules: blocked or shared cannot anchor.
                let status = resolution.status[Int(n - 1)]
                if status == .blocked || status == .shared { continue }
            } else {
                // A node new since: judged under the block list once, when first seen (the nodes resolution covers
                // are not judged here; their place is filled but never read, as resolution only grows).
                while blockedNodes.count < Int(n) {
                    let next = blockedNodes.count  // a position in `nodes`: node id - 1
                    blockedNodes.append(next >= resolution.status.count && rules.blockReason(graph.identifier(Int64(next + 1))) != nil)
                }
                if blockedNodes[Int(n - 1)] { continue }
            }
            anchor = n
            anchorType = priority
        }
        for r in firstFresh..<rows.upperBound where single || seenEvents.insert(p.eventIDs[Int(r)]) {
            landing[Int(it.piece)].rows.append(r)
            landing[Int(it.piece)].customers.append(int64: anchor)
            if let anchor { landed.add(node: anchor, ts: p.rowTimes[Int(r)], kind: p.rowKinds[Int(r)], amount: p.rowAmounts[Int(r)]) }
            sum.rows += 1
        }
        if !(it.traits.isEmpty && it.consents.isEmpty) && seenFacts.insert(factKey) {
            for t in p.traits[Int(it.traits.lowerBound)..<Int(it.traits.upperBound)] {
                traits.add([.int(anchor), .varchar(t.name), .varchar(t.value), .timestamp(it.ts), .varchar(channel), .bigint(factKey)])
            }
            for c in p.consents[Int(it.consents.lowerBound)..<Int(it.consents.upperBound)] {
                consents.add([.int(anchor), .varchar(c.purpose), .boolean(c.granted), .timestamp(it.ts), .varchar(channel), .bigint(factKey)])
            }
        }
        // Notes are kept once per record, also when a crash made this record land a second time.
        let notesNew = !it.notes.isEmpty && seenQuarantine.insert(factKey)
        for note in p.notes[Int(it.notes.lowerBound)..<Int(it.notes.upperBound)] where notesNew {
            // Unknown names are reported once per run, not once per record.
            if note.rule == "unknown_event" || note.rule == "unmapped_event_type" {
                guard warnedOnce.insert(source + "|" + note.message).inserted else { continue }
            }
            sum.issues[note.severity, default: 0] += 1
            quality.add([.varchar(source), .varchar(location()), .varchar(note.severity.rawValue), .varchar(note.rule), .varchar(note.message),
                .timestamp(ingestTime), .bigint(factKey)])
        }
    }

    /// Commits what is pending and waits for it. `rewritingIdentities`: the identity tables are written whole
    /// (one row per node and link), as at the end of an ingest; other commits append the rows that changed.
    func flush(rewritingIdentities: Bool = false) throws {
        try startCommit(rewritingIdentities: rewritingIdentities)
        try finishCommit()
    }

    /// Starts committing what is pending on another thread, after the previous commit has finished, so the next
    /// batch can be parsed and landed meanwhile. Commits run one at a time, in order; an error surfaces at the
    /// next `startCommit` or `finishCommit`.
    /// `factsCommitted` is signalled once the commit has written everything but the events (or has failed).
    func startCommit(rewritingIdentities: Bool = false, factsCommitted: DispatchSemaphore? = nil) throws {
        try finishCommit()
        resolution = graph.resolve(rules, judged: &judged)
        // Only what changed since the last commit is written (its cost follows the batch, not the history); the
        // last commit of an ingest then rewrites the identity tables whole, so they hold one row per node and link.
        let changed = graph.takeChanges(resolution: resolution, previous: savedResolution)
        let identity = IdentityStore.Changes(graph: graph, resolution: resolution, nodes: changed.nodes, links: changed.links)
        savedResolution = resolution
        let batch = Batch(
            quarantine: quarantine.take(), identity: identity, quality: quality.finish(),
            consents: consents.finish(), traits: traits.finish(), events: eventChunks,
            compactIdentities: rewritingIdentities ? (graph, resolution) : nil)
        eventChunks = []
        let (store, faults, quarantineDir) = (store, options.faults, quarantine.dir)
        committing = Deferred { () -> IngestCommitError? in
            do {
                try Self.commit(batch, store: store, quarantineDir: quarantineDir, faults: faults, factsCommitted: factsCommitted)
                return nil
            } catch {
                return IngestCommitError(error: error)
            }
        }
        pending = 0
    }

    /// Waits for the commit in flight, if any, and throws its error.
    func finishCommit() throws {
        guard let c = committing else { return }
        committing = nil
        if let e = c.wait() { throw e.error }
    }

    /// What one commit writes.
    struct Batch: Sendable {
        var quarantine: [String: [UInt8]]
        var identity: IdentityStore.Changes
        var quality: Chunk
        var consents: Chunk
        var traits: Chunk
        var events: [AppendRows]
        /// The whole graph, written over the identity tables once the events are in (the end of an ingest).
        var compactIdentities: (IdentityGraph, Resolution)?
    }

    /// Order matters for crash safety: quarantine files, then the identity graph's changes (so no event ever names a
    /// node the store does not have), then issues, consents and traits, events last (an event's presence is what
    /// makes a re-run skip its record). Rewriting the identity tables whole changes what they say in no way, so it
    /// comes after the events, where a crash before it leaves the tables as the appends left them.
    static func commit(_ b: Batch, store: Store, quarantineDir: String, faults f: CommitFaults, factsCommitted: DispatchSemaphore? = nil) throws {
        var signalled = false
        defer { if !signalled { factsCommitted?.signal() } }
        try QuarantineWriter.append(b.quarantine, dir: quarantineDir)
        try IdentityStore.append(b.identity, to: store, faults: f)
        if b.quality.rowCount > 0 { try store.append(b.quality, to: "quality_issues", faults: f) }
        if b.consents.rowCount > 0 { try store.append(b.consents, to: "consents", faults: f) }
        if b.traits.rowCount > 0 { try store.append(b.traits, to: "profile_traits", faults: f) }
        factsCommitted?.signal()
        signalled = true
        if b.events.contains(where: { $0.count > 0 }) { try store.append(b.events, to: "events", faults: f) }
        if let (graph, resolution) = b.compactIdentities { try IdentityStore.save(graph, resolution, to: store, faults: f) }
    }
}

