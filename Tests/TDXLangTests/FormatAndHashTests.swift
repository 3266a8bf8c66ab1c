import Foundation
import XCTest
@testable import TDXLang

final class FormatAndHashTests: XCTestCase {
    private func format(_ text: String) -> String {
        let f = SourceFile(path: "t.tdx", text: text)
        let (ast, d) = Parser.parse(f, fileID: 0)
        XCTAssertFalse(d.hasErrors)
        return Formatter().format(ast)
    }

    static let messy = """
    // header comment
    tdx 1
    seed=3
    let   n = 4


    model llm {weights="smollm2-135m"}   // trailing
    task two_step {experiments = n episodes=10
      // about transitions
      transitions=common(0.7) prompt_intro = \"\"\"
          Line one.
            Line two.
          \"\"\"
    }
    agent q_learning { γ = 0.99  α = 1e-1 }
    sae { β in [1e-5,1e-4]
    epochs = 3 /* short */ }
    correlate { with = [td_error,q_value] }
    // end of file

    """

    func testFormatGolden() {
        assertGolden(format(Self.messy), "messy.formatted.tdx")
    }

    func testFormatIsIdempotentAndKeepsMeaning() throws {
        // Specs are checked at their own path, so their imports resolve from disk.
        var inputs = [(Self.messy, "test.tdx")]
        for p in Repo.specs { inputs.append((try String(contentsOfFile: p, encoding: .utf8), p)) }
        XCTAssertGreaterThanOrEqual(inputs.count, 5, "specs/ not found")
        for (text, path) in inputs {
            let once = format(text)
            XCTAssertEqual(format(once), once, "fmt is not idempotent")
            func check(_ t: String) -> ResolvedSpec? {
                path == "test.tdx" ? checkText(t).spec : Frontend.check(text: t, path: path).spec
            }
            let a = check(text), b = check(once)
            XCTAssertNotNil(a)
            XCTAssertEqual(a?.digest, b?.digest, "fmt changed the meaning")
            XCTAssertEqual(a?.canonicalText, b?.canonicalText)
            // Comments survive.
            let comments = text.components(separatedBy: "\n").filter { $0.trimmingCharacters(in: .whitespaces).hasPrefix("//") }
            for c in comments { XCTAssertTrue(once.contains(c.trimmingCharacters(in: .whitespaces)), "lost comment \(c)") }
        }
    }

    func testResolvedGoldenAndReparse() throws {
        let r = Frontend.check(path: Repo.path("specs/quick.tdx"))
        let spec = try XCTUnwrap(r.spec)
        assertGolden(spec.canonicalText, "quick.resolved.tdx")
        // The resolved form is itself a valid spec with the same meaning.
        let again = try XCTUnwrap(checkText(spec.canonicalText).spec)
        XCTAssertEqual(again.canonicalText, spec.canonicalText)
    }

    func testHashIgnoresLayoutButNotMeaning() throws {
        let base = "tdx 1\ntask two_step { experiments = 10 }\nsae { epochs = 30 }\nagent q_learning {}\ncorrelate {}\n"
        let d0 = try XCTUnwrap(checkText(base).spec?.digest)
        let relaid = "// c\ntdx 1\n\ntask two_step {\n  experiments = 10  // ten\n}\nsae {epochs=30}\nagent q_learning { }\ncorrelate {}\n"
        XCTAssertEqual(checkText(relaid).spec?.digest, d0)
        XCTAssertEqual(checkText(base.replacingOccurrences(of: "sae { epochs = 30 }", with: "sae { epochs = 30 β = 1e-5 }")).spec?.digest, d0,
                       "stating a default explicitly does not change the experiment")
        XCTAssertEqual(checkText(base.replacingOccurrences(of: "agent q_learning {}", with: "agent q_learning { gamma = 0.99 }")).spec?.digest, d0,
                       "γ and gamma are one parameter")
        XCTAssertNotEqual(checkText(base.replacingOccurrences(of: "epochs = 30", with: "epochs = 15")).spec?.digest, d0)
        XCTAssertNotEqual(checkText(base.replacingOccurrences(of: "experiments = 10", with: "experiments = 11")).spec?.digest, d0)
        XCTAssertEqual(d0.count, 64)
        // An optional call argument equal to its default is the same experiment.
        let one = base + "intervene a { latent = top(td_error) }\n"
        XCTAssertEqual(checkText(one.replacingOccurrences(of: "top(td_error)", with: "top(td_error, 1)")).spec?.digest,
                       try XCTUnwrap(checkText(one).spec?.digest))
        XCTAssertNotEqual(checkText(one.replacingOccurrences(of: "top(td_error)", with: "top(td_error, 2)")).spec?.digest,
                          checkText(one).spec?.digest)
    }

