import XCTest
import TDXPlan

final class ReportDirectoryTests: XCTestCase {
    func testSweepVariantDirectoryNames() {
        XCTAssertEqual(ReportDirectory.name("report"), "defaults")
        XCTAssertEqual(ReportDirectory.name("report{sae.beta=1e-5}"), "sae.beta=1e-5")
        XCTAssertEqual(ReportDirectory.name("report{correlate.partial=[reward, time],sae.beta=0.0001}"),
                       "correlate.partial=reward+time_sae.beta=0.0001")
        XCTAssertEqual(ReportDirectory.name("report{task.prompt_intro=\"a/b c\"}"), "task.prompt_intro=a_b_c")
        XCTAssertEqual(ReportDirectory.name("report{model.weights=\"models/x.gguf\"}"), "model.weights=models_x.gguf")
    }

    /// Variants whose names would clash, or run too long, get a digest of their id; the others keep their name.
    func testClashingAndLongNamesAreMadeUnique() {
        let ids = ["report{model.weights=\"models/a.gguf\"}", "report{model.weights=\"models_a.gguf\"}", "report{seed=2}",
                   "report{task.prompt_intro=\"" + String(repeating: "x", count: 300) + "\"}"]
        let names = ReportDirectory.names(ids)
        XCTAssertEqual(Set(names.values).count, 4)
        XCTAssertEqual(names[ids[2]], "seed=2")
        XCTAssertTrue(names[ids[0]]!.hasPrefix("model.weights=models_a.gguf-"), names[ids[0]]!)
        XCTAssertLessThanOrEqual(names[ids[3]]!.utf8.count, 200)
        XCTAssertEqual(ReportDirectory.names(ids), names, "the same names every time")
        XCTAssertTrue(ReportDirectory.isVariantName("defaults") && ReportDirectory.isVariantName("seed=2"))
        XCTAssertFalse(ReportDirectory.isVariantName("quick"))
    }
}
