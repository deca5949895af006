/// The names and types of the canonical tables every product module shares (DESIGN.md, "Canonical tables").
///
/// Only the shape lives here, so ingest, the generator and the facade agree on it without depending on each
/// other; what the columns mean is documented in DESIGN.md and `data/README.md`.
public enum CanonicalTables {
    /// One row per customer interaction, every channel.
    public static let events = Schema([
        Field("event_id", .bigint), Field("ts", .timestamp), Field("customer_id", .bigint), Field("channel", .varchar),
        Field("event_type", .varchar), Field("product_id", .varchar), Field("category", .varchar),
        Field("quantity", .integer), Field("amount", .decimal), Field("currency", .varchar), Field("campaign", .varchar),
        Field("store_id", .varchar), Field("properties", .varchar),
    ])

    /// One row per resolved person: best-known traits, current consent and computed traits.
    public static let customers = Schema([
        Field("customer_id", .bigint), Field("email", .varchar), Field("phone", .varchar), Field("first_name", .varchar),
        Field("last_name", .varchar), Field("country", .varchar), Field("city", .varchar), Field("loyalty_tier", .varchar),
        Field("first_seen", .timestamp), Field("last_seen", .timestamp), Field("consent_email", .boolean),
        Field("consent_sms", .boolean), Field("consent_ads", .boolean), Field("orders", .bigint), Field("revenue", .decimal),
        Field("last_purchase_at", .timestamp), Field("identifiers", .bigint),
    ])

    /// Every identifier seen, normalized, with the customer it resolves to (null when blocked or shared).
    /// `node_id` is the identifier's stable id; rows of other tables that name a node are mapped through it.
    public static let identities = Schema([
        Field("node_id", .bigint), Field("identifier_type", .varchar), Field("identifier", .varchar),
        Field("customer_id", .bigint), Field("first_seen", .timestamp), Field("last_seen", .timestamp),
        Field("source", .varchar), Field("status", .varchar),
    ])

    /// Consent history: one row per statement of consent for a purpose.
    public static let consents = Schema([
        Field("customer_id", .bigint), Field("purpose", .varchar), Field("granted", .boolean), Field("ts", .timestamp),
        Field("source", .varchar), Field("event_id", .bigint),
    ])

    /// Records that did not land as they were, and repairs made to ones that did.
    public static let qualityIssues = Schema([
        Field("source", .varchar), Field("location", .varchar), Field("severity", .varchar), Field("rule", .varchar),
        Field("message", .varchar), Field("ts", .timestamp), Field("record_id", .bigint),
    ])

    /// Distinct sets of identifiers seen together in one record: the evidence identity resolution replays.
    public static let identityLinks = Schema([
        Field("link_id", .bigint), Field("nodes", .varchar), Field("first_seen", .timestamp), Field("last_seen", .timestamp),
        Field("records", .bigint), Field("location", .varchar),
    ])

    /// What resolution held back and why: blocked and shared identifiers, refused merges, manual splits.
    public static let identityDecisions = Schema([
        Field("kind", .varchar), Field("node_id", .bigint), Field("other_node_id", .bigint), Field("link_id", .bigint),
        Field("reason", .varchar),
    ])

    /// Trait statements (email, names, city, …) per identifier node, from which `customers` takes the latest.
    public static let profileTraits = Schema([
        Field("customer_id", .bigint), Field("trait", .varchar), Field("value", .varchar), Field("ts", .timestamp),
        Field("source", .varchar), Field("event_id", .bigint),
    ])

    /// Channels, as stored in `events.channel`.
    public static let channels = ["web", "mobile_app", "email", "store_pos", "call_center", "crm"]
}
