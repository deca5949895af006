/// A byte buffer for writing JSON lines and CSV rows fast, without Foundation's encoders.
struct TextOutput {
    var bytes: [UInt8] = []

    init(capacity: Int = 1 << 16) { bytes.reserveCapacity(capacity) }

    mutating func raw(_ s: String) {
        var s = s
        s.withUTF8 { bytes.append(contentsOf: $0) }
    }

    mutating func raw(_ s: StaticString) {
        s.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    mutating func newline() { bytes.append(0x0A) }

    /// A JSON string literal with the escapes JSON requires.
    mutating func jsonString(_ s: String) { JSONText.appendQuoted(s, to: &bytes) }

    /// `"key":` then the string value.
    mutating func jsonField(_ key: StaticString, _ value: String, comma: Bool = true) {
        if comma { bytes.append(0x2C) }
        bytes.append(0x22)
        raw(key)
        raw("\":")
        jsonString(value)
    }

    /// `"key":` then a raw JSON value (number, object).
    mutating func jsonRaw(_ key: StaticString, _ value: String, comma: Bool = true) {
        if comma { bytes.append(0x2C) }
        bytes.append(0x22)
        raw(key)
        raw("\":")
        raw(value)
    }

    /// A whole CSV row and its line break.
    mutating func csvRow(_ fields: [String]) {
        for (k, f) in fields.enumerated() { csvField(f, first: k == 0) }
        newline()
    }

    /// A CSV field, quoted when it holds a delimiter, quote or line break (RFC 4180).
    mutating func csvField(_ s: String, first: Bool = false) {
        if !first { bytes.append(0x2C) }
        CSVText.appendField(s, to: &bytes)
    }

}

/// Money in minor units as a decimal string: `1299` → `12.99`.
func money(_ minor: Int64) -> String { SeamColumnar.Decimal2.format(minor) }

/// Deterministic per-line randomness for injected mess, independent of how lines are split over threads.
func lineHash(_ seed: UInt64, _ file: UInt64, _ line: Int) -> Double {
    var r = SeededRandom(seed: seed ^ (file &* 0x9E37_79B9_7F4A_7C15), stream: UInt64(line))
    return r.unit()
}

func pad2(_ v: Int) -> String { SeamColumnar.Timestamp.zeroPad(v, 2) }
func pad4(_ v: Int) -> String { SeamColumnar.Timestamp.zeroPad(v, 4) }

import SeamColumnar
