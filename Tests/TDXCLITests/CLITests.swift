import Foundation
import XCTest
import TDXCore
import TDXModels
import TDXNumerics
import TDXStore
import TDXEngine
@testable import TDXCLI

/// Runs the CLI in-process with captured output.
final class Captured: @unchecked Sendable {
    private let lock = NSLock()
    private var _out = "", _err = ""
    var out: String { lock.withLock { _out } }
    var err: String { lock.withLock { _err } }
    func io() -> CommandIO {
        CommandIO(out: { s in self.lock.withLock { self._out += s } }, err: { s in self.lock.withLock { self._err += s } })
    }
}

func tdx(_ args: String...) -> (Int32, String, String) { tdx(args) }

func tdx(_ args: [String]) -> (Int32, String, String) {
    let c = Captured()
    let code = TDXCLI.run(args, io: c.io())
    return (code, c.out, c.err)
}

enum Repo {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static func path(_ rel: String) -> String { root.appendingPathComponent(rel).path }
}

/// One directory per test process for the files tests write, removed when the process exits.
enum Scratch {
    static let root: URL = {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tdx-cli-\(getpid())")
        atexit { try? FileManager.default.removeItem(at: Scratch.root) }
        return dir
    }()
}

func tempSpec(_ text: String, name: String = "spec.tdx") throws -> String {
    let dir = Scratch.root.appendingPathComponent(UUID().uuidString)
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let p = dir.appendingPathComponent(name).path
    try text.write(toFile: p, atomically: true, encoding: .utf8)
    return p
}

final class CLITests: XCTestCase {
    func testHelpAndVersion() {
        let (c, out, _) = tdx("--help")
        XCTAssertEqual(c, 0)
        for cmd in ["check", "fmt", "hash", "plan", "run", "bench"] { XCTAssertTrue(out.contains("  \(cmd) "), cmd) }
        XCTAssertTrue(tdx("--version").1.hasPrefix("tdx \(TDXVersion.string)\nOpenBLAS core "))
        XCTAssertTrue(tdx("check", "--help").1.contains("Usage: tdx check"))
        XCTAssertTrue(tdx("help", "sae").1.contains("epochs"))
        // `model` is a command and a block: its help gives both; the topic list names it once.
        let (cm, model, _) = tdx("help", "model")
        XCTAssertEqual(cm, 0)
        XCTAssertTrue(model.contains("tdx model fetch") && model.contains("weights"), model)
        let (_, _, none) = tdx("help", "zzzzzzzz")
        XCTAssertEqual(none.components(separatedBy: "model").count - 1, 1, none)
    }

    func testCheckShippedSpecs() {
        let specs = ["quick", "two_step", "grid_world", "graph"].map { Repo.path("specs/\($0).tdx") }
        let (c, _, err) = tdx(["check"] + specs)
        XCTAssertEqual(c, 0, err)
    }


    func testBrokenSpecsExitOneWithMessages() throws {
        let typo = try tempSpec("tdx 1\ntask two_step { epsiodes = 3 }\n")
        var (c, _, err) = tdx("check", typo)
        XCTAssertEqual(c, 1)
        XCTAssertTrue(err.contains("spec.tdx:2:17: error: unknown key `epsiodes` in `task` block"), err)
        XCTAssertTrue(err.contains("did you mean `episodes`?"), err)
        XCTAssertFalse(err.contains("Fatal"), err)

        let alpha = try tempSpec("tdx 1\ntask two_step {}\nagent q_learning { α = 1.5 }\n")
        (c, _, err) = tdx("check", alpha)
        XCTAssertEqual(c, 1)
        XCTAssertTrue(err.contains("`α` = 1.5 is out of range: must be in [0, 1]"), err)

        let unclosed = try tempSpec("tdx 1\ntask two_step {}\nreport { title = \"oops }\n")
        (c, _, err) = tdx("check", unclosed)
        XCTAssertEqual(c, 1)
        XCTAssertTrue(err.contains("error: unterminated string"), err)

        let out: String
        (c, out, _) = tdx("check", "--json", typo)
        XCTAssertEqual(c, 1)
        XCTAssertTrue(out.contains("\"code\":\"E0301\""), out)
        XCTAssertNotNil(try JSONSerialization.jsonObject(with: Data(out.utf8)))

        // Every command that reads a spec exits 1 with its diagnostics, as `check` does; `plan --json` gives them as JSON.
        for command in ["plan", "run", "hash", "status"] {
            let (code, _, e) = tdx(command, typo)
            XCTAssertEqual(code, 1, command)
            XCTAssertTrue(e.contains("unknown key `epsiodes`"), e)
            XCTAssertFalse(e.contains("internal error"), e)
        }
        let (pc, planOut, _) = tdx("plan", "--json", typo)
        XCTAssertEqual(pc, 1)
        XCTAssertTrue(planOut.contains("\"code\":\"E0301\""), planOut)
    }

