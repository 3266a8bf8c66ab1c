import Foundation
import XCTest
import TDXCore
@testable import TDXEngine
import TDXLang
@testable import TDXPlan
import TDXStore

final class ExecutorTests: XCTestCase {
    func testRunThenEverythingCachedAndDeterministic() throws {
        let sb = try Sandbox()
        let path = try sb.write(baseSpec)
        let (plan, summary) = try planAndRun(path, cache: sb.cache)
        XCTAssertEqual(summary?.computed.count, plan.graph.stages.count)
        let (again, s2) = try planAndRun(path, cache: sb.cache)
        XCTAssertEqual(again.toRun.count, 0)
        XCTAssertEqual(s2?.computed.count, 0)
        // A fresh cache gives bit-identical outputs.
        let other = try Sandbox()
        let p2 = try other.write(baseSpec)
        try planAndRun(p2, cache: other.cache)
        XCTAssertEqual(try values(plan, cache: sb.cache), try values(plan, cache: other.cache))
        let runs = try Store(path: sb.cache).runs()
        XCTAssertEqual(runs.map(\.status), [.ok, .ok])
    }

    /// `--force` computes a cached stage again and stores the result over the old one (same key, same
    /// value for a deterministic stage; the blobs stay consistent for `verify`).
    func testForcedStageIsComputedAgain() throws {
        let sb = try Sandbox()
        let path = try sb.write(baseSpec)
        let (plan, _) = try planAndRun(path, cache: sb.cache)
        let before = try values(plan, cache: sb.cache)
        let created = try XCTUnwrap(try Store(path: sb.cache).artifact(plan.graph[id: "sae[5]"]!.key)?.created)
        Thread.sleep(forTimeInterval: 0.01)
        let (forced, summary) = try planAndRun(path, cache: sb.cache, options: Plan.Options(force: ["sae[5]"]))
        // Its dependants too: their keys would not notice a different output.
        let expected = plan.graph.descendants(of: "sae[5]")
        XCTAssertEqual(Set(forced.toRun.map(\.stage.id)), expected)
        XCTAssertTrue(forced.toRun.allSatisfy(\.forced))
        XCTAssertEqual(Set(summary?.computed ?? []), expected)
        let store = try Store(path: sb.cache)
        XCTAssertGreaterThan(try XCTUnwrap(try store.artifact(plan.graph[id: "sae[5]"]!.key)?.created), created)
        XCTAssertEqual(try values(plan, cache: sb.cache), before)
        XCTAssertTrue(try store.verify(evict: false).corrupt.isEmpty)
    }

    func testFlippedByteIsCaughtByVerifyAndRecomputed() throws {
        let sb = try Sandbox()
        let path = try sb.write(baseSpec)
        let (plan, _) = try planAndRun(path, cache: sb.cache)
        let before = try values(plan, cache: sb.cache)
        // Flip one byte of one chunk behind the store's back.
        let db = try Database(path: sb.cache)
        let n = try db.scalar("SELECT count(*) FROM chunk")
        XCTAssertGreaterThan(n, 0)
        try db.run("UPDATE chunk SET data = CAST(X'00' || substr(data, 2) AS BLOB) WHERE rowid = (SELECT min(rowid) FROM chunk)")
        let report = try Store(path: sb.cache).verify(evict: true)
        XCTAssertFalse(report.corrupt.isEmpty, "verify must catch the flipped byte")
        let (again, s) = try planAndRun(path, cache: sb.cache)
        XCTAssertGreaterThan(again.toRun.count, 0)
        XCTAssertGreaterThan(s?.computed.count ?? 0, 0)
        XCTAssertEqual(try values(plan, cache: sb.cache), before)
        XCTAssertTrue(try Store(path: sb.cache).verify(evict: false).isClean)
    }

