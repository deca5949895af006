// swift-tools-version:6.1
import PackageDescription

// Every module follows the layer table in DESIGN.md; arrows point down the layers only.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "Seam",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "Seam", targets: ["Seam"]),
        .executable(name: "seam", targets: ["seam"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // Layer 0
        .target(name: "SeamColumnar", swiftSettings: swiftSettings),
        .systemLibrary(name: "CLZ4", pkgConfig: "liblz4", providers: [.apt(["liblz4-dev"])]),
        // gzip-compressed input files (ingest)
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        // regular expressions in SQL (regexp_matches, regexp_extract, regexp_replace), JIT-compiled
        .systemLibrary(name: "CPCRE2", pkgConfig: "libpcre2-8", providers: [.apt(["libpcre2-dev"])]),
        // CPU instructions Swift cannot emit: CRC-32C for block checksums, prefetch ahead of hash-table probes; and
        // the check that the CPU has the extensions the build was compiled for (cpu_features.c)
        .target(name: "CCPU"),
        // Layer 1
        .target(name: "SeamKernels", dependencies: ["SeamColumnar", "CCPU"], swiftSettings: swiftSettings),
        .target(name: "SeamSQL", dependencies: ["SeamColumnar"], swiftSettings: swiftSettings),
        // Layer 2
        .target(
            name: "SeamStorage", dependencies: ["SeamColumnar", "SeamKernels", "CLZ4"], exclude: ["FORMAT.md"],
            swiftSettings: swiftSettings),
        // Layer 3
        .target(
            name: "SeamEngine", dependencies: ["SeamSQL", "SeamStorage", "SeamKernels", "SeamColumnar", "CPCRE2"],
            swiftSettings: swiftSettings),
        // Layer 4
        .target(
            name: "SeamIngest", dependencies: ["SeamColumnar", "SeamKernels", "SeamStorage", "CZlib", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings),
        .target(name: "SeamSynth", dependencies: ["SeamColumnar"], swiftSettings: swiftSettings),
        // Layer 5
        .target(
            name: "Seam", dependencies: ["SeamColumnar", "SeamKernels", "SeamStorage", "SeamSQL", "SeamEngine", "SeamIngest", "SeamSynth"],
            swiftSettings: swiftSettings),
        .target(name: "SeamShell", dependencies: ["Seam"], swiftSettings: swiftSettings),
        .systemLibrary(name: "CEditLine", pkgConfig: "libedit", providers: [.apt(["libedit-dev"])]),
        // Layer 6
        .executableTarget(
            name: "seam",
            dependencies: ["Seam", "SeamShell", "CEditLine", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            swiftSettings: swiftSettings
        ),

        // Tests
        .target(name: "SeamTestSupport", dependencies: ["SeamColumnar"], path: "Tests/SeamTestSupport", swiftSettings: swiftSettings),
        .testTarget(name: "SeamColumnarTests", dependencies: ["SeamColumnar", "SeamTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "SeamKernelsTests", dependencies: ["SeamKernels", "SeamTestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "SeamStorageTests",
            dependencies: ["SeamStorage", "SeamColumnar", "SeamTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "SeamIngestTests", dependencies: ["SeamIngest", "SeamStorage", "SeamColumnar", "SeamKernels", "SeamTestSupport"], swiftSettings: swiftSettings),
        .testTarget(
            name: "SeamEngineTests", dependencies: ["SeamEngine", "SeamSQL", "SeamStorage", "SeamColumnar", "SeamTestSupport"],
            exclude: ["golden", "Fixtures", "duckdb"], swiftSettings: swiftSettings),
        .testTarget(name: "SeamSQLTests", dependencies: ["SeamSQL", "SeamColumnar", "SeamTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "SeamSynthTests", dependencies: ["SeamSynth", "SeamTestSupport"], swiftSettings: swiftSettings),
        .testTarget(name: "SeamCLITests", dependencies: ["SeamTestSupport"], swiftSettings: swiftSettings),
    ]
)
