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
}
