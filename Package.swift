// swift-tools-version: 6.0
// rlhub — reinforcement learning for language models, with a reproducible baselines hub.
// Layers (arrows point down only): rlhub CLI → Hub, HubServer, Experiments → Evaluation → Store, Trainer → … → LM
// → Tensor → COpenBLAS. See ARCHITECTURE.md.
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
    ],
    targets: [
        .systemLibrary(
            name: "COpenBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(
            name: "CArchive", pkgConfig: "libarchive", providers: [.apt(["libarchive-dev"])]),
        .target(name: "Tensor", dependencies: ["COpenBLAS"], swiftSettings: numericFlags),
        .target(name: "LM", dependencies: ["Tensor"], swiftSettings: numericFlags),
        .target(name: "Tasks", dependencies: ["LM"]),
        // "RLAlgorithms": swift-algorithms (under Hummingbird) already has a module named Algorithms.
        .target(name: "RLAlgorithms", path: "Sources/Algorithms"),
        .target(
            name: "Trainer",
            dependencies: [
                "LM", "Tensor", "Tasks", "Generator", "RLAlgorithms",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: numericFlags),
        .target(name: "Generator", dependencies: ["LM", "Tensor", "Tasks"], swiftSettings: numericFlags),
        .target(
            name: "Store",
            dependencies: [
                "LM", "CArchive",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        .target(name: "Evaluation", dependencies: ["LM", "Tensor", "Store"]),
        .target(
            name: "Experiments",
            dependencies: [
                "LM", "Tasks", "Generator", "RLAlgorithms", "Trainer", "Store", "Evaluation",
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]),
        .target(
            name: "Hub",
            dependencies: [
                "LM", "Store", "Evaluation",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]),
        .target(
            name: "HubServer",
            dependencies: [
                "LM", "Store", "Evaluation", "Hub",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]),
        .target(name: "Benchmarks", dependencies: ["LM", "Tensor", "Generator", "Store", "Tasks", "RLAlgorithms", "Trainer"], path: "Benchmarks"),
        .executableTarget(
            name: "rlhub",
            dependencies: [
                "LM", "Tensor", "Tasks", "Generator", "RLAlgorithms", "Trainer", "Benchmarks",
                "Store", "Experiments", "Evaluation", "Hub", "HubServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
            ]),
        .testTarget(name: "TensorTests", dependencies: ["Tensor"]),
        .testTarget(name: "LMTests", dependencies: ["LM", "Tensor", "Generator"]),
        .testTarget(name: "TasksTests", dependencies: ["Tasks", "LM"]),
        .testTarget(name: "AlgorithmsTests", dependencies: ["RLAlgorithms"]),
        .testTarget(name: "TrainerTests", dependencies: ["Trainer", "RLAlgorithms", "Tasks", "Generator", "LM", "Tensor"]),
        .testTarget(name: "GeneratorTests", dependencies: ["Generator", "LM", "Tensor", "Tasks", "RLAlgorithms"]),
        .testTarget(name: "StoreTests", dependencies: ["Store", "LM"]),
        .testTarget(
            name: "ExperimentsTests",
            dependencies: ["Experiments", "Store", "Trainer", "LM", "Tasks", "RLAlgorithms", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "EvaluationTests", dependencies: ["Evaluation", "Store", "Tensor", "LM"]),
        .testTarget(name: "HubTests", dependencies: ["Hub", "HubServer", "Store", "LM", "Tensor"]),
        .testTarget(name: "CLITests", dependencies: ["LM", "Tensor", "Store"]),
    ],
    swiftLanguageModes: [.v6]
)