    func testFailingStageCachesNothingAndKeepsTheRest() throws {
        struct Boom: StageBody {
            let kind = StageKind.sae
            let codeVersion = 1
            func run(_ group: [StageContext]) throws -> [StageOutput] { throw UsageError("boom") }
        }
        let sb = try Sandbox()
        let path = try sb.write(baseSpec)
        let spec = try XCTUnwrap(Frontend.check(path: path).spec)
        var reg = TestStage.registry()
        reg.bodies[.sae] = Boom()
        let engine = Engine(registry: reg)
        let plan = try engine.plan(spec, specPath: path, store: try Store(path: sb.cache))
        XCTAssertThrowsError(try engine.run(plan, spec: spec, specPath: path, storePath: sb.cache, options: Executor.Options(jobs: 1), io: quietIO)) { e in
            XCTAssertTrue("\(e)".contains("boom"), "\(e)")
        }
        let store = try Store(path: sb.cache)
        XCTAssertFalse(try store.hasArtifact(plan.graph[id: "sae[1]"]!.key))
        XCTAssertTrue(try store.hasArtifact(plan.graph[id: "rollout"]!.key))
        XCTAssertEqual(try store.runs().first?.status, .failed)
        XCTAssertTrue(try store.lockHolders().isEmpty, "locks are released on failure")
    }

    func testInterruptStopsCleanly() throws {
        let sb = try Sandbox()
        let path = try sb.write(baseSpec)
        let spec = try XCTUnwrap(Frontend.check(path: path).spec)
        let engine = Engine(registry: TestStage.registry(milliseconds: 30))
        let plan = try engine.plan(spec, specPath: path, store: try Store(path: sb.cache))
        let start = Date()
        let ex = Executor(storePath: sb.cache, registry: engine.registry, options: Executor.Options(jobs: 1), io: quietIO,
                          cancelled: { Date().timeIntervalSince(start) > 0.1 })
        XCTAssertThrowsError(try ex.run(plan: plan, spec: spec, specPath: path)) { XCTAssertEqual($0 as? ExecutorError, .interrupted) }
        let store = try Store(path: sb.cache)
        XCTAssertEqual(try store.runs().first?.status, .interrupted)
        let cached = try store.cachedKeys(among: plan.graph.stages.map(\.key))
        XCTAssertGreaterThan(cached.count, 0)
        XCTAssertLessThan(cached.count, plan.graph.stages.count)
        XCTAssertTrue(try store.lockHolders().isEmpty)
        let (resumed, _) = try planAndRun(path, cache: sb.cache)
        XCTAssertEqual(resumed.cachedCount, cached.count, "the resumed run reuses what finished")
    }

    /// SIGKILLs a child `tdx run` at 20 random moments: nothing corrupt, nothing partial, and the
    /// resumed run ends with the same results as an uninterrupted one.
    func testSIGKILLAtRandomMomentsThenResume() throws {
        let reference = try Sandbox()
        let refPath = try reference.write(baseSpec)
        let (plan, _) = try planAndRun(refPath, cache: reference.cache)
        let expected = try values(plan, cache: reference.cache)
        let byKey = Dictionary(uniqueKeysWithValues: plan.graph.stages.map { ($0.key, expected[$0.id]!) })

        let sb = try Sandbox()
        let path = try sb.write(baseSpec)
        var rng = SeededRNG(seed: 99)
        for _ in 0..<20 {
            let p = try spawnTDX(["run", path, "--cache", sb.cache, "--jobs", "2", "--results", sb.results],
                                 env: ["TDX_TEST_STAGES": "1", "TDX_TEST_STAGE_MS": "15"])
            usleep(UInt32(rng.int(below: 250_000)))
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
            let store = try Store(path: sb.cache)
            XCTAssertTrue(try store.verify(evict: false).isClean)
            for a in try store.artifacts() {
                XCTAssertEqual(try store.readString(key: a.key, blob: "value"), byKey[a.key], "a cached result differs from the uninterrupted run")
            }
        }
        let p = try spawnTDX(["run", path, "--cache", sb.cache, "--results", sb.results], env: ["TDX_TEST_STAGES": "1"])
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0)
        XCTAssertEqual(try values(plan, cache: sb.cache), expected)
    }

    /// Two `tdx run`s on one cache: every stage is computed exactly once.
    func testTwoConcurrentRunsComputeEachStageOnce() throws {
        let sb = try Sandbox()
        let path = try sb.write(baseSpec)
        let env = ["TDX_TEST_STAGES": "1", "TDX_TEST_STAGE_MS": "40"]
        let a = try spawnTDX(["run", path, "--cache", sb.cache, "--jobs", "2", "--results", sb.results], env: env)
        let b = try spawnTDX(["run", path, "--cache", sb.cache, "--jobs", "2", "--results", sb.results], env: env)
        a.waitUntilExit(); b.waitUntilExit()
        XCTAssertEqual(a.terminationStatus, 0)
        XCTAssertEqual(b.terminationStatus, 0)
        let store = try Store(path: sb.cache)
        var computed: [String: Int] = [:]
        for run in try store.runs() { for r in try store.stageRecords(run: run.id) where r.status == .ok { computed[r.stage, default: 0] += 1 } }
        let (plan, _) = try planAndRun(path, cache: sb.cache, run: false)
        XCTAssertEqual(plan.toRun.count, 0)
        XCTAssertEqual(computed.count, plan.graph.stages.count)
        XCTAssertTrue(computed.values.allSatisfy { $0 == 1 }, "\(computed.filter { $0.value != 1 })")
    }
}

