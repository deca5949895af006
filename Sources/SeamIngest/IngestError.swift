/// A problem with the ingest set-up (a mapping, a path, a rule), as opposed to a bad input record, which is
/// quarantined instead of thrown.
public struct IngestError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// An error thrown by a commit that ran on another thread, carried back to the ingest that started it.
struct IngestCommitError: Sendable {
    var error: any Error
}
