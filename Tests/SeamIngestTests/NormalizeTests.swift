import Foundation
import SeamColumnar
import SeamTestSupport
import Testing

@testable import SeamIngest

@Suite struct NormalizeTests {
    @Test func isoTimesWithOffsets() throws {
        let iso = TimeFormat.iso
        #expect(iso.parse("2025-03-14T15:02:11+01:00") == Timestamp.micros(year: 2025, month: 3, day: 14, hour: 14, minute: 2, second: 11))
        #expect(iso.parse("2024-11-18T10:38:34.123Z") == Timestamp.micros(year: 2024, month: 11, day: 18, hour: 10, minute: 38, second: 34, micro: 123_000))
        #expect(iso.parse("2024-02-29T00:00:00-0530") == Timestamp.micros(year: 2024, month: 2, day: 29, hour: 5, minute: 30))
        for bad in ["2025-02-30T10:00:00Z", "2025-02-30T25:61:00+01:00", "n/a", "yesterday", "2025-13-01", "2025-01-01T10:00:00+1", ""] {
            #expect(iso.parse(bad) == nil, "\(bad)")
        }
    }

    /// Segment's `YYYY-MM-DDTHH:MM:SS.sssZ` is read by a word-at-a-time reader: on valid times, and on every byte of
    /// them changed to a digit, a separator or anything else, it gives what the general ISO reader gives (or leaves
    /// the text to it).
    @Test func segmentTimesReadAsTheGeneralReaderReadsThem() {
        var rng = FixtureRandom(seed: 24)
        let alphabet = Array("0123456789-T:.Zzt +/\u{0}\u{7f}\u{ff}".utf8) + [0x2F, 0x3A, 0x40, 0xB0, 0xB9]
        var checked = 0, fast = 0
        func digits(_ v: Int, _ n: Int) -> String { String(repeating: "0", count: max(0, n - String(v).count)) + String(v) }
        for _ in 0..<4_000 {
            let r = { (n: UInt64) in Int(rng.next() % n) }
            var text = Array((digits(r(10_000), 4) + "-" + digits(r(14), 2) + "-" + digits(r(33), 2) + "T" + digits(r(26), 2) + ":"
                + digits(r(62), 2) + ":" + digits(r(62), 2) + "." + digits(r(1000), 3) + "Z").utf8)
            for _ in 0..<r(3) { text[r(24)] = alphabet[r(UInt64(alphabet.count))] }
            text.withUnsafeBytes { bytes in
                let general = TimeFormat.parseAnyISO(bytes)
                if let f = TimeFormat.parseSegmentTime(bytes) {
                    fast += 1
                    #expect(f == general, "\(String(decoding: text, as: UTF8.self))")
                } else {
                    // Left to the general reader: only texts not in this exact form.
                    #expect(general == nil || !text.enumerated().allSatisfy { k, c in
                        [4, 7].contains(k) ? c == 0x2D : k == 10 ? c == 0x54 : [13, 16].contains(k) ? c == 0x3A : k == 19 ? c == 0x2E : k == 23 ? c == 0x5A : c &- 0x30 < 10
                    }, "\(String(decoding: text, as: UTF8.self))")
                }
                #expect(TimeFormat.parseISO(bytes) == general)
                checked += 1
            }
        }
        #expect(checked == 4_000 && fast > 1_000)
    }

    @Test func patternsAndZones() throws {
        let us = try TimeFormat("%m/%d/%Y %H:%M")
        #expect(us.parse("02/15/2025 14:45") == Timestamp.micros(year: 2025, month: 2, day: 15, hour: 14, minute: 45))
        #expect(us.parse("13/45/2025 99:99") == nil)
        let de = try TimeFormat("%d.%m.%Y %H:%M")
        let berlin = try TimeZoneRule("Europe/Berlin")
        // Winter: UTC+1; summer: UTC+2.
        #expect(de.parse("15.01.2025 12:00", zone: berlin) == Timestamp.micros(year: 2025, month: 1, day: 15, hour: 11))
        #expect(de.parse("15.07.2025 12:00", zone: berlin) == Timestamp.micros(year: 2025, month: 7, day: 15, hour: 10))
        let ampm = try TimeFormat("%m/%d/%Y %H:%M %p")
        #expect(ampm.parse("1/2/2025 12:05 AM") == Timestamp.micros(year: 2025, month: 1, day: 2, hour: 0, minute: 5))
        #expect(throws: IngestError.self) { try TimeFormat("%Q") }
        #expect(throws: IngestError.self) { try TimeZoneRule("Mars/Olympus") }
    }

    @Test func moneyIsExact() {
        #expect(Money.parse("12.99") == .exact(1299))
        #expect(Money.parse("-3") == .exact(-300))
        #expect(Money.parse("0.1") == .exact(10))
        #expect(Money.parse("1.005") == .rounded(100))  // half to even
        #expect(Money.parse("1.015") == .rounded(102))
        #expect(Money.parse("1.5e2") == .exact(15000))
        #expect(Money.parse("1.234,50", decimal: UInt8(ascii: ","), thousands: UInt8(ascii: ".")) == .exact(123_450))
        #expect(Money.parse("92233720368547758.07") == .exact(Int64.max))
        for bad in ["", "abc", "1.2.3", "12,5", "99999999999999999999", "--1", "1e"] { #expect(Money.parse(bad) == .invalid, "\(bad)") }
    }

    @Test func phonesToE164() {
        #expect(Phone.e164("(463) 401-3275", region: "US") == "+14634013275")
        #expect(Phone.e164("020 7946 0958", region: "GB") == "+442079460958")
        #expect(Phone.e164("+44 (0)20 7946 0958", region: "US") == "+442079460958")
        #expect(Phone.e164("0521 3904015", region: "DE") == "+495213904015")
        #expect(Phone.e164("00449697455975", region: "US") == "+449697455975")
        #expect(Phone.e164("+49-8649746284", region: "US") == "+498649746284")
        #expect(Phone.e164("01 23 45 67 89", region: "FR") == "+33123456789")
        #expect(Phone.e164("call me", region: "US") == nil)
        #expect(Phone.e164("12", region: "US") == nil)
    }

    @Test func emailsAndNames() {
        #expect(Text.email("  Zoe.Garcia@Example.COM ") == "zoe.garcia@example.com")
        #expect(Text.isPlausibleEmail("a@b.co"))
        #expect(!Text.isPlausibleEmail("a@@b.co"))
        #expect(!Text.isPlausibleEmail("ab.co"))
        #expect(Text.name("  Zoe\u{308}   Ó  Súilleabháin ") == "Zoë Ó Súilleabháin")
        // ASCII names already tidy come back as they are; any other space still collapses.
        for (raw, tidy) in [("Ann Lee", "Ann Lee"), ("Ann  Lee", "Ann Lee"), ("Ann\tLee", "Ann Lee"), (" Ann", "Ann"), ("Ann ", "Ann"),
            ("Ann\r\nLee", "Ann Lee"), ("", ""), (" ", ""), ("A", "A"), ("Ann\u{0B}Lee", "Ann Lee")]
        {
            #expect(Text.name(raw) == tidy, "\(raw.debugDescription)")
        }
        #expect(Text.upper("eur") == "EUR" && Text.upper("EUR") == "EUR" && Text.upper("Gb") == "GB" && Text.upper("ß") == "SS")
    }
}
