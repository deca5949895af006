/// The shop the generator simulates: categories, products with prices, co-purchase companions, stores,
/// campaigns, and the name pools customers are drawn from.
struct Catalog: Sendable {
    struct Product: Sendable {
        var sku: String
        var name: String
        var category: Int
        /// Unit price in minor units of the base currency (USD); other currencies convert at fixed rates.
        var price: Int64
        /// A product often bought together with this one.
        var companion: Int
    }

    struct Store: Sendable {
        var id: String
        var country: Int
        /// The till's own phone number, typed in when a customer gives none: a shared identifier.
        var tillPhone: String
    }

    static let categories = [
        "apparel", "shoes", "accessories", "beauty", "home", "kitchen", "electronics", "books", "toys", "sports",
        "garden", "grocery",
    ]

    let products: [Product]
    let stores: [Store]

    init(seed: UInt64) {
        var rng = SeededRandom(seed: seed, stream: 0xCA7A_1060)
        var products: [Product] = []
        let adjectives = ["Classic", "Organic", "Pro", "Everyday", "Deluxe", "Mini", "Eco", "Smart", "Vintage", "Ultra"]
        let basePrice: [Double] = [35, 70, 25, 18, 40, 30, 150, 14, 22, 45, 28, 6]
        for c in 0..<Catalog.categories.count {
            for k in 0..<40 {
                let price = basePrice[c] * rng.logNormal(mu: 0, sigma: 0.5)
                products.append(
                    Product(
                        sku: "SKU-\(String(100_00 + c * 100 + k))",
                        name: "\(adjectives[k % adjectives.count]) \(Catalog.categories[c]) \(k / adjectives.count + 1)",
                        category: c, price: max(99, Int64(price * 100) / 10 * 10 + 9), companion: 0))
            }
        }
        // Companions: mostly within the category, sometimes across (shoes with socks, kitchen with grocery).
        for i in products.indices {
            let c = products[i].category
            let target = rng.chance(0.7) ? c : (c + 1 + rng.int(0...2)) % Catalog.categories.count
            products[i].companion = target * 40 + rng.int(0...39)
        }
        self.products = products
        var stores: [Store] = []
        for country in 0..<Countries.all.count {
            for k in 0..<[6, 4, 3, 3][country] {
                let phone = Countries.all[country].formatNational(Countries.all[country].storePhone(k))
                stores.append(Store(id: "\(Countries.all[country].code)-\(String(101 + k))", country: country, tillPhone: phone))
            }
        }
        self.stores = stores
    }
}

/// Countries customers live in, with the phone and currency conventions their exports use.
struct Country: Sendable {
    var code: String
    var currency: String
    /// Units of this currency per USD, in hundredths (USD = 100).
    var rate: Int64
    var callingCode: String
    var cities: [String]
    /// IANA zone and the DST rule family its stores' tills follow.
    var zone: String
    var standardOffsetMinutes: Int
    var usDST: Bool
    var nationalDigits: Int

    /// A subscriber number (without trunk prefix or country code).
    func subscriber(_ rng: inout SeededRandom) -> String {
        var s = String(rng.int(2...9))
        for _ in 1..<nationalDigits { s += String(rng.int(0...9)) }
        return s
    }

    func storePhone(_ k: Int) -> String {
        String(repeating: "5", count: 1) + String(repeating: "0", count: nationalDigits - 3) + String(10 + k)
    }

    /// E.164, the normalized truth: `+442079460958`.
    func e164(_ subscriber: String) -> String { "+" + callingCode + subscriber }

    /// How a national export writes it: `020 7946 0958`, `(555) 123-4567`, `030 12345678`.
    func formatNational(_ s: String) -> String {
        let a = Array(s)
        switch code {
        case "US": return "(\(String(a[0..<3]))) \(String(a[3..<6]))-\(String(a[6...]))"
        case "GB": return "0\(String(a[0..<2])) \(String(a[2..<6])) \(String(a[6...]))"
        case "DE": return "0\(String(a[0..<3])) \(String(a[3...]))"
        default: return "0\(String(a[0..<1])) \(String(a[1..<3])) \(String(a[3..<5])) \(String(a[5..<7])) \(String(a[7...]))"
        }
    }

    /// International spelling with spaces: `+44 20 7946 0958`.
    func formatInternational(_ s: String) -> String {
        let a = Array(s)
        return "+\(callingCode) \(String(a[0..<3])) \(String(a[3..<6])) \(String(a[6...]))"
    }

    /// Other spellings seen in the wild: dots, no spaces, `00` prefix.
    func formatOther(_ s: String, variant: Int) -> String {
        switch variant % 3 {
        case 0: return "00" + callingCode + s
        case 1: return "+" + callingCode + "-" + s
        default:
            let a = Array(s)
            return "\(String(a[0..<3])).\(String(a[3..<6])).\(String(a[6...]))"
        }
    }

