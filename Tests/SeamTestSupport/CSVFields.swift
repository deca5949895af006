/// Splits one CSV line (RFC 4180 quoting, no embedded newlines).
public func csvFields(_ line: String) -> [String] {
    var out: [String] = []
    var cur = ""
    var quoted = false
    var chars = Array(line)[...]
    while let c = chars.popFirst() {
        if quoted {
            if c == "\"" {
                if chars.first == "\"" { cur.append("\""); chars.removeFirst() } else { quoted = false }
            } else { cur.append(c) }
        } else if c == "\"" {
            quoted = true
        } else if c == "," {
            out.append(cur)
            cur = ""
        } else {
            cur.append(c)
        }
    }
    out.append(cur)
    return out
}
