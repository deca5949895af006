/// An error from the storage layer, naming the file, column, block and byte offset where it applies.
public struct StorageError: Error, Sendable, CustomStringConvertible {
    /// What went wrong. Extensible: new codes do not break callers' `switch`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: Hashable, Sendable {
            case io, corrupt, checksumMismatch, unsupported, locked, invalidArgument, notFound
        }
        private let wrapped: Wrapped
        private init(_ w: Wrapped) { wrapped = w }
        /// A system call failed.
        public static let io = Code(.io)
        /// Bytes on disk do not follow the format (truncated, bad magic, out-of-range offsets).
        public static let corrupt = Code(.corrupt)
        /// A block's or footer's checksum does not match its bytes.
        public static let checksumMismatch = Code(.checksumMismatch)
        /// A format version or codec this build does not know.
        public static let unsupported = Code(.unsupported)
        /// Another writer holds the store's lock.
        public static let locked = Code(.locked)
        /// The caller asked for something the data cannot satisfy (unknown table, wrong schema).
        public static let invalidArgument = Code(.invalidArgument)
        public static let notFound = Code(.notFound)
        public var description: String { "\(wrapped)" }
    }

    public var code: Code
    public var message: String
    public var file: String?
    public var column: String?
    public var block: Int?
    public var offset: Int?

    public init(
        _ code: Code, _ message: String, file: String? = nil, column: String? = nil, block: Int? = nil,
        offset: Int? = nil
    ) {
        self.code = code
        self.message = message
        self.file = file
        self.column = column
        self.block = block
        self.offset = offset
    }

    /// The same error with the location filled in where it was missing.
    func at(file: String? = nil, column: String? = nil, block: Int? = nil) -> StorageError {
        var e = self
        e.file = e.file ?? file
        e.column = e.column ?? column
        e.block = e.block ?? block
        return e
    }

    public var description: String {
        var where_: [String] = []
        if let file { where_.append(file) }
        if let column { where_.append("column '\(column)'") }
        if let block { where_.append("block \(block)") }
        if let offset { where_.append("byte \(offset)") }
        return (where_.isEmpty ? "" : where_.joined(separator: ", ") + ": ") + message
    }
}