    func testMissingFileIsAUserError() throws {
        let (c, _, err) = tdx("check", "/nonexistent/x.tdx")
        XCTAssertEqual(c, 1)
        XCTAssertTrue(err.contains("cannot read \"/nonexistent/x.tdx\": no such file"), err)
        XCTAssertTrue(err.contains("name a .tdx spec file"), err)
        let dir = FileManager.default.temporaryDirectory.path
        let (cd, _, errDir) = tdx("check", dir)
        XCTAssertEqual(cd, 1)
        XCTAssertTrue(errDir.hasPrefix("\(dir): error: cannot read \"\(dir)\": it is a directory\n  = help:"), errDir)
        // A model block that names no model is a spec error, not a crash at plan time.
        let empty = try? tempSpec("tdx 1\nmodel llm { weights = \"\" }\ntask two_step {}\n")
        let (ce, _, errEmpty) = tdx("plan", empty ?? "")
        XCTAssertEqual(ce, 1)
        XCTAssertTrue(errEmpty.contains("`weights`") && errEmpty.contains("names no model"), errEmpty)
        // A bare name that is no built-in model is a spec error with the nearest name, not a missing file at plan time.
        let typo = try tempSpec("tdx 1\nmodel llm { weights = \"smolm2-135m\" }\ntask two_step {}\n")
        let (ct, _, errTypo) = tdx("check", typo)
        XCTAssertEqual(ct, 1)
        XCTAssertTrue(errTypo.contains("`smolm2-135m` is not a built-in model") && errTypo.contains("did you mean `smollm2-135m`?"), errTypo)
    }

    func testUnknownCommandAndOption() {
        var (c, _, err) = tdx("chek")
        XCTAssertEqual(c, 1)
        XCTAssertTrue(err.contains("did you mean `tdx check`?"), err)
        (c, _, err) = tdx("check", "--jsn", "x.tdx")
        XCTAssertEqual(c, 1)
        XCTAssertTrue(err.contains("did you mean `--json`?"), err)
    }

    func testResolvedHashAndFmtRoundTrip() throws {
        let p = try tempSpec("tdx 1\ntask two_step {experiments=3}  // c\nagent q_learning { γ = 0.5 }\n")
        let (c1, resolved, _) = tdx("check", "--resolved", p)
        XCTAssertEqual(c1, 0)
        XCTAssertTrue(resolved.contains("  gamma = 0.5\n"), resolved)
        XCTAssertTrue(resolved.contains("  episodes = 30\n"), resolved)
        let h1 = tdx("hash", p).1
        XCTAssertEqual(h1.count, 65)
        XCTAssertEqual(tdx("fmt", "--check", p).0, 1)
        XCTAssertEqual(tdx("fmt", "--write", p).0, 0)
        XCTAssertEqual(tdx("fmt", "--check", p).0, 0)
        XCTAssertEqual(tdx("hash", p).1, h1)
        XCTAssertTrue(try String(contentsOfFile: p, encoding: .utf8).contains("// c"))

        // Through a link, `--write` rewrites the file it names and keeps its permissions; the link stays a link.
        let target = try tempSpec("tdx 1\ntask two_step {experiments=3}\n")
        let fm = FileManager.default
        try fm.setAttributes([.posixPermissions: 0o600], ofItemAtPath: target)
        let link = URL(fileURLWithPath: target).deletingLastPathComponent().appendingPathComponent("link.tdx").path
        try fm.createSymbolicLink(atPath: link, withDestinationPath: target)
        XCTAssertEqual(tdx("fmt", "--write", link).0, 0)
        XCTAssertEqual(try fm.destinationOfSymbolicLink(atPath: link), target)
        XCTAssertEqual(tdx("fmt", "--check", target).0, 0)
        XCTAssertEqual((try fm.attributesOfItem(atPath: target)[.posixPermissions] as? NSNumber)?.intValue, 0o600)
    }