    /// An elided parameter (added after specs existed) is absent from the resolved form at its default,
    /// written or not, so the digest is the one it had before the parameter existed; other values show.
    func testElidedParameterLeavesTheResolvedFormAtItsDefault() throws {
        let base = "tdx 1\ntask two_step {}\nagent q_learning {}\nsae {}\ncorrelate { with = [td_error] }\n"
        let spec = try XCTUnwrap(checkText(base).spec)
        let c = try XCTUnwrap(spec.block("correlate"))
        XCTAssertNil(c.param("partial"))
        XCTAssertEqual(c["partial"], .list([]), "readers see the default")
        XCTAssertFalse(spec.canonicalText.contains("partial"))
        let explicit = base.replacingOccurrences(of: "with = [td_error]", with: "with = [td_error]  partial = []")
        XCTAssertEqual(checkText(explicit).spec?.digest, spec.digest)
        let set = try XCTUnwrap(checkText(base.replacingOccurrences(of: "with = [td_error]", with: "with = [td_error]  partial = [reward]")).spec)
        XCTAssertNotEqual(set.digest, spec.digest)
        XCTAssertEqual(set.block("correlate")?.param("partial")?.value, .list([.symbol("reward")]))
        XCTAssertTrue(set.canonicalText.contains("partial = [reward]"), set.canonicalText)
    }

    /// `intervene.mode` is elided too: a closed-loop lesion written before it existed keeps its digest.
    func testInterveneModeIsElidedAtClosedLoop() throws {
        let base = "tdx 1\ntask two_step {}\nagent q_learning {}\nsae {}\ncorrelate { with = [td_error] }\nintervene lesion { experiments = 2 }\n"
        let spec = try XCTUnwrap(checkText(base).spec)
        XCTAssertEqual(spec.block("intervene")?["mode"], .symbol("closed_loop"))
        XCTAssertEqual(checkText(base.replacingOccurrences(of: "experiments = 2", with: "experiments = 2  mode = closed_loop")).spec?.digest,
                       spec.digest)
        let replay = try XCTUnwrap(checkText(base.replacingOccurrences(of: "experiments = 2", with: "experiments = 2  mode = replay")).spec)
        XCTAssertNotEqual(replay.digest, spec.digest)
        XCTAssertTrue(replay.canonicalText.contains("mode = replay"), replay.canonicalText)
        XCTAssertFalse(checkText(base.replacingOccurrences(of: "experiments = 2", with: "mode = replayed")).diagnostics.isEmpty)
    }

    /// An intervene block that names its variable once uses it for the layer, latent and control it leaves out.
    func testInterveneDefaultsFollowTheNamedVariable() throws {
        let r = checkText("""
            tdx 1
            task graph {}
            agent sr {}
            agent transition {}
            sae {}
            correlate { with = [sr_td_error, transition] }
            intervene a { latent = top(sr_td_error) }
            intervene b { layer = 1  latent = 2  control = none }
            intervene c { layer = 3  control = lowest(transition) }

            """)
        let spec = try XCTUnwrap(r.spec, "\(r.diagnostics)")
        func canon(_ block: String, _ key: String) -> String? {
            spec.blocks.first { $0.kind == "intervene" && $0.name == block }?.params.first { $0.name == key }?.value.canonical
        }
        XCTAssertEqual(canon("a", "layer"), "peak(sr_td_error)")
        XCTAssertEqual(canon("a", "control"), "lowest(sr_td_error)")
        XCTAssertEqual(canon("b", "layer"), "1")
        XCTAssertEqual(canon("b", "latent"), "2")
        XCTAssertEqual(canon("b", "control"), "none")
        XCTAssertEqual(canon("c", "latent"), "top(transition)")
        XCTAssertEqual(canon("c", "layer"), "3")
    }

    func testCanonicalFloats() {
        XCTAssertEqual(Value.canonicalFloat(1e-5), "1e-5")
        XCTAssertEqual(Value.canonicalFloat(0.99), "0.99")
        XCTAssertEqual(Value.canonicalFloat(30), "30.0")
        XCTAssertEqual(Value.canonicalFloat(-2.5e10), "-25000000000.0")
        for v in [1e-5, 0.1, 1.0 / 3.0, 123456.789, Double.leastNonzeroMagnitude, 1.7976931348623157e308] {
            XCTAssertEqual(Double(Value.canonicalFloat(v)), v)
        }
    }
}
