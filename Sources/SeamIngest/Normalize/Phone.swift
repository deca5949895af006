/// Phone numbers to E.164 (`+442079460958`), from the spellings exports use: international with `+` or `00`,
/// national with a trunk prefix (`020 7946 0958`), separators of any kind.
public enum Phone {
    /// Calling code, whether national numbers start with a trunk `0`, and the national significant number's length.
    struct Region {
        var callingCode: String
        var trunkZero: Bool
        var lengths: ClosedRange<Int>
    }

    static let regions: [String: Region] = [
        "US": Region(callingCode: "1", trunkZero: false, lengths: 10...10),
        "CA": Region(callingCode: "1", trunkZero: false, lengths: 10...10),
        "GB": Region(callingCode: "44", trunkZero: true, lengths: 9...10),
        "IE": Region(callingCode: "353", trunkZero: true, lengths: 7...9),
        "DE": Region(callingCode: "49", trunkZero: true, lengths: 6...11),
        "AT": Region(callingCode: "43", trunkZero: true, lengths: 4...13),
        "CH": Region(callingCode: "41", trunkZero: true, lengths: 9...9),
        "FR": Region(callingCode: "33", trunkZero: true, lengths: 9...9),
        "BE": Region(callingCode: "32", trunkZero: true, lengths: 8...9),
        "NL": Region(callingCode: "31", trunkZero: true, lengths: 9...9),
        "ES": Region(callingCode: "34", trunkZero: false, lengths: 9...9),
        "PT": Region(callingCode: "351", trunkZero: false, lengths: 9...9),
        "IT": Region(callingCode: "39", trunkZero: false, lengths: 6...11),
        "SE": Region(callingCode: "46", trunkZero: true, lengths: 7...9),
        "DK": Region(callingCode: "45", trunkZero: false, lengths: 8...8),
        "NO": Region(callingCode: "47", trunkZero: false, lengths: 8...8),
        "PL": Region(callingCode: "48", trunkZero: false, lengths: 9...9),
        "AU": Region(callingCode: "61", trunkZero: true, lengths: 9...9),
        "NZ": Region(callingCode: "64", trunkZero: true, lengths: 8...10),
        "IN": Region(callingCode: "91", trunkZero: true, lengths: 10...10),
        "JP": Region(callingCode: "81", trunkZero: true, lengths: 9...10),
        "BR": Region(callingCode: "55", trunkZero: true, lengths: 10...11),
        "MX": Region(callingCode: "52", trunkZero: false, lengths: 10...10),
    ]

    public static func isKnownRegion(_ code: String) -> Bool { regions[code] != nil }

    /// E.164 for `raw` read in `region` (ISO 3166 alpha-2), or nil when it cannot be a phone number.
    public static func e164(_ raw: String, region: String) -> String? {
        var digits: [UInt8] = []
        digits.reserveCapacity(16)
        var plus = false
        var seenDigit = false
        for c in raw.utf8 {
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                digits.append(c)
                seenDigit = true
            case UInt8(ascii: "+") where !seenDigit: plus = true
            case UInt8(ascii: " "), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "/"), 0x09:
                continue
            default:
                return nil  // letters, extensions and the like: not something we can match on
            }
        }
        guard !digits.isEmpty else { return nil }
        var international: [UInt8]
        if plus {
            international = digits
        } else if digits.count > 2 && digits[0] == UInt8(ascii: "0") && digits[1] == UInt8(ascii: "0") {
            international = Array(digits.dropFirst(2))
        } else {
            guard let r = regions[region] else { return nil }
            var national = digits[...]
            if r.trunkZero && national.first == UInt8(ascii: "0") { national = national.dropFirst() }
            if r.callingCode == "1" && national.count == 11 && national.first == UInt8(ascii: "1") { national = national.dropFirst() }
            guard r.lengths.contains(national.count) else { return nil }
            international = Array(r.callingCode.utf8) + national
        }
        // An international number may still carry the national trunk zero: +44 (0)20 ….
        if international.count > 3 {
            for (code, r) in [("44", regions["GB"]!), ("49", regions["DE"]!), ("33", regions["FR"]!)]
            where r.trunkZero && international.starts(with: code.utf8) && international[code.utf8.count] == UInt8(ascii: "0") {
                international.remove(at: code.utf8.count)
                break
            }
        }
        guard (8...15).contains(international.count), international[0] != UInt8(ascii: "0") else { return nil }
        return "+" + String(decoding: international, as: UTF8.self)
    }
}