extension ExecutorTests {
    /// The members of a group computed in one pass (`activations[L]`) log their share of it, so `tdx log`
    /// adds up to the time the group took (each used to span from the group's start).
    func testGroupMembersLogTheirShareOfThePass() throws {
        let sb = try Sandbox()
        let path = try sb.write(baseSpec)
        let r = Frontend.check(path: path)
        let spec = try XCTUnwrap(r.spec)
        let engine = Engine(registry: TestStage.registry(milliseconds: 60))
        let plan = try engine.plan(spec, specPath: path, store: try Store(path: sb.cache), options: Plan.Options(until: ["activations[1]", "activations[5]", "activations[9]"]))
        _ = try engine.run(plan, spec: spec, specPath: path, storePath: sb.cache, options: Executor.Options(jobs: 1), io: quietIO)
        let store = try Store(path: sb.cache)
        let run = try XCTUnwrap(try store.runs().first)
        let members = try store.stageRecords(run: run.id).filter { $0.stage.hasPrefix("activations[") }
        XCTAssertEqual(members.count, 3)
        let start = try XCTUnwrap(members.compactMap(\.started).min()), end = try XCTUnwrap(members.compactMap(\.finished).max())
        let total = members.compactMap(\.seconds).reduce(0, +)
        // The group slept 3 × 60 ms in one pass: the members' times add up to its span, each about a third.
        XCTAssertEqual(total, end.timeIntervalSince(start), accuracy: 0.001)
        XCTAssertGreaterThanOrEqual(total, 0.18)
        for m in members { XCTAssertGreaterThanOrEqual(try XCTUnwrap(m.seconds), 0.06) }
    }
}

final class SchedulerTests: XCTestCase {
    /// A group (`activations[L]`) is batched only within one variant: its members read the first's rollout
    /// and model, so the 2-seed layers ready at the same time come out as two batches.
    func testGroupsDoNotMixVariants() {
        func stage(_ id: String, _ inputs: [String]) -> Stage {
            Stage(id: id, kind: .activations, layer: nil, name: nil, params: [:], inputs: inputs, codeVersion: 1, group: "activations")
        }
        let one = ["model", "rollout{seed=1}"], two = ["model", "rollout{seed=2}"]
        let scheduler = Scheduler(stages: [stage("activations[0]{seed=1}", one), stage("activations[0]{seed=2}", two),
                                           stage("activations[1]{seed=1}", one), stage("activations[1]{seed=2}", two)],
                                  done: ["model", "rollout{seed=1}", "rollout{seed=2}"], cancelled: { false })
        XCTAssertEqual(scheduler.next()?.map(\.id), ["activations[0]{seed=1}", "activations[1]{seed=1}"])
        XCTAssertEqual(scheduler.next()?.map(\.id), ["activations[0]{seed=2}", "activations[1]{seed=2}"])
    }
}
