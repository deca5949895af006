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

    /// Channels, as stored in `events.channel`.
    public static let channels = ["web", "mobile_app", "email", "store_pos", "call_center", "crm"]
}
