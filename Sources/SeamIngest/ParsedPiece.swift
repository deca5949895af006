import SeamColumnar

extension Ingestor {
    /// One input record as landing reads it: where it came from, and either the issue that kept it out or its
    /// parsed parts, as ranges into its piece's flat lists. Plain numbers only: a window's records are freed as a
    /// few arrays, and landing reads them without reference counting (replacing per-record objects, freed on another
    /// thread than the one that made them, took an ingest from 7.3-8.3 s to 5.7-6.0 s of user CPU).
    struct Item: Sendable {
        var line: Int
        var sub: Int
        var rawStart: Int
        var rawEnd: Int
        /// The piece whose lists the ranges index.
        var piece: Int32
        /// The issue that kept the record out (an index into the piece's `issues`), or -1: it parsed.
        var issue: Int32 = -1
        var ts: Int64 = 0
        /// Index into the piece's `channels`.
        var channel: Int32 = 0
        /// The record's event rows in the piece's chunk; the piece's `eventIDs` has their ids at the same places.
        var rows: Range<Int32> = 0..<0
        var identifiers: Range<Int32> = 0..<0
        var traits: Range<Int32> = 0..<0
        var consents: Range<Int32> = 0..<0
        var notes: Range<Int32> = 0..<0

        var parsed: Bool { issue < 0 }
    }

    /// One worker's share of a window: its records in order (``Item``), their event rows as columns (customer
    /// ids still empty), and the flat lists the records' ranges point into.
    struct PieceBuilder: Sendable {
        let piece: Int32
        var items: [Item] = []
        var rows: RowBuilder
        var eventIDs: [Int64] = []
        /// Per built row, what the customer's computed traits count (``Profiles/LandedEvents``).
        var rowTimes: [Int64] = []
        var rowKinds: [Profiles.EventKind] = []
        var rowAmounts: [Int64] = []
        /// Identifiers as the graph takes them: bytes in `identifierBytes`, hash computed here, not when landing.
        var identifiers: [IdentityGraph.FlatIdentifier] = []
        var identifierBytes: [UInt8] = []
        var traits: [(name: String, value: String)] = []
        var consents: [(purpose: String, granted: Bool)] = []
        var notes: [QualityIssue] = []
        var issues: [QualityIssue] = []
        var channels: [String] = []
        /// The channel (index into `channels`) of the last row added: a record's rows share one.
        var recordChannel: Int32 = 0

        /// `capacity` records (about as many event rows) and `textBytes` of input text are expected: the event
        /// columns get room for them (the properties column for the whole text, which holds it less the identity).
        init(piece: Int, capacity: Int, textBytes: Int = 0) {
            self.piece = Int32(piece)
            rows = RowBuilder(CanonicalTables.events, rows: capacity, textBytes: textBytes, in: IngestTables.eventsPropertiesColumn)
            items.reserveCapacity(capacity)
            eventIDs.reserveCapacity(capacity)
            rowTimes.reserveCapacity(capacity)
            rowKinds.reserveCapacity(capacity)
            rowAmounts.reserveCapacity(capacity)
            identifiers.reserveCapacity(capacity * 2)
        }

        /// Adds one record; its parts are copied into the piece's lists and the record itself is freed here, on
        /// the thread that made it.
        mutating func add(line: Int, sub: Int, outcome: consuming RecordOutcome, rawStart: Int, rawEnd: Int) {
            switch consume outcome {
            case .rejected(let why):
                var it = Item(line: line, sub: sub, rawStart: rawStart, rawEnd: rawEnd, piece: piece)
                it.issue = Int32(issues.count)
                issues.append(why)
                items.append(it)
            case .parsed(let rec):
                let start = marks
                for id in rec.identifiers { identifier(id) }
                for t in rec.traits { trait(t.name, t.value) }
                for c in rec.consents { consent(c.purpose, c.granted) }
                for n in rec.notes { note(n) }
                for r in rec.rows { row(r, properties: nil) }
                addParsed(line: line, sub: sub, rawStart: rawStart, rawEnd: rawEnd, since: start)
            }
        }

