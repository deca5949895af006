/// Human-readable byte counts for messages and reports: `512 B`, `1.5 KiB`, `64.4 MiB`, `1.25 GiB`.
public enum ByteCount {
    public static func format(_ n: Int) -> String {
        if n < 1024 { return "\(n) B" }
        if n < 1 << 20 { return fixed(Double(n) / 1024, 1) + " KiB" }
        if n < 1 << 30 { return fixed(Double(n) / 1_048_576, 1) + " MiB" }
        return fixed(Double(n) / 1_073_741_824, 2) + " GiB"
    }

    /// `v` rounded to `digits` decimals, always printed with them (no Foundation formatting).
    static func fixed(_ v: Double, _ digits: Int) -> String {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        let r = Int((v * scale).rounded())
        let whole = r / Int(scale)
        let frac = r % Int(scale)
        return "\(whole)." + Timestamp.zeroPad(frac, digits)
    }
}