    /// Offset from UTC in minutes at `utc` (µs), with EU or US daylight saving rules.
    func offsetMinutes(atUTC utc: Int64) -> Int {
        let p = SeamTimestamp.parts(utc)
        let year = p.year
        func lastSunday(_ month: Int) -> Int64 {
            let lastDay = month == 3 || month == 10 ? 31 : 30
            var d = SeamTimestamp.days(year: year, month: month, day: lastDay)
            while (d + 4) % 7 != 0 { d -= 1 }  // 1970-01-01 was a Thursday: (d + 4) % 7 == 0 on Sundays
            return d
        }
        func nthSunday(_ month: Int, _ n: Int) -> Int64 {
            var d = SeamTimestamp.days(year: year, month: month, day: 1)
            while ((d + 4) % 7 + 7) % 7 != 0 { d += 1 }
            return d + Int64(7 * (n - 1))
        }
        let start: Int64, end: Int64
        if usDST {
            // 2:00 local standard time → UTC.
            start = nthSunday(3, 2) * 86_400_000_000 + Int64(2 * 60 - standardOffsetMinutes) * 60_000_000
            end = nthSunday(11, 1) * 86_400_000_000 + Int64(2 * 60 - standardOffsetMinutes - 60) * 60_000_000
        } else {
            // 01:00 UTC on the last Sundays of March and October.
            start = lastSunday(3) * 86_400_000_000 + 3_600_000_000
            end = lastSunday(10) * 86_400_000_000 + 3_600_000_000
        }
        return standardOffsetMinutes + (utc >= start && utc < end ? 60 : 0)
    }
}

enum Countries {
    static let all: [Country] = [
        Country(
            code: "US", currency: "USD", rate: 100, callingCode: "1",
            cities: ["New York", "Chicago", "Austin", "Seattle", "Denver", "Boston"], zone: "America/New_York",
            standardOffsetMinutes: -300, usDST: true, nationalDigits: 10),
        Country(
            code: "GB", currency: "GBP", rate: 79, callingCode: "44",
            cities: ["London", "Manchester", "Leeds", "Bristol", "Glasgow"], zone: "Europe/London", standardOffsetMinutes: 0,
            usDST: false, nationalDigits: 10),
        Country(
            code: "DE", currency: "EUR", rate: 92, callingCode: "49",
            cities: ["Berlin", "München", "Köln", "Hamburg", "Düsseldorf"], zone: "Europe/Berlin", standardOffsetMinutes: 60,
            usDST: false, nationalDigits: 10),
        Country(
            code: "FR", currency: "EUR", rate: 92, callingCode: "33",
            cities: ["Paris", "Lyon", "Marseille", "Toulouse", "Nantes"], zone: "Europe/Paris", standardOffsetMinutes: 60,
            usDST: false, nationalDigits: 9),
    ]
    static let weights: [Double] = [0.5, 0.25, 0.15, 0.10]
}

enum Names {
    static let first: [[String]] = [
        ["James", "Mary", "Robert", "Patricia", "Michael", "Jennifer", "David", "Linda", "Sarah", "Kevin", "Ashley", "Brian",
         "María", "José", "Zoë", "Chloé"],
        ["Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Jack", "Emily", "Siobhán", "Niamh", "Seán", "Zoë", "Ruth", "Ewan"],
        ["Lukas", "Anna", "Jürgen", "Sophie", "Maximilian", "Lea", "Björn", "Jörg", "Käthe", "Paul", "Marie", "Felix"],
        ["Louis", "Léa", "Gabriel", "Chloé", "Raphaël", "Inès", "Hélène", "François", "Zoé", "Noémie", "Jules", "Manon"],
    ]
    static let last: [[String]] = [
        ["Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodríguez", "Martínez", "Nguyen", "O'Brien",
         "Kim", "Lee"],
        ["Taylor", "Davies", "Evans", "Wilson", "Thomas", "Roberts", "Walker", "Wright", "O'Connor", "Ó Súilleabháin", "Patel",
         "Khan"],
        ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schäfer", "Groß", "Öztürk", "Koch"],
        ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Lefèvre", "Girard", "Bézier", "Roché"],
    ]
    static let domains = ["gmail.com", "yahoo.com", "outlook.com", "icloud.com", "proton.me", "web.de", "orange.fr", "hotmail.co.uk"]

    /// ASCII-folds a name for an email local part: `Jürgen` → `jurgen`.
    static func emailPart(_ s: String) -> String {
        let folded = s.lowercased().unicodeScalars.map { u -> String in
            switch u {
            case "ä", "á", "à", "â": return "a"
            case "ö", "ó", "ô": return "o"
            case "ü", "ú": return "u"
            case "é", "è", "ê", "ë": return "e"
            case "í", "ï": return "i"
            case "ç": return "c"
            case "ß": return "ss"
            case "ñ": return "n"
            default: return u.isASCII && (u.properties.isAlphabetic || ("0"..."9").contains(u)) ? String(u) : ""
            }
        }
        return folded.joined()
    }
}

typealias SeamTimestamp = SeamColumnar.Timestamp
import SeamColumnar
