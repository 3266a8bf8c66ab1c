import XCTest
@testable import TDXLang

/// Each case marks the exact span and code of every expected diagnostic with `«…»CODE`.
final class DiagnosticsTests: XCTestCase {
    let header = "tdx 1\n"

    func testValidSpecHasNoDiagnostics() {
        assertMarkedDiagnostics(header + "task two_step { experiments = 3 }\n")
    }

    func testUnknownKeysTypesAndRanges() {
        assertMarkedDiagnostics(header + """
        task two_step {
          «epsiodes»E0301 = 30
          experiments = «"ten"»E0310
          random_episodes = «-1»E0311
        }
        agent q_learning { α = «1.5»E0311  γ = 0.9 }
        sae { «epoch»E0301 = 30  epochs = «0»E0311 }
        correlate { with = [td_error] }

        """)
    }

    func testNearMissSuggestions() {
        let r = checkText(header + "task two_step { epsiodes = 3 transitions = comon(0.7) }\nsea {}\n")
        let helps = r.diagnostics.compactMap(\.help)
        XCTAssertTrue(helps.contains("did you mean `episodes`?"))
        XCTAssertTrue(helps.contains("did you mean `common`?"))
        XCTAssertTrue(helps.contains("did you mean `sae`?"))
    }

    func testSyntaxErrorsAreAllReported() {
        assertMarkedDiagnostics(header + """
        task two_step {
          experiments = 3
          episodes «=»E0100 
        }
        sae «{»E0101
          epochs = 3
        report «{»E0101 title = «"unclosed }»E0001

        """ + "\n")
    }

    func testUnclosedBlockBeforeNextBlock() {
        assertMarkedDiagnostics(header + """
        task two_step «{»E0101
          experiments = 3
        sae {
          epochs = 3
        }

        """)
    }

    func testDuplicatesAndReferences() {
        assertMarkedDiagnostics(header + """
        task two_step { experiments = 3  «experiments»E0304 = 4 }
        agent q_learning {}
        agent «q_learning»E0305 { α = 0.2 }
        «task»E0306 graph {}

        """)
    }

    func testUndefinedAgentReference() {
        assertMarkedDiagnostics(header + """
        task two_step { policy = agent(«simm»E0203) }
        agent sim { kind = q_learning }

        """)
    }

    func testCrossChecks() {
        assertMarkedDiagnostics(header + """
        task two_step { episodes = 5  random_episodes = «7»E0311 }
        agent sr { kind = «sr»E0318 }
        activations { layers = «0..40»E0317 }

        """)
        assertMarkedDiagnostics(header + """
        task two_step { transitions = common(«1.0»E0311) }

        """)
        assertMarkedDiagnostics(header + """
        task graph { graph = «edges([[0, 1], [1, 2], [3, 4], [4, 0], [0, 6]])»E0318 }

        """)
        assertMarkedDiagnostics(header + """
        task graph { names = «["a", "b", "c"]»E0318 }

        """)
    }

    func testReadoutAgentFitsEveryTaskButCannotAct() {
        assertMarkedDiagnostics(header + "task graph {}\nagent readout {}\nsae {}\ncorrelate { with = [model_surprise] }\n")
        assertMarkedDiagnostics(header + "task two_step { policy = «agent(me)»E0318 }\nagent me { kind = readout }\n")
        assertMarkedDiagnostics(header + "task grid_world { generator = «me»E0318 }\nagent me { kind = readout }\n")
    }

    func testPartialNeedsAProvidedVariable() {
        let base = header + "task graph {}\nagent sr {}\nsae {}\n"
        assertMarkedDiagnostics(base + "correlate { with = [sr_td_error]  partial = «[reward]»E0318 }\n")
        assertMarkedDiagnostics(base + "agent transition {}\ncorrelate { with = [sr_td_error]  partial = [surprise] }\n")
    }

    func testFitNeedsATaskTheModelPlays() {
        assertMarkedDiagnostics(header + "task grid_world {}\nagent q_learning {}\n«fit {}»E0318\n")
        assertMarkedDiagnostics(header + "task two_step {}\nagent q_learning {}\nfit {}\n")
    }

    func testInterveneLatentCounts() {
        let base = header + "task grid_world {}\nagent q_learning {}\nsae {}\ncorrelate { with = [td_error] }\n"
        assertMarkedDiagnostics(base + "intervene a { layer = all  latent = top(td_error, 4) }\nintervene b { layer = 10..29  latent = top(td_error) }\n")
        assertMarkedDiagnostics(base + "intervene a { layer = all  latent = top(td_error, «0»E0311) }\n")
        assertMarkedDiagnostics(base + "intervene a { latent = «top(td_error, 2, 3)»E0313 }\n")
        assertMarkedDiagnostics(base + "intervene a { layer = [3, 4]  latent = «7»E0318 }\n")
        assertMarkedDiagnostics(base + "intervene a { layer = [3]  latent = 7 }\n")
        assertMarkedDiagnostics(base + "intervene a { layer = «20..40»E0317  latent = top(td_error, 2) }\n")
        let r = checkText(base + "intervene a { latent = top(td_error, 2, 3) }\n")
        XCTAssertEqual(r.diagnostics.first?.message, "`top(…)` takes 1 or 2 arguments, found 3")
        // `above(variable, r)`: an |r| in [0, 1], over one block or several, with a correlated variable.
        assertMarkedDiagnostics(base + "intervene a { layer = all  latent = above(td_error, 0.75) }\nintervene b { latent = above(td_error, 1) }\n")
        assertMarkedDiagnostics(base + "intervene a { layer = all  latent = above(td_error, «1.5»E0311) }\n")
        assertMarkedDiagnostics(base + "intervene a { layer = all  latent = «above(td_error)»E0313 }\n")
        assertMarkedDiagnostics(base + "intervene a { layer = all  latent = «above(q_value, 0.5)»E0318  control = none }\n")
    }

