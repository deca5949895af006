public import Benchmark

extension BenchmarkMetric {
    /// Rows processed per second of wall clock, measured around each sample's iterations.
    public static let rowsPerSecond = BenchmarkMetric.custom("rows/s", polarity: .prefersLarger, useScalingFactor: false)
    /// Bytes processed per second (what "bytes" means is said in each benchmark's name: decoded input, block, …).
    public static let bytesPerSecond = BenchmarkMetric.custom("bytes/s", polarity: .prefersLarger, useScalingFactor: false)
}

extension Benchmark {
    /// Runs `body` once per scaled iteration and records rows/s and bytes/s for the sample, from its own clock,
    /// so every benchmark reports throughput in the units a reader compares (package-benchmark's built-in
    /// throughput counts iterations, not rows).
    public func measureThroughput(rows: Int, bytes: Int, _ body: () throws -> Void) rethrows {
        let clock = ContinuousClock()
        var iterations = 0
        let start = clock.now
        for _ in scaledIterations {
            try body()
            iterations += 1
        }
        let elapsed = clock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        guard seconds > 0, iterations > 0 else { return }
        measurement(.rowsPerSecond, Int(Double(rows * iterations) / seconds))
        if bytes > 0 { measurement(.bytesPerSecond, Int(Double(bytes * iterations) / seconds)) }
    }
}

/// The metrics every Seam benchmark reports: p50 wall clock, rows/s and bytes/s.
public let throughputMetrics: [BenchmarkMetric] = [.wallClock, .rowsPerSecond, .bytesPerSecond]
