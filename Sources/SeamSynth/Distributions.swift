import Foundation

/// Samplers for the distributions of the buy-till-you-die process (BG/NBD and Gamma-Gamma).
extension SeededRandom {
    /// Standard normal (Box-Muller).
    mutating func normal() -> Double {
        let u1 = max(unit(), 1e-300), u2 = unit()
        return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
    }

    /// Gamma(shape, scale) by Marsaglia–Tsang; shape < 1 uses the boost `U^(1/shape)`.
    mutating func gamma(shape: Double, scale: Double) -> Double {
        if shape < 1 {
            let u = max(unit(), 1e-300)
            return gamma(shape: shape + 1, scale: scale) * pow(u, 1 / shape)
        }
        let d = shape - 1.0 / 3, c = 1 / (9 * d).squareRoot()
        while true {
            var x: Double, v: Double
            repeat {
                x = normal()
                v = 1 + c * x
            } while v <= 0
            v = v * v * v
            let u = unit()
            if u < 1 - 0.0331 * x * x * x * x || log(max(u, 1e-300)) < 0.5 * x * x + d * (1 - v + log(v)) {
                return d * v * scale
            }
        }
    }

    mutating func beta(_ a: Double, _ b: Double) -> Double {
        let x = gamma(shape: a, scale: 1), y = gamma(shape: b, scale: 1)
        return x / (x + y)
    }

    /// Exponential waiting time with `rate` per unit.
    mutating func exponential(rate: Double) -> Double { -log(max(1 - unit(), 1e-300)) / rate }

    /// Poisson by inversion (small means only).
    mutating func poisson(_ mean: Double) -> Int {
        if mean > 30 { return max(0, Int((mean + mean.squareRoot() * normal()).rounded())) }
        let l = exp(-mean)
        var k = 0, p = 1.0
        repeat {
            k += 1
            p *= unit()
        } while p > l
        return k - 1
    }

    mutating func logNormal(mu: Double, sigma: Double) -> Double { exp(mu + sigma * normal()) }

    /// An index drawn with the given (unnormalized) weights.
    mutating func weighted(_ weights: [Double]) -> Int {
        let total = weights.reduce(0, +)
        var x = unit() * total
        for (i, w) in weights.enumerated() {
            x -= w
            if x < 0 { return i }
        }
        return weights.count - 1
    }
}