        /// One Segment message, already parsed into `doc`, as a record (web or app by the library that sent it),
        /// its parts written straight into the piece.
        mutating func addMessage(_ doc: JSONDocument, line: Int, sub: Int, rawStart: Int, rawEnd: Int) {
            let start = marks
            if let issue = Ingestor.segmentSource(for: doc).record(doc, into: &self) {
                drop(to: start)
                add(line: line, sub: sub, outcome: .rejected(issue), rawStart: rawStart, rawEnd: rawEnd)
            } else {
                addParsed(line: line, sub: sub, rawStart: rawStart, rawEnd: rawEnd, since: start)
            }
        }

        /// One CSV record of `source`, its parts written straight into the piece (`scratch`: room for its properties).
        mutating func addRecord(
            _ view: CSVRecordView, of source: CSVSource, occurrence: Int, line: Int, scratch: inout [UInt8]
        ) {
            let start = marks
            if let issue = source.record(view, occurrence: occurrence, into: &self, scratch: &scratch) {
                drop(to: start)
                add(line: line, sub: 0, outcome: .rejected(issue), rawStart: view.start, rawEnd: view.end)
            } else {
                addParsed(line: line, sub: 0, rawStart: view.start, rawEnd: view.end, since: start)
            }
        }

        /// One Segment message given as JSON text (parsed into `scratch`); a text that does not parse is quarantined.
        mutating func addMessage(parsing text: UnsafeRawBufferPointer, scratch: inout JSONDocument, line: Int, sub: Int, rawStart: Int, rawEnd: Int) {
            do {
                try scratch.parse(text)
            } catch {
                add(line: line, sub: sub, outcome: .rejected(QualityIssue(.error, "broken_json", error.description)), rawStart: rawStart, rawEnd: rawEnd)
                return
            }
            addMessage(scratch, line: line, sub: sub, rawStart: rawStart, rawEnd: rawEnd)
        }

        /// How long the piece's lists are: a record's parts are what was added since.
        struct Marks {
            var rows: Int32, identifiers: Int32, identifierBytes: Int, traits: Int32, consents: Int32, notes: Int32
        }

        var marks: Marks {
            Marks(rows: Int32(eventIDs.count), identifiers: Int32(identifiers.count), identifierBytes: identifierBytes.count,
                traits: Int32(traits.count), consents: Int32(consents.count), notes: Int32(notes.count))
        }

        /// Forgets what a rejected record added (a sink gets no rows before a record is sure to parse).
        mutating func drop(to m: Marks) {
            assert(eventIDs.count == Int(m.rows), "a rejected record added rows")
            identifiers.removeLast(identifiers.count - Int(m.identifiers))
            identifierBytes.removeLast(identifierBytes.count - m.identifierBytes)
            traits.removeLast(traits.count - Int(m.traits))
            consents.removeLast(consents.count - Int(m.consents))
            notes.removeLast(notes.count - Int(m.notes))
        }

        /// The item of a record whose parts were added since `m`.
        mutating func addParsed(line: Int, sub: Int, rawStart: Int, rawEnd: Int, since m: Marks) {
            var it = Item(line: line, sub: sub, rawStart: rawStart, rawEnd: rawEnd, piece: piece)
            let now = marks
            it.rows = m.rows..<now.rows
            it.ts = it.rows.isEmpty ? 0 : rowTimes[Int(m.rows)]
            it.channel = recordChannel
            it.identifiers = m.identifiers..<now.identifiers
            it.traits = m.traits..<now.traits
            it.consents = m.consents..<now.consents
            it.notes = m.notes..<now.notes
            items.append(it)
        }
    }

    /// A record quarantined before any worker saw it (a stray text, a line too long), placed among the parsed
    /// ones by its line.
    struct Rejected: Sendable {
        var line: Int
        var sub: Int
        var issue: QualityIssue
        var rawStart: Int
        var rawEnd: Int
    }

    /// A piece as landing reads it: the finished lists of a ``PieceBuilder``, in a class so that reaching them
    /// from an item costs one retain, not a copy of a dozen arrays per record.
    final class Piece: Sendable {
        let eventIDs: [Int64]
        let rowTimes: [Int64]
        let rowKinds: [Profiles.EventKind]
        let rowAmounts: [Int64]
        let identifiers: [IdentityGraph.FlatIdentifier]
        let identifierBytes: [UInt8]
        let traits: [(name: String, value: String)]
        let consents: [(purpose: String, granted: Bool)]
        let notes: [QualityIssue]
        let issues: [QualityIssue]
        let channels: [String]

