// swift-tools-version: 6.0
import PackageDescription

// AVX2 + FMA are present on every machine this project targets (see README, "Machines");
// without an FMA target feature SIMD `addingProduct` lowers to scalar fmaf calls.
let simd: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-mavx2", "-Xcc", "-mfma"])]

let package = Package(
    name: "tdx",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "tdx", targets: ["tdx"]),
    ],
    targets: [
        .systemLibrary(name: "CSQLite", path: "Sources/CSQLite",
                       providers: [.apt(["libsqlite3-dev"])]),
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS",
                       providers: [.apt(["libopenblas-dev"])]),

        .target(name: "TDXCore"),
        .target(name: "TDXLang", dependencies: ["TDXCore"]),
        .target(name: "TDXPlan", dependencies: ["TDXCore", "TDXLang"]),
        .target(name: "TDXStore", dependencies: ["TDXCore", "CSQLite"], swiftSettings: simd),
        .target(name: "TDXNumerics", dependencies: ["TDXCore", "CBLAS"], swiftSettings: simd),
        .target(name: "TDXModels", dependencies: ["TDXCore", "TDXNumerics", "CBLAS"], exclude: ["Worker/PROTOCOL.md"],
                swiftSettings: simd),
        .target(name: "TDXTasks", dependencies: ["TDXCore"]),
        .target(name: "TDXRL", dependencies: ["TDXCore", "TDXTasks", "TDXNumerics"]),
        .target(name: "TDXAnalysis", dependencies: ["TDXCore", "TDXNumerics", "CBLAS"], swiftSettings: simd),
        .target(name: "TDXReport", dependencies: ["TDXCore"]),
        .target(name: "TDXEngine", dependencies: [
            "TDXCore", "TDXLang", "TDXPlan", "TDXStore", "TDXNumerics", "TDXModels",
            "TDXTasks", "TDXRL", "TDXAnalysis", "TDXReport",
        ]),
        .target(name: "TDXCLI", dependencies: [
            "TDXCore", "TDXLang", "TDXPlan", "TDXStore", "TDXNumerics", "TDXModels",
            "TDXTasks", "TDXRL", "TDXAnalysis", "TDXReport", "TDXEngine",
        ]),
        .executableTarget(name: "tdx", dependencies: ["TDXCLI"]),

        .testTarget(name: "TDXCoreTests", dependencies: ["TDXCore"]),
        .testTarget(name: "TDXLangTests", dependencies: ["TDXLang", "TDXCore"], exclude: ["Golden"]),
        .testTarget(name: "TDXPlanTests", dependencies: ["TDXPlan", "TDXLang", "TDXCore"]),
        .testTarget(name: "TDXStoreTests", dependencies: ["TDXStore", "TDXCore"]),
        .testTarget(name: "TDXNumericsTests", dependencies: ["TDXNumerics", "TDXCore"], swiftSettings: simd),
        .testTarget(name: "TDXModelsTests", dependencies: ["TDXModels", "TDXNumerics", "TDXCore"]),
        .testTarget(name: "TDXTasksTests", dependencies: ["TDXTasks", "TDXCore"]),
        .testTarget(name: "TDXRLTests", dependencies: ["TDXRL", "TDXTasks", "TDXCore"]),
        .testTarget(name: "TDXAnalysisTests", dependencies: ["TDXAnalysis", "TDXNumerics", "TDXCore"]),
        .testTarget(name: "TDXReportTests", dependencies: ["TDXReport", "TDXCore"], exclude: ["Golden"]),
        .testTarget(name: "TDXEngineTests", dependencies: ["TDXEngine", "TDXPlan", "TDXStore", "TDXLang", "TDXReport", "TDXCore"]),
        .testTarget(name: "TDXCLITests", dependencies: ["TDXCLI", "TDXCore", "TDXModels", "TDXNumerics", "TDXStore", "TDXEngine"]),
    ],
    swiftLanguageModes: [.v6]
)
