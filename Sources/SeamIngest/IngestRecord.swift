/// The identifier kinds the identity graph knows, in the order that wins a conflict (DESIGN.md, issue "Ingest").
public enum IdentifierType: String, CaseIterable, Sendable, Codable, Comparable {
    case userID = "user_id"
    case crmID = "crm_id"
    case email
    case loyaltyID = "loyalty_id"
    case phone
    case deviceID = "device_id"
    case anonymousID = "anonymous_id"

    /// 0 for the type that wins every conflict.
    public var priority: Int {
        switch self {
        case .userID: 0
        case .crmID: 1
        case .email: 2
        case .loyaltyID: 3
        case .phone: 4
        case .deviceID: 5
        case .anonymousID: 6
        }
    }
    public static func < (a: Self, b: Self) -> Bool { a.priority < b.priority }
}

/// A normalized identifier: the unit the identity graph links.
public struct Identifier: Hashable, Sendable, CustomStringConvertible {
    public var type: IdentifierType
    public var value: String
    public init(_ type: IdentifierType, _ value: String) {
        self.type = type
        self.value = value
    }
    public var description: String { "\(type.rawValue):\(value)" }

    /// Parses `email:ann@example.com`.
    public init?(parsing s: String) {
        guard let colon = s.firstIndex(of: ":"), let t = IdentifierType(rawValue: String(s[..<colon])) else { return nil }
        self.init(t, String(s[s.index(after: colon)...]))
    }
}

/// Severity of a quality issue (issue "Ingest"): what happened to the record and how much it matters.
public enum Severity: String, Sendable, Codable, Comparable, CaseIterable {
    /// A repair was made; the record landed.
    case info
    /// Something was unknown or unmapped; the record landed.
    case warning
    /// The record could not be parsed; it is quarantined.
    case error
    /// Money or consent on an otherwise good record is wrong; it is quarantined rather than land wrong.
    case critical

    var rank: Int { Self.allCases.firstIndex(of: self)! }
    public static func < (a: Self, b: Self) -> Bool { a.rank < b.rank }
    /// Whether the record stays out of the tables.
    public var quarantines: Bool { self >= .error }
}

/// A problem found with one input record.
public struct QualityIssue: Sendable {
    public var severity: Severity
    public var rule: String
    public var message: String
    public init(_ severity: Severity, _ rule: String, _ message: String) {
        self.severity = severity
        self.rule = rule
        self.message = message
    }
}

/// One canonical event row plus what the record says about who it is, their traits and consent.
public struct EventRow: Sendable {
    public var eventID: Int64
    public var ts: Int64
    public var channel: String
    public var eventType: String
    public var productID: String?
    public var category: String?
    public var quantity: Int32?
    public var amount: Int64?
    public var currency: String?
    public var campaign: String?
    public var storeID: String?
    public var properties: String?

    public init(eventID: Int64, ts: Int64, channel: String, eventType: String) {
        self.eventID = eventID
        self.ts = ts
        self.channel = channel
        self.eventType = eventType
    }
}

/// A parsed input record: the event rows it yields and the identity, trait and consent facts it carries.
public struct ParsedRecord: Sendable {
    public var rows: [EventRow] = []
    public var identifiers: [Identifier] = []
    /// Profile traits (`email`, `phone`, `first_name`, `last_name`, `country`, `city`, `loyalty_tier`).
    public var traits: [(name: String, value: String)] = []
    public var consents: [(purpose: String, granted: Bool)] = []
    /// Issues that did not stop the record (info, warning).
    public var notes: [QualityIssue] = []
    public var ts: Int64 { rows.first?.ts ?? 0 }
    public init() {}
}

/// What a source reader makes of one input record.
public enum RecordOutcome: Sendable {
    case parsed(ParsedRecord)
    case rejected(QualityIssue)
}

/// Where a record came from, for quality issues and the quarantine.
public struct RecordLocation: Sendable {
    public var file: String
    public var line: Int
    public var description: String { "\(file):\(line)" }
}