        init(_ b: consuming PieceBuilder) {
            (eventIDs, identifiers, identifierBytes) = (b.eventIDs, b.identifiers, b.identifierBytes)
            (rowTimes, rowKinds, rowAmounts) = (b.rowTimes, b.rowKinds, b.rowAmounts)
            (traits, consents, notes, issues, channels) = (b.traits, b.consents, b.notes, b.issues, b.channels)
        }

        /// The identifiers of `it`, with their bytes, for ``IdentityGraph/observe(_:bytes:ts:source:location:into:)``.
        func withIdentifiers<R>(of it: Item, _ body: (UnsafeBufferPointer<IdentityGraph.FlatIdentifier>, UnsafeRawBufferPointer) -> R) -> R {
            identifiers.withUnsafeBufferPointer { ids in
                identifierBytes.withUnsafeBytes { bytes in
                    body(UnsafeBufferPointer(rebasing: ids[Int(it.identifiers.lowerBound)..<Int(it.identifiers.upperBound)]), bytes)
                }
            }
        }
    }

    /// A window's records, parsed: lists of items in order, the pieces they index, and the pieces' event rows.
    struct ParsedWindow: Sendable {
        var order: [[Item]]
        var pieces: [Piece]
        var chunks: [Chunk]

        init(pieces builders: [PieceBuilder]) {
            order = builders.map(\.items)
            var built: [Piece] = []
            var chunks: [Chunk] = []
            for var b in builders {
                chunks.append(b.rows.finish())
                b.items = []
                built.append(Piece(b))
            }
            (pieces, self.chunks) = (built, chunks)
        }

        /// The records in line order, with `extra` (records rejected on the landing thread, without rows) merged in.
        mutating func merge(_ extra: [Rejected]) {
            guard !extra.isEmpty else { return }
            var b = PieceBuilder(piece: pieces.count, capacity: extra.count)
            for r in extra { b.add(line: r.line, sub: r.sub, outcome: .rejected(r.issue), rawStart: r.rawStart, rawEnd: r.rawEnd) }
            order = [(order.flatMap { $0 } + b.items).sorted { $0.line < $1.line }]
            chunks.append(b.rows.finish())
            b.items = []
            pieces.append(Piece(b))
        }
    }
}

extension Ingestor.PieceBuilder: RecordSink {
    mutating func identifier(_ id: Identifier) {
        identifiers.append(IdentityGraph.FlatIdentifier(id, appendingTo: &identifierBytes))
    }

    mutating func identifier(_ type: IdentifierType, utf8: UnsafeRawBufferPointer) {
        identifiers.append(IdentityGraph.FlatIdentifier(type, utf8: utf8, appendingTo: &identifierBytes))
    }

    mutating func trait(_ name: String, _ value: String) { traits.append((name, value)) }
    mutating func consent(_ purpose: String, _ granted: Bool) { consents.append((purpose, granted)) }
    mutating func note(_ issue: QualityIssue) { notes.append(issue) }

    mutating func row(_ r: EventRow, properties: KeptMembers?) {
        rows.addEvent(r, customer: nil, properties: properties)
        added(eventID: r.eventID, ts: r.ts, eventType: r.eventType, amount: r.amount, channel: r.channel)
    }

    mutating func row(_ r: SegmentRow, of doc: JSONDocument, properties: KeptMembers?) {
        rows.addEvent(r, of: doc, properties: properties)
        added(eventID: r.eventID, ts: r.ts, eventType: r.eventType, amount: r.amount, channel: r.channel)
    }

    mutating func row(_ r: CSVRow) {
        rows.addEvent(r)
        added(eventID: r.eventID, ts: r.ts, eventType: r.eventType, amount: r.amount, channel: r.channel)
    }

    /// What landing reads of a row just added to the columns.
    private mutating func added(eventID: Int64, ts: Int64, eventType: String, amount: Int64?, channel: String) {
        eventIDs.append(eventID)
        rowTimes.append(ts)
        rowKinds.append(Profiles.EventKind(eventType))
        rowAmounts.append(amount ?? 0)
        if let k = channels.firstIndex(of: channel) {
            recordChannel = Int32(k)
        } else {
            recordChannel = Int32(channels.count)
            channels.append(channel)
        }
    }
}
