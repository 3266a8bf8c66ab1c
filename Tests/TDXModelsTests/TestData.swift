import Foundation
import XCTest
@testable import TDXModels

/// Locations of test inputs that live outside the repository.
enum TestData {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures/models")

    /// llama.cpp's vocab test directory, fetched once by Fixtures/models/fetch_testdata.sh.
    static func vocabDir() throws -> URL {
        let root = ProcessInfo.processInfo.environment["TDX_TESTDATA"]
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/tdx/testdata").path
        let dir = URL(fileURLWithPath: root).appendingPathComponent("vendor/llama.cpp/models")
        if !FileManager.default.fileExists(atPath: dir.appendingPathComponent("ggml-vocab-qwen2.gguf.out").path) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = [fixtures.appendingPathComponent("fetch_testdata.sh").path, root]
            try? p.run()
            p.waitUntilExit()
            if !FileManager.default.fileExists(atPath: dir.appendingPathComponent("ggml-vocab-qwen2.gguf.out").path) {
                throw XCTSkip("llama.cpp vocab test files unavailable (fetch_testdata.sh could not download llama-cpp-python==0.3.36 from PyPI)")
            }
        }
        return dir
    }

    /// The real SmolLM2 file through the same resolver the CLI uses.
    static func smolLM2() throws -> String {
        guard let path = try? ModelStore(environment: ProcessInfo.processInfo.environment).resolve("smollm2-135m") else {
            throw XCTSkip("SmolLM2-135M not found; run `tdx model fetch` first")
        }
        return path
    }
}
