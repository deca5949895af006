// swift-tools-version:6.1
import PackageDescription

/// One package-benchmark suite: `Benchmarks/NAME/*.swift`, with the shared throughput metrics and the Seam library.
func benchmarkTarget(_ name: String) -> Target {
    .executableTarget(
        name: name,
        dependencies: [
            "BenchmarkSupport",
            .product(name: "Seam", package: "Seam"),
            .product(name: "Benchmark", package: "benchmark"),
        ],
        path: "Benchmarks/" + name,
        plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
    )
}

// A nested package so the benchmark dependency stays out of normal builds (STYLE.md, habit 11).
let package = Package(
    name: "SeamBenchmarks",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "Seam", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.0", traits: ["MallocInterposer"]),
    ],
    targets: [
        // rows/s and bytes/s as custom metrics, shared by every benchmark target.
        .target(
            name: "BenchmarkSupport",
            dependencies: [.product(name: "Benchmark", package: "benchmark")],
            path: "Sources/BenchmarkSupport"
        ),
        benchmarkTarget("StorageBenchmarks"),
        benchmarkTarget("EngineBenchmarks"),
        benchmarkTarget("IngestBenchmarks"),
    ]
)