    func testPlanJSONOnAFreshCache() throws {
        let p = try tempSpec("tdx 1\ntask two_step { experiments = 2 }\nagent q_learning {}\nfit behaviour {}\n")
        let (c, out, err) = tdx("plan", "--json", p)
        XCTAssertEqual(c, 0, err)
        let obj = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(out.utf8)) as? [String: Any])
        let stages = try XCTUnwrap(obj["stages"] as? [[String: Any]])
        XCTAssertEqual(stages.map { $0["id"] as? String }, ["model", "rollout", "behaviour", "rl_variables", "report"])
        XCTAssertTrue(stages.allSatisfy { $0["status"] as? String == "run" && $0["reason"] as? String == "new" })
        XCTAssertEqual((obj["summary"] as? [String: Int])?["cached"], 0)
    }

    func testBenchParseRuns() {
        let (c, out, _) = tdx("bench", "parse", "--lines", "200", "--json")
        XCTAssertEqual(c, 0)
        XCTAssertTrue(out.contains("\"milliseconds\":"), out)
        XCTAssertTrue(out.contains("\"diagnostics\":0"), out)
    }

    /// A spec the simulated agent plays (no model), run once into a fresh cache: the spec, its directory, the cache.
    private func ranSimulatedSpec(_ more: String = "") throws -> (spec: String, dir: String, cache: String) {
        let spec = try tempSpec("""
            tdx 1
            task two_step { experiments = 2  episodes = 6  random_episodes = 2  policy = agent(sim) }
            agent sim { kind = q_learning  β = 5 }
            \(more)

            """)
        let dir = URL(fileURLWithPath: spec).deletingLastPathComponent().path
        let cache = dir + "/c.sqlite"
        XCTAssertEqual(tdx("run", spec, "--cache", cache, "--results", dir + "/results").0, 0)
        return (spec, dir, cache)
    }

    /// Commands that only read or prune a cache do not create one where there is none.
    func testReadingCommandsNeedACache() throws {
        let spec = try tempSpec("tdx 1\ntask two_step {}\n")
        let missing = URL(fileURLWithPath: spec).deletingLastPathComponent().appendingPathComponent("no/such/c.sqlite").path
        for args in [["log"], ["show", "abc"], ["verify"], ["gc", "--older-than", "2026-01-01"]] {
            let (c, _, err) = tdx(args + ["--cache", missing])
            XCTAssertEqual(c, 1, "\(args)")
            XCTAssertTrue(err.contains("there is no cache at \(missing)"), err)
        }
        XCTAssertFalse(FileManager.default.fileExists(atPath: missing))
        let (e, _, eErr) = tdx("export", spec, "--stage", "behaviour", "--to", "out", "--cache", missing)
        XCTAssertEqual(e, 1)
        XCTAssertTrue(eErr.contains("there is no cache at \(missing)"), eErr)
        // plan and status say what a first run would do, without creating the cache.
        let (p, plan, _) = tdx("plan", spec, "--json", "--cache", missing)
        XCTAssertEqual(p, 0)
        XCTAssertTrue(plan.contains("\"cached\":0"), plan)
        let (st, status, _) = tdx("status", spec, "--cache", missing)
        XCTAssertEqual(st, 0)
        XCTAssertTrue(status.contains("cache \(missing) (none yet)\n0 of "), status)
        XCTAssertFalse(FileManager.default.fileExists(atPath: missing))
        XCTAssertFalse(FileManager.default.fileExists(atPath: URL(fileURLWithPath: missing).deletingLastPathComponent().path))
    }

    /// `tdx log --run N` and `tdx show` say which machine computed a result (CPU, OpenBLAS kernels, tdx version).
    func testLogAndShowNameTheMachine() throws {
        let (spec, _, cache) = try ranSimulatedSpec()
        let (c1, log, err1) = tdx("log", "--run", "1", "--cache", cache)
        XCTAssertEqual(c1, 0, err1)
        XCTAssertTrue(log.contains("\n  on \(Machine.current)\n"), log)
        let (c2, show, err2) = tdx("show", "rollout", "--spec", spec, "--cache", cache)
        XCTAssertEqual(c2, 0, err2)
        XCTAssertTrue(show.contains("history   run 1  ok  new  on \(Machine.current)\n"), show)
    }

    /// `tdx gc SPEC` keeps the saved progress of that spec's stages, drops other leftovers, and refuses to
    /// touch a cache a run is still using.
    func testGCKeepsTheSpecsSavedProgressAndWaitsForRuns() throws {
        let (spec, _, cache) = try ranSimulatedSpec()
        let (_, planText, _) = tdx("plan", "--json", spec, "--cache", cache)
        let plan = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(planText.utf8)) as? [String: Any])
        let rollout = try XCTUnwrap((plan["stages"] as? [[String: Any]])?.first { $0["id"] as? String == "rollout" }?["key"] as? String)
        let store = try Store(path: cache)
        let mine = StageContext.partialPrefix(stageKey: rollout) + "batch", stray = StageContext.partialPrefix(stageKey: "gone") + "batch"
        for key in [mine, stray] { try store.writeArtifact(ArtifactMeta(key: key, kind: "partial")) { try $0.putFloats("x", [1]) } }
        let (c, out, err) = tdx("gc", spec, "--cache", cache)
        XCTAssertEqual(c, 0, err)
        XCTAssertTrue(try store.hasArtifact(mine), out)
        XCTAssertFalse(try store.hasArtifact(stray), out)

        let run = try store.beginRun(command: "run", spec: spec)   // this process: alive
        let (busy, _, busyErr) = tdx("gc", spec, "--cache", cache)
        XCTAssertEqual(busy, 1)
        XCTAssertTrue(busyErr.contains("run \(run) (pid \(getpid())"), busyErr)
        try store.finishRun(run, status: .ok)
        XCTAssertEqual(tdx("gc", spec, "--cache", cache).0, 0)
    }

    /// `--results` never deletes what tdx did not write: a file in its place, or a file a user added to a report.
    func testResultsKeepWhatTheUserWrote() throws {
        let (spec, dir, cache) = try ranSimulatedSpec("fit behaviour { models = [q_learning] }\nreport {}")
        let results = dir + "/results", file = dir + "/notes.md"
        try Data("mine".utf8).write(to: URL(fileURLWithPath: file))
        let (c1, _, e1) = tdx("run", spec, "--cache", cache, "--results", file)
        XCTAssertEqual(c1, 1)
        XCTAssertTrue(e1.contains("is a file, not a report directory"), e1)
        XCTAssertEqual(try String(contentsOfFile: file, encoding: .utf8), "mine")

        XCTAssertEqual(tdx("run", spec, "--cache", cache, "--results", results).0, 0, "its own report is replaced")
        try Data("analysis".utf8).write(to: URL(fileURLWithPath: results + "/my_analysis.txt"))
        let (c2, _, e2) = tdx("run", spec, "--cache", cache, "--results", results)
        XCTAssertEqual(c2, 1)
        XCTAssertTrue(e2.contains("holds files tdx did not write: my_analysis.txt"), e2)
        XCTAssertTrue(FileManager.default.fileExists(atPath: results + "/my_analysis.txt"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: results + "/report.md"))
    }

    /// A sweep writes its comparison at the top of the results directory and each variant's report in a
    /// sub-directory; a directory of variant reports written before the comparison existed is replaced.
    func testSweepResultsLayout() throws {
        let spec = try tempSpec("""
            tdx 1
            seed in [1, 2]
            task two_step { experiments = 2  episodes = 6  random_episodes = 2  policy = agent(sim) }
            agent sim { kind = q_learning  β = 5 }
            fit behaviour { models = [q_learning, repetition] }
            report {}

            """)
        let dir = URL(fileURLWithPath: spec).deletingLastPathComponent()
        let cache = dir.appendingPathComponent("c.sqlite").path, results = dir.appendingPathComponent("results").path
        for sub in ["seed=1", "seed=3"] {   // what an earlier tdx left: marked variant directories only
            try FileManager.default.createDirectory(atPath: results + "/" + sub, withIntermediateDirectories: true)
            try Data().write(to: URL(fileURLWithPath: results + "/" + sub + "/" + Results.marker))
        }
        let (code, _, err) = tdx("run", spec, "--cache", cache, "--results", results)
        XCTAssertEqual(code, 0, err)
        let top = try FileManager.default.contentsOfDirectory(atPath: results)
        XCTAssertEqual(Set(top), [Results.marker, "report.md", "behaviour.svg", "returns.csv", "model_comparison.csv",
                                  "nll_differences.csv", "seed=1", "seed=2"])
        for sub in ["seed=1", "seed=2"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(results)/\(sub)/report.md"), sub)
        }
        // A directory that holds something else is left alone.
        try Data("mine".utf8).write(to: URL(fileURLWithPath: results + "/notes.txt"))
        try FileManager.default.removeItem(atPath: results + "/" + Results.marker)
        let (again, _, err2) = tdx("run", spec, "--cache", cache, "--results", results)
        XCTAssertEqual(again, 1)
        XCTAssertTrue(err2.contains("is not a tdx report directory"), err2)
        // Nor is a directory of other specs' reports (marked, but not named like variants) replaced.
        let others = dir.appendingPathComponent("others").path
        for sub in ["quick", "graph"] {
            try FileManager.default.createDirectory(atPath: others + "/" + sub, withIntermediateDirectories: true)
            try Data().write(to: URL(fileURLWithPath: others + "/" + sub + "/" + Results.marker))
        }
        let (third, _, err3) = tdx("run", spec, "--cache", cache, "--results", others)
        XCTAssertEqual(third, 1)
        XCTAssertTrue(err3.contains("is not a tdx report directory"), err3)
        XCTAssertTrue(FileManager.default.fileExists(atPath: others + "/quick/" + Results.marker))
    }

    /// Node names a spec gives must differ in their first token (predictions are scored by it): a clash
    /// stops the rollout with a message naming both, and nothing is cached for it.
    func testGraphNamesSharingAFirstTokenAreRefused() throws {
        guard (try? ModelStore(environment: ProcessInfo.processInfo.environment).resolve("smollm2-135m")) != nil else {
            throw XCTSkip("the default model is not fetched (scripts/test.sh runs `tdx model fetch` first)")
        }
        let names = ["red apple", "red car"] + ["dog", "cat", "house", "tree", "boat", "chair", "lamp", "river", "stone", "bread",
                                                 "horse", "window", "piano"]
        let spec = try tempSpec("tdx 1\ntask graph { experiments = 1  walk_length = 12  names = [\(names.map { "\"\($0)\"" }.joined(separator: ", "))] }\n")
        let cache = URL(fileURLWithPath: spec).deletingLastPathComponent().appendingPathComponent("c.sqlite").path
        let results = URL(fileURLWithPath: spec).deletingLastPathComponent().appendingPathComponent("results").path
        let (code, _, err) = tdx("run", spec, "--cache", cache, "--results", results)
        XCTAssertEqual(code, 1, err)
        XCTAssertTrue(err.contains("start with the same token") && err.contains("\" red apple\"") && err.contains("\" red car\""), err)
        let (_, plan, _) = tdx("plan", spec, "--cache", cache)
        XCTAssertTrue(plan.contains("rollout") && !plan.contains("Plan: 0 to run"), plan)
    }
}
