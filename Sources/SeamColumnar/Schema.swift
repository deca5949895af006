/// A named, typed column of a table or chunk.
public struct Field: Sendable, Hashable, Codable {
    public var name: String
    public var type: LogicalType

    public init(_ name: String, _ type: LogicalType) {
        self.name = name
        self.type = type
    }
}

/// An ordered list of fields.
public struct Schema: Sendable, Hashable, Codable {
    public var fields: [Field]

    public init(_ fields: [Field]) {
        self.fields = fields
    }

    public var count: Int { fields.count }

    /// The index of the field called `name` (exact match), or `nil`.
    public func index(of name: String) -> Int? {
        fields.firstIndex { $0.name == name }
    }

    public subscript(_ index: Int) -> Field { fields[index] }
}
