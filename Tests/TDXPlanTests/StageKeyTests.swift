import XCTest
import TDXLang
@testable import TDXPlan

final class StageKeyTests: XCTestCase {
    private func stage(_ params: [String: Value], inputs: [String] = [], version: Int = 1) -> Stage {
        Stage(id: "sae[3]", kind: .sae, layer: 3, name: nil, params: params, inputs: inputs, codeVersion: version, group: nil)
    }

    func testEncodingIsCanonicalAndExact() {
        let s = stage(["sae.beta": .float(1e-5), "sae.epochs": .int(30)], inputs: ["activations[3]"])
        let enc = StageKey.encoding(s, inputKeys: ["activations[3]": "abc"])
        XCTAssertEqual(enc, "tdx-stage-key 1\nkind sae\ncode 1\nlayer 3\nparam sae.beta = 1e-5\nparam sae.epochs = 30\ninput abc\n")
        // Floats are exact: the nearest neighbours of 0.1 get different keys.
        let a = StageKey.key(stage(["x": .float(0.1)]), inputKeys: [:])
        let b = StageKey.key(stage(["x": .float(0.1.nextUp)]), inputKeys: [:])
        XCTAssertNotEqual(a, b)
    }

    func testKeyDependsOnParamsInputsAndVersionOnly() {
        let base = stage(["sae.epochs": .int(30)], inputs: ["activations[3]"])
        let k = StageKey.key(base, inputKeys: ["activations[3]": "k1"])
        XCTAssertEqual(k.count, 64)
        XCTAssertNotEqual(k, StageKey.key(stage(["sae.epochs": .int(15)], inputs: ["activations[3]"]), inputKeys: ["activations[3]": "k1"]))
        XCTAssertNotEqual(k, StageKey.key(base, inputKeys: ["activations[3]": "k2"]))
        XCTAssertNotEqual(k, StageKey.key(stage(["sae.epochs": .int(30)], inputs: ["activations[3]"], version: 2),
                                          inputKeys: ["activations[3]": "k1"]))
        // Renaming an input's id does not change what the result means.
        let renamed = stage(["sae.epochs": .int(30)], inputs: ["acts"])
        XCTAssertEqual(k, StageKey.key(renamed, inputKeys: ["acts": "k1"]))
    }
}
