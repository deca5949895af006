import Foundation
import SeamStorage
import Yams

/// Merge protection (issue "Ingest"): how many values of each identifier type one customer may hold, which values
/// never identify anyone, when an identifier counts as shared, and manual splits. `STORE/identity.yaml` overrides
/// the defaults; `seam identity rebuild` applies a change to all history.
public struct IdentityRules: Codable, Sendable, Equatable {
    /// Most values of a type one customer may hold; a merge that would exceed it is refused (and explained).
    public var limits: [String: Int]
    /// Values that identify no one, compared case-insensitively after normalization.
    public var blocked: [String] { didSet { blockedSet = Set(blocked.map { $0.lowercased() }) } }
    /// `blocked`, lower-cased, for lookups (not stored in the file).
    private(set) var blockedSet: Set<String> = []
    /// Phones whose digits are all one digit (`0000000000`, `+11111111111`) are placeholders.
    public var blockRepeatedDigitPhones: Bool
    /// An identifier seen with this many distinct values of a one-per-customer type (user_id, crm_id,
    /// loyalty_id) is shared (a till's phone, a family inbox used by many): it stops merging and is reported.
    public var sharedThreshold: Int
    /// Identifiers split off by hand (`type:value`): each stays a customer of its own.
    public var detached: [String]

    enum CodingKeys: String, CodingKey {
        case limits, blocked, blockRepeatedDigitPhones = "block_repeated_digit_phones", sharedThreshold = "shared_threshold", detached
    }

    public static let defaults = IdentityRules(
        limits: ["user_id": 1, "crm_id": 1, "loyalty_id": 1, "email": 3, "phone": 3, "device_id": 10, "anonymous_id": 200],
        blocked: ["", "null", "nil", "none", "undefined", "anonymous", "unknown", "n/a", "na", "-", "0", "test", "test@test.com",
            "noemail@example.com", "none@none.com", "no@email.com"],
        blockRepeatedDigitPhones: true, sharedThreshold: 2, detached: [])

    public init(limits: [String: Int], blocked: [String], blockRepeatedDigitPhones: Bool, sharedThreshold: Int, detached: [String]) {
        self.limits = limits
        self.blocked = blocked
        self.blockedSet = Set(blocked.map { $0.lowercased() })
        self.blockRepeatedDigitPhones = blockRepeatedDigitPhones
        self.sharedThreshold = sharedThreshold
        self.detached = detached
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = Self.defaults
        limits = d.limits.merging(try c.decodeIfPresent([String: Int].self, forKey: .limits) ?? [:]) { _, new in new }
        blocked = try c.decodeIfPresent([String].self, forKey: .blocked) ?? d.blocked
        blockedSet = Set(blocked.map { $0.lowercased() })
        blockRepeatedDigitPhones = try c.decodeIfPresent(Bool.self, forKey: .blockRepeatedDigitPhones) ?? d.blockRepeatedDigitPhones
        sharedThreshold = try c.decodeIfPresent(Int.self, forKey: .sharedThreshold) ?? d.sharedThreshold
        detached = try c.decodeIfPresent([String].self, forKey: .detached) ?? []
    }

    public func limit(_ t: IdentifierType) -> Int { limits[t.rawValue] ?? Int.max }

    /// Why `id` identifies no one, or nil.
    public func blockReason(_ id: Identifier) -> String? {
        let v = id.value.utf8.contains(where: { $0 >= 0x41 && $0 <= 0x5A || $0 >= 0x80 }) ? id.value.lowercased() : id.value
        if blockedSet.contains(v) { return "'\(id.value)' is on the blocked list" }
        if id.type == .phone && blockRepeatedDigitPhones {
            let digits = v.utf8.filter { $0 >= 48 && $0 <= 57 }
            // A country code followed by one repeated digit, or one digit throughout.
            if let last = digits.last, digits.suffix(7).allSatisfy({ $0 == last }) { return "placeholder phone \(id.value)" }
        }
        return nil
    }

    public static func load(storePath: String) throws(IngestError) -> IdentityRules {
        let path = storePath + "/identity.yaml"
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else { return defaults }
        do {
            return try YAMLDecoder().decode(IdentityRules.self, from: text)
        } catch let e as DecodingError {
            throw IngestError("\(path): \(Mapping.describe(e))")
        } catch {
            throw IngestError("\(path): \(error)")
        }
    }

    public func save(storePath: String) throws {
        let text = "# Identity rules (seam identity rebuild applies a change to all history).\n" + (try YAMLEncoder().encode(self))
        try FileIO.replaceDurably(storePath + "/identity.yaml", Array(text.utf8))
    }
}
