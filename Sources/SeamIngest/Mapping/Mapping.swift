import Foundation
import Yams
import SeamColumnar

/// How a CSV export becomes canonical rows: a YAML file in `data/mappings/` (issue "Ingest"). Keys are documented
/// in `data/mappings/README.md`; the built-in ones describe the generator's exports.
public struct Mapping: Codable, Sendable {
    public struct Detect: Codable, Sendable {
        /// File name patterns (`*` and `?` wildcards), matched against the base name.
        public var files: [String]?
        /// Columns the header must hold, all of them.
        public var header: [String]?
    }

    public struct TimeSpec: Codable, Sendable {
        public var column: String
        /// `iso8601` or a pattern such as `%d/%m/%Y %H:%M` (see ``TimeFormat``).
        public var format: String
        /// For times written without an offset: `UTC`, `+01:00`, or an IANA zone (`Europe/Berlin`).
        public var timezone: String?
    }

    public struct EventTypeSpec: Codable, Sendable {
        /// Every row is this event type…
        public var constant: String?
        /// …or the type comes from this column, through `values`.
        public var column: String?
        public var values: [String: String]?
    }

    public struct Fields: Codable, Sendable {
        public var productID: String?
        public var category: String?
        public var quantity: String?
        /// The line amount…
        public var amount: String?
        /// …or a unit price, multiplied by the quantity.
        public var unitPrice: String?
        public var currency: String?
        /// Currency when the export has no currency column.
        public var defaultCurrency: String?
        public var campaign: String?
        public var storeID: String?

        enum CodingKeys: String, CodingKey {
            case productID = "product_id", category, quantity, amount, unitPrice = "unit_price", currency
            case defaultCurrency = "default_currency", campaign, storeID = "store_id"
        }
    }

    public struct ConsentColumns: Codable, Sendable {
        /// purpose (`email`, `sms`, `ads`) → column holding a yes/no flag.
        public var columns: [String: String]?
        /// Spellings of yes and no (compared case-insensitively).
        public var yes: [String]?
        public var no: [String]?
        /// event type → consent it records, e.g. `unsubscribe: {purpose: email, granted: false}`.
        public var events: [String: ConsentEvent]?
    }

    public struct ConsentEvent: Codable, Sendable {
        public var purpose: String
        public var granted: Bool
    }

    public var name: String
    public var channel: String
    public var detect: Detect?
    public var delimiter: String?
    public var quote: String?
    /// Decimal separator of amounts (`.` or `,`), and an optional grouping separator.
    public var decimal: String?
    public var thousands: String?
    public var time: TimeSpec
    /// Region for phones written without a country code…
    public var phoneRegion: String?
    /// …or a column whose value (or its first two letters, as in `GB-102`) names the region per row.
    public var phoneRegionColumn: String?
    public var eventType: EventTypeSpec
    /// identifier type (`user_id`, `crm_id`, `email`, `loyalty_id`, `phone`, `device_id`, `anonymous_id`) → column.
    public var identifiers: [String: String]
    public var fields: Fields?
    /// trait (`first_name`, `last_name`, `email`, `phone`, `country`, `city`, `loyalty_tier`) → column.
    public var traits: [String: String]?
    public var consent: ConsentColumns?
    /// Columns that identify a row across exports (its stable id); default: the whole row's bytes.
    public var key: [String]?
    /// Columns kept in `properties`; default: every column not mapped above.
    public var properties: [String]?
    /// A negative quantity on a row of these event types is a money error (critical), e.g. `[purchase]`.
    public var positiveQuantity: [String]?

    enum CodingKeys: String, CodingKey {
        case name, channel, detect, delimiter, quote, decimal, thousands, time
        case phoneRegion = "phone_region", phoneRegionColumn = "phone_region_column", eventType = "event_type"
        case identifiers, fields, traits, consent, key, properties, positiveQuantity = "positive_quantity"
    }

    /// Reads and checks a mapping file. Errors name the file and what is wrong.
    public static func load(_ path: String) throws(IngestError) -> Mapping {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw IngestError("\(path): cannot read the mapping file")
        }
        return try parse(text, origin: path)
    }

    public static func parse(_ text: String, origin: String) throws(IngestError) -> Mapping {
        let m: Mapping
        do {
            m = try YAMLDecoder().decode(Mapping.self, from: text)
        } catch let e as DecodingError {
            throw IngestError("\(origin): \(describe(e))")
        } catch {
            throw IngestError("\(origin): \(error)")
        }
        try m.validate(origin: origin)
        return m
    }

    static func describe(_ e: DecodingError) -> String {
        func path(_ c: [any CodingKey]) -> String { c.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".") }
        switch e {
        case .keyNotFound(let k, let ctx): return "missing key '\(path(ctx.codingPath + [k]))'"
        case .dataCorrupted(let ctx) where ctx.underlyingError != nil:
            return "not valid YAML: \(ctx.underlyingError!)"
        case .typeMismatch(_, let ctx), .valueNotFound(_, let ctx), .dataCorrupted(let ctx):
            return "at '\(path(ctx.codingPath))': \(ctx.debugDescription)"
        @unknown default: return "\(e)"
        }
    }

    func validate(origin: String) throws(IngestError) {
        for k in identifiers.keys where IdentifierType(rawValue: k) == nil {
            throw IngestError("\(origin): unknown identifier type '\(k)' (known: \(IdentifierType.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        if (eventType.constant == nil) == (eventType.column == nil) {
            throw IngestError("\(origin): event_type needs exactly one of 'constant' or 'column'")
        }
        for (k, v) in [("delimiter", delimiter), ("quote", quote), ("decimal", decimal), ("thousands", thousands)] {
            if let v, v.utf8.count != 1 { throw IngestError("\(origin): '\(k)' must be one character, not '\(v)'") }
        }
        if let p = phoneRegion, !Phone.isKnownRegion(p) { throw IngestError("\(origin): unknown phone_region '\(p)'") }
        for p in consent?.columns?.keys.map({ $0 }) ?? [] where !["email", "sms", "ads"].contains(p) {
            throw IngestError("\(origin): unknown consent purpose '\(p)' (known: email, sms, ads)")
        }
        _ = try TimeFormat(time.format)
        if let tz = time.timezone { _ = try TimeZoneRule(tz) }
    }

    public var dialect: CSVDialect {
        CSVDialect(
            delimiter: delimiter?.utf8.first ?? UInt8(ascii: ","), quote: quote?.utf8.first ?? UInt8(ascii: "\""), header: true)
    }

    /// Whether a file's name or header says it is this mapping's export.
    public func matches(fileName: String, header: [String]) -> Bool {
        if let pats = detect?.files, pats.contains(where: { Glob.matches($0, fileName) }) { return true }
        if let cols = detect?.header, !cols.isEmpty, cols.allSatisfy(header.contains) { return true }
        return false
    }
}

/// `*` and `?` file-name wildcards.
enum Glob {
    static func matches(_ pattern: String, _ name: String) -> Bool {
        Wildcard.matches(Array(name.utf8), Array(pattern.utf8), anyRun: UInt8(ascii: "*"), anyOne: UInt8(ascii: "?"))
    }
}