    func testKeyForOtherKind() {
        assertMarkedDiagnostics(header + "task graph { «transitions»E0302 = deterministic }\n")
    }

    func testMissingTaskAndNeeds() {
        let r = checkText(header + "sae {}\n")
        XCTAssertTrue(r.diagnostics.contains { $0.code == "E0307" })
    }

    func testSweepsAndLets() {
        let r = checkText(header + "let n = 12\ntask two_step { experiments = n }\nsae { β in [1e-5, 1e-4] }\n")
        XCTAssertFalse(r.hasErrors, DiagnosticRenderer(sources: r.sources).render(r.diagnostics))
        XCTAssertEqual(r.spec?.task?["experiments"], .int(12))
        XCTAssertEqual(r.spec?.block("sae")?.param("beta")?.sweep, [.float(1e-5), .float(1e-4)])
        assertMarkedDiagnostics(header + "task two_step {}\nsae { β in «[]»E0315 }\nmodel m { «sha256»E0314 in [\"a\"] }\n")
        assertMarkedDiagnostics(header + "task two_step {}\nagent a { «kind»E0314 in [q_learning, myopic] }\n")
    }

    func testImportsInlineAndCyclesAreErrors() {
        let r = checkText("tdx 1\nimport \"common.tdx\"\ntask two_step { experiments = n }\n",
                          files: ["common.tdx": "let n = 5\nagent q_learning { α = 0.3 }\n"])
        XCTAssertFalse(r.hasErrors, DiagnosticRenderer(sources: r.sources).render(r.diagnostics))
        XCTAssertEqual(r.spec?.block("agent")?["alpha"], .float(0.3))
        XCTAssertEqual(r.spec?.task?["experiments"], .int(5))
        let cyc = checkText("tdx 1\nimport \"a.tdx\"\ntask two_step {}\n", path: "main.tdx",
                            files: ["a.tdx": "import \"b.tdx\"\n", "b.tdx": "import \"a.tdx\"\n"])
        XCTAssertEqual(cyc.diagnostics.map(\.code), ["E0201"])
        let missing = checkText("tdx 1\nimport \"nope.tdx\"\ntask two_step {}\n")
        XCTAssertEqual(missing.diagnostics.map(\.code), ["E0200"])
    }

    /// A misspelt task kind is one error where it is written, not also "a spec needs a task block"; a missing
    /// block is named with its article.
    func testMisspeltTaskKindIsOneError() {
        let r = checkText("tdx 1\ntask two_stp { experiments = 4 }\nagent q_learning {}\n")
        XCTAssertEqual(r.diagnostics.count, 1, r.diagnostics.map(\.message).joined(separator: "; "))
        XCTAssertFalse(r.diagnostics.contains { $0.message.contains("needs") })
        // The body is still checked, as the kind it was probably meant to be: its other errors show in the same run.
        let body = checkText("tdx 1\ntask two_stp {\n  experiments = -3\n  epsiodes = 3\n}\nagent q_learning {}\n")
        let said = { (r: CheckResult) in r.diagnostics.map(\.message).joined(separator: "; ") }
        XCTAssertEqual(body.diagnostics.count, 3, said(body))
        for (d, word) in zip(body.diagnostics, ["two_stp", "experiments", "epsiodes"]) { XCTAssertTrue(d.message.contains(word), said(body)) }
        let entry = checkText("tdx 1\ntask t {\n  kind = two_stp\n  epsiodes = 3\n}\n")
        XCTAssertEqual(entry.diagnostics.count, 2, said(entry))
        for (d, word) in zip(entry.diagnostics, ["two_stp", "epsiodes"]) { XCTAssertTrue(d.message.contains(word), said(entry)) }
        let none = checkText("tdx 1\nagent q_learning {}\n")
        XCTAssertEqual(none.diagnostics.map(\.message), ["a spec needs a `task` block"])
        let noAgent = checkText("tdx 1\ntask two_step {}\nactivations { layers = [1] }\nsae {}\ncorrelate {}\n")
        XCTAssertTrue(noAgent.diagnostics.contains { $0.message == "`correlate` needs an `agent` block" },
                      noAgent.diagnostics.map(\.message).joined(separator: "; "))
    }

    func testRenderedFormHasLineCaretAndHelp() {
        let r = checkText("tdx 1\ntask two_step {\n  epsiodes = 30\n}\n", path: "spec.tdx")
        let text = DiagnosticRenderer(sources: r.sources).render(r.diagnostics)
        XCTAssertTrue(text.contains("spec.tdx:3:3: error: unknown key `epsiodes` in `task` block"), text)
        XCTAssertTrue(text.contains("3 |   epsiodes = 30\n  |   ^^^^^^^^\n"), text)
        XCTAssertTrue(text.contains("= help: did you mean `episodes`?"), text)
        let json = DiagnosticRenderer(sources: r.sources).json(r.diagnostics)
        XCTAssertTrue(json.hasPrefix("{\"diagnostics\":[{\"file\":\"spec.tdx\",\"line\":3,\"column\":3,"), json)
    }
}
