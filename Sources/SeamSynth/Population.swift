/// One simulated person and the identifiers the channels know them by (the truth the generator writes out).
struct Person: Sendable {
    var index: Int
    var id: String
    var firstName: String
    var lastName: String
    var country: Int
    var city: String
    /// Normalized (lower-case) email, if the person has one.
    var email: String?
    /// The email the email service holds: usually `email`, for a few a typo that bounces.
    var espEmail: String?
    /// National subscriber digits; spelled in many ways by the channels.
    var phoneSubscriber: String?
    var userID: String?
    var anonymousIDs: [String]
    var deviceIDs: [String]
    var loyaltyID: String?
    var crmID: String?
    /// First activity (µs UTC).
    var birth: Int64
    /// BG/NBD: purchase rate per day while alive and drop-out probability after each purchase.
    var lambda: Double
    var dropout: Double
    /// Gamma-Gamma: mean order value (minor units of the person's currency).
    var meanOrderValue: Double
    /// Sessions of browsing per day while active.
    var browseRate: Double
    var channelWeights: [Double]  // web, mobile, store
    var categoryAffinity: [Double]
    var openRate: Double
    var consentEmail: Bool
    var consentSMS: Bool
    var consentAds: Bool
    /// Device clock skew of the mobile app in µs.
    var clockSkew: Int64
    /// The other person in the household who shares this email (index), if any.
    var householdWith: Int?
    var phoneE164: String? { phoneSubscriber.map { Countries.all[country].e164($0) } }
}

/// Parameters of the simulated population (written to `truth/params.json`).
public struct SynthParameters: Sendable, Codable {
    public var customers: Int
    public var seed: UInt64
    /// Simulation window [start, end) in µs UTC.
    public var start: Int64
    public var end: Int64
    /// BG/NBD heterogeneity: purchase rate λ ~ Gamma(r, 1/α) per day; drop-out p ~ Beta(a, b).
    public var r = 0.9
    public var alpha = 80.0
    public var a = 1.2
    public var b = 5.0
    /// Gamma-Gamma spend: per-person mean order value ν ~ Gamma(q, scale) (USD minor units).
    public var q = 4.0
    public var spendScale = 1800.0
    public var householdShare = 0.02

    public init(customers: Int, seed: UInt64, start: Int64, end: Int64) {
        self.customers = customers
        self.seed = seed
        self.start = start
        self.end = end
    }
}

enum Population {
    static func makePerson(_ i: Int, params: SynthParameters) -> Person {
        var rng = SeededRandom(seed: params.seed, stream: UInt64(i) &+ 1)
        let country = rng.weighted(Countries.weights)
        let c = Countries.all[country]
        let first = rng.pick(Names.first[country]), last = rng.pick(Names.last[country])
        let hex = String(rng.next() & 0xFFFF_FFFF_FFFF, radix: 16)
        let email: String? =
            rng.chance(0.9)
            ? "\(Names.emailPart(first)).\(Names.emailPart(last))\(rng.chance(0.5) ? String(rng.int(1...99)) : "")\(i % 1000)@\(rng.pick(Names.domains))"
            : nil
        var espEmail = email
        if let e = email, rng.chance(0.02) { espEmail = e.replacingOccurrences(of: "@", with: "@@") }
        let hasApp = rng.chance(0.35)
        let span = Double(params.end - params.start)
        // Acquisition spread over the first 80 % of the window.
        let birth = params.start + Int64(rng.unit() * 0.8 * span)
        let lambda = rng.gamma(shape: params.r, scale: 1 / params.alpha)
        let dropout = rng.beta(params.a, params.b)
        let mov = rng.gamma(shape: params.q, scale: params.spendScale) * Double(c.rate) / 100
        var weights = [rng.gamma(shape: 1.5, scale: 1), hasApp ? rng.gamma(shape: 1.5, scale: 1) : 0, rng.gamma(shape: 1, scale: 1)]
        if rng.chance(0.15) { weights[2] = 0 }  // online-only
        var affinity = (0..<Catalog.categories.count).map { _ in rng.gamma(shape: 0.3, scale: 1) }
        affinity[rng.int(0...(Catalog.categories.count - 1))] += 1
        let skewRoll = rng.unit()
        let skew: Int64 =
            skewRoll < 0.8
            ? Int64(rng.int(-2000...2000)) * 1000
            : skewRoll < 0.95 ? Int64(rng.int(-900...900)) * 1_000_000 : Int64(rng.int(-72...72)) * 3_600_000_000
        return Person(
            index: i, id: "P" + String(1_000_000 + i), firstName: first, lastName: last, country: country,
            city: rng.pick(c.cities), email: email, espEmail: espEmail,
            phoneSubscriber: rng.chance(0.75) ? c.subscriber(&rng) : nil,
            userID: rng.chance(0.6) || hasApp ? "u_" + hex : nil,
            anonymousIDs: (0..<rng.int(1...3)).map { _ in uuid(&rng) },
            deviceIDs: hasApp ? (0..<rng.int(1...2)).map { _ in uuid(&rng).uppercased() } : [],
            loyaltyID: rng.chance(0.4) ? "L" + String(10_000_000 + i * 7 % 89_999_999) : nil,
            crmID: rng.chance(0.55) ? "C" + String(2_000_000 + i) : nil,
            birth: birth, lambda: lambda, dropout: dropout, meanOrderValue: mov,
            browseRate: rng.logNormal(mu: log(1.0 / 80), sigma: 1.0), channelWeights: weights, categoryAffinity: affinity,
            openRate: rng.beta(2, 5), consentEmail: rng.chance(0.7), consentSMS: rng.chance(0.4), consentAds: rng.chance(0.55),
            clockSkew: skew, householdWith: nil)
    }

    /// All persons; a few share a household email with the next person (different people, one inbox).
    static func make(params: SynthParameters) -> [Person] {
        var people = (0..<params.customers).map { makePerson($0, params: params) }
        var rng = SeededRandom(seed: params.seed, stream: 0x4005_E401D)
        var i = 0
        while i + 1 < people.count {
            if rng.chance(params.householdShare), people[i].email != nil {
                let family = "\(Names.emailPart(people[i].lastName)).family\(i % 1000)@\(rng.pick(Names.domains))"
                people[i].email = family
                people[i].espEmail = family
                people[i + 1].email = family
                people[i + 1].espEmail = family
                people[i + 1].lastName = people[i].lastName
                people[i + 1].country = people[i].country
                // Household members each have their own login, so a user_id tells them apart.
                if people[i].userID == nil { people[i].userID = "u_h\(i)" }
                if people[i + 1].userID == nil { people[i + 1].userID = "u_h\(i + 1)" }
                people[i].householdWith = i + 1
                people[i + 1].householdWith = i
                i += 2
            } else {
                i += 1
            }
        }
        return people
    }

    static func uuid(_ rng: inout SeededRandom) -> String {
        let a = rng.next(), b = rng.next()
        func h(_ v: UInt64, _ n: Int) -> String {
            let s = String(v, radix: 16)
            return String(repeating: "0", count: max(0, n - s.count)) + s.suffix(n)
        }
        return "\(h(a >> 32, 8))-\(h((a >> 16) & 0xFFFF, 4))-4\(h(a & 0xFFF, 3))-\(h(8 | (b >> 62), 1))\(h((b >> 48) & 0xFFF, 3))-\(h(b & 0xFFFF_FFFF_FFFF, 12))"
    }
}

import Foundation
