// swift-tools-version: 6.1
// rlhub — reinforcement learning for language models, with a reproducible baselines hub.
// Layers (arrows point down only): rlhub CLI → Hub, HubServer, Experiments → Evaluation → Store, Trainer → … → LM
// → Tensor → COpenBLAS; RLHubCore (errors, version, chat message, atomic files, shared statistics, the code
// version) sits below LM, Tasks and Store. See ARCHITECTURE.md.
// Tools 6.1: the source-hash plugin reads target folders (`Target.directoryURL`).
import PackageDescription

/// Release builds of numeric code: no exclusivity checks in hot loops.
let numericFlags: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"])]

let package = Package(
    name: "rlhub",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "rlhub", targets: ["rlhub"]),
        .library(name: "LM", targets: ["LM"]),
        .library(name: "Tensor", targets: ["Tensor"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.20.0"),
        // Imported directly by Hub and HubServer (already in the graph through the two above).
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.65.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        // oneDNN (Debian's libdnnl-dev, OpenMP build): bf16 matmul and the fp32 shapes it is faster at.
        .systemLibrary(name: "CDNNL", providers: [.apt(["libdnnl-dev"])]),
        .systemLibrary(
            name: "CArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),
        // The SHA-256 of the source tree, embedded in RLHubCore at build time (CodeVersion.sourceHash).
        .executableTarget(name: "SourceHashTool"),
        .plugin(name: "SourceHashPlugin", capability: .buildTool(), dependencies: ["SourceHashTool"]),
        .target(
            name: "RLHubCore", dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            plugins: ["SourceHashPlugin"]),
        .target(name: "Tensor", dependencies: ["COpenBLAS", "CDNNL"], swiftSettings: numericFlags),
        .target(
            name: "LM", dependencies: ["Tensor", "RLHubCore", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: numericFlags),
        .target(name: "Tasks", dependencies: ["RLHubCore"]),
        // "RLAlgorithms": swift-algorithms (under Hummingbird) already has a module named Algorithms.
        .target(name: "RLAlgorithms", path: "Sources/Algorithms"),
        .target(
            name: "Trainer",
            dependencies: [
                "LM", "Tensor", "Tasks", "Generator", "RLAlgorithms", "RLHubCore",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: numericFlags),
        .target(name: "Generator", dependencies: ["LM", "Tensor", "Tasks", "RLHubCore"], swiftSettings: numericFlags),
        .target(
            name: "Store",
            dependencies: [
                "RLHubCore", "CArchive",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        .target(name: "Evaluation", dependencies: ["LM", "Tensor", "Store", "RLHubCore"]),
        .target(
            name: "Experiments",
            dependencies: [
                "LM", "Tensor", "RLHubCore", "Tasks", "Generator", "RLAlgorithms", "Trainer", "Store", "Evaluation",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        .target(
            name: "Hub",
            dependencies: [
                "RLHubCore", "Store", "Evaluation",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]),
        .target(
            name: "HubServer",
            dependencies: [
                "RLHubCore", "Store", "Evaluation", "Hub", "Trainer",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .target(
            name: "Benchmarks", dependencies: ["LM", "Tensor", "Generator", "Store", "Tasks", "RLAlgorithms", "Trainer", "RLHubCore"],
            path: "Benchmarks"),
        .executableTarget(
            name: "rlhub",
            dependencies: [
                "LM", "Tensor", "Tasks", "Generator", "RLAlgorithms", "Trainer", "Benchmarks",
                "Store", "Experiments", "Evaluation", "Hub", "HubServer", "RLHubCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
            ]),
        // What the test targets share: the source tree's hash and the binary check, SplitMix64,
        // expectClose, runProcess, and the reference checks' skip traits. Not a test bundle itself.
        .target(
            name: "TestSupport", dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            path: "Tests/TestSupport"),
        .testTarget(name: "RLHubCoreTests", dependencies: ["RLHubCore", "TestSupport"]),
        .testTarget(name: "TensorTests", dependencies: ["Tensor", "TestSupport"]),
        .testTarget(name: "LMTests", dependencies: ["LM", "Tensor", "Generator", "RLHubCore", "TestSupport"]),
        .testTarget(name: "TasksTests", dependencies: ["Tasks", "RLHubCore"]),
        .testTarget(name: "AlgorithmsTests", dependencies: ["RLAlgorithms", "TestSupport"]),
        .testTarget(
            name: "TrainerTests", dependencies: ["Trainer", "RLAlgorithms", "Tasks", "Generator", "LM", "Tensor", "RLHubCore"]),
        .testTarget(
            name: "GeneratorTests", dependencies: ["Generator", "LM", "Tensor", "Tasks", "RLAlgorithms", "RLHubCore"]),
        .testTarget(
            name: "StoreTests",
            dependencies: ["Store", "RLHubCore", "CArchive", "TestSupport", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(
            name: "ExperimentsTests",
            dependencies: [
                "Experiments", "Store", "Trainer", "LM", "Tasks", "RLAlgorithms", "RLHubCore", "TestSupport",
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation", "Store", "Tensor", "LM", "RLHubCore", "TestSupport"]),
        .testTarget(
            name: "HubTests",
            dependencies: ["Hub", "HubServer", "Store", "Tensor", "RLHubCore"]),
        .testTarget(name: "CLITests", dependencies: ["LM", "Tensor", "Store", "RLHubCore", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
