import Foundation
import XCTest
import TDXCore
@testable import TDXEngine
import TDXLang
import TDXModels
import TDXPlan
import TDXStore

/// A worker that dies in the middle of a rollout: the run stops with an error naming the worker, the
/// rollout is not cached, what finished before stays cached and the cache verifies clean; a re-run with a
/// healthy worker resumes from there.
final class WorkerFailureTests: XCTestCase {
    /// A byte-level "model" (vocabulary 256, d 8, 3 blocks; logits favour the byte after the last one) that
    /// exits abruptly when the file named in argv[1] says how many forward passes to allow.
    static let script = #"""
    import json, struct, sys, os
    limit_file = sys.argv[1]
    inp, out = sys.stdin.buffer, sys.stdout.buffer
    V, D, B = 256, 8, 3
    forwards = 0
    def send(obj, payload=b""):
        if payload: obj["payload_bytes"] = len(payload)
        out.write(json.dumps(obj).encode() + b"\n" + payload); out.flush()
    while True:
        line = inp.readline()
        if not line: break
        req = json.loads(line)
        n = req.get("payload_bytes") or 0
        if n: inp.read(n)
        op, rid = req["op"], req["id"]
        if op == "hello": send({"id": rid, "ok": True, "protocol": 1, "worker": "bytes", "capabilities": []})
        elif op == "load": send({"id": rid, "ok": True, "model_id": "bytes/" + req["model"], "revision": "r1", "dtype": "float32",
                                 "config": {"blocks": B, "d_model": D, "vocab": V}, "bos": None, "add_bos": False})
        elif op == "tokenize":
            data = req["text"].encode()
            send({"id": rid, "ok": True, "ids": list(data), "lengths": [1] * len(data)})
        elif op == "sae": send({"id": rid, "ok": True})
        elif op == "forward":
            forwards += 1
            with open(limit_file + ".count", "a") as f: f.write("%d %d\n" % (os.getpid(), len(req["sequences"])))
            allowed = int(open(limit_file).read().strip() or "-1")
            if allowed >= 0 and forwards > allowed:
                sys.stderr.write("bytes worker: simulated crash\n"); sys.stderr.flush(); os._exit(3)
            payload, logits, residuals = b"", [], []
            for s, seq in enumerate(req["sequences"]):
                ps = [p if p >= 0 else len(seq) + p for p in req["logit_positions"][s]]
                vals = []
                for p in ps:
                    row = [0.0] * V; row[(seq[p] + 1) % V] = 2.0; vals += row
                logits.append({"offset": len(payload), "count": len(vals)}); payload += struct.pack("<%df" % len(vals), *vals)
                cs = req["capture_positions"][s]
                vals = [float(seq[p if p >= 0 else len(seq) + p] % 7 + b) for b in req["capture_blocks"] for p in cs for _ in range(D)]
                residuals.append({"offset": len(payload), "count": len(vals)}); payload += struct.pack("<%df" % len(vals), *vals)
            send({"id": rid, "ok": True, "logits": logits, "residuals": residuals}, payload)
        elif op == "close": send({"id": rid, "ok": True}); break
    """#

    private func requirePython3() throws {
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "-c", "pass"]
        guard (try? probe.run()) != nil else { throw XCTSkip("python3 is not installed") }
        probe.waitUntilExit()
    }

    func testAWorkerThatDiesMidRolloutLeavesTheCacheIntact() throws {
        try requirePython3()
        let sb = try Sandbox()
        let worker = try sb.write(Self.script, "bytes_worker.py")
        let limit = try sb.write("2", "limit")
        let path = try sb.write("""
            tdx 1
            seed = 1
            model llm { backend = worker  command = ["python3", "\(worker)", "\(limit)"]  weights = "toy" }
            task two_step { experiments = 2  episodes = 3  random_episodes = 0 }
            agent q_learning {}
            report {}

            """)
        let spec = try XCTUnwrap(Frontend.check(path: path).spec)

        func attempt() throws -> (Plan, Result<Executor.Summary, Error>) {
            // A fresh engine each time: a new process would start a new worker too.
            let engine = Engine(registry: StandardStages.registry)
            let plan = try engine.plan(spec, specPath: path, store: try Store(path: sb.cache))
            return (plan, Result { try engine.run(plan, spec: spec, specPath: path, storePath: sb.cache,
                                                  options: Executor.Options(jobs: 1), io: quietIO) })
        }
        let (plan, first) = try attempt()
        guard case .failure(let error) = first else { return XCTFail("the run should fail when the worker dies") }
        let text = "\(error) " + ((error as? UserError).map { "\($0.message) \($0.help ?? "")" } ?? "")
        XCTAssertTrue(text.contains("bytes_worker.py"), text)
        XCTAssertTrue(text.contains("simulated crash") || text.contains("exited"), text)

        let store = try Store(path: sb.cache)
        XCTAssertNotNil(try store.artifact(plan.graph[id: "model"]!.key), "the model stage finished before the crash")
        XCTAssertNil(try store.artifact(plan.graph[id: "rollout"]!.key), "a rollout cut short is not cached")
        XCTAssertTrue(try store.verify(evict: false).isClean)

        try "-1".write(toFile: limit, atomically: true, encoding: .utf8)
        let (again, second) = try attempt()
        XCTAssertEqual(again.toRun.map(\.stage.id).contains("model"), false, "the model stage is reused")
        let summary = try second.get()
        XCTAssertTrue(summary.computed.contains("rollout"))
    }

    /// SIGTERM (or Ctrl-C) while a worker has not answered stops `tdx run` at once, with no worker left behind
    /// (it waited out the 300 s timeout before).
    func testTerminatingARunStopsAWorkerThatDoesNotAnswer() throws {
        let sb = try Sandbox()
        let seconds = "\(900 + Int.random(in: 0..<99))"   // names this test's worker among the machine's processes
        let path = try sb.write("""
            tdx 1
            model llm { backend = worker  command = ["sleep", "\(seconds)"]  weights = "toy" }
            task two_step { experiments = 1  episodes = 2  random_episodes = 1 }

            """)
        func workerAlive() -> Bool {
            let procs = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
            return procs.contains { pid in
                (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) == "sleep\u{0}\(seconds)\u{0}"
            }
        }
        let p = try spawnTDX(["run", path, "--cache", sb.cache, "--results", sb.results], env: [:])
        let deadline = Date().addingTimeInterval(10)
        while !workerAlive() && Date() < deadline { usleep(50_000) }
        XCTAssertTrue(workerAlive(), "the worker started")
        let start = Date()
        p.terminate()
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 130)
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
        XCTAssertFalse(workerAlive(), "no worker is left")
    }

    /// A rollout cut short resumes at its first unfinished batch of experiments, and the result equals an
    /// uninterrupted run's; the saved batches are deleted once the rollout commits.
    func testAnInterruptedRolloutResumesFromItsFinishedBatches() throws {
        try requirePython3()
        let sb = try Sandbox()
        let worker = try sb.write(Self.script, "bytes_worker.py")
        func spec(_ limit: String) -> String {
            """
            tdx 1
            seed = 1
            model llm { backend = worker  command = ["python3", "\(worker)", "\(limit)"]  weights = "toy" }
            task two_step { experiments = 10  episodes = 2  random_episodes = 0 }
            agent q_learning {}
            report {}

            """
        }
        // Batches of 8 experiments. Byte tokens make every answer two tokens, so each of the 4 choices of the
        // first batch takes 1 batched pass plus 8 answer passes (36); die in the second batch.
        let limit = try sb.write("40", "limit")
        let path = try sb.write(spec(limit))
        let spec1 = try XCTUnwrap(Frontend.check(path: path).spec)
        func run(cache: String) throws -> (Plan, Result<Executor.Summary, Error>) {
            let engine = Engine(registry: StandardStages.registry)
            let plan = try engine.plan(spec1, specPath: path, store: try Store(path: cache))
            return (plan, Result { try engine.run(plan, spec: spec1, specPath: path, storePath: cache,
                                                  options: Executor.Options(jobs: 1), io: quietIO) })
        }
        let (plan, first) = try run(cache: sb.cache)
        guard case .failure = first else { return XCTFail("the worker should have died in the second batch") }
        let rolloutKey = plan.graph[id: "rollout"]!.key
        let prefix = StageContext.partialPrefix(stageKey: rolloutKey)
        XCTAssertEqual(try Store(path: sb.cache).keys(withPrefix: prefix).count, 1, "the first batch is saved")

        try "-1".write(toFile: limit, atomically: true, encoding: .utf8)
        try? FileManager.default.removeItem(atPath: limit + ".count")
        _ = try run(cache: sb.cache).1.get()
        let sequences = try String(contentsOfFile: limit + ".count", encoding: .utf8).split(separator: "\n")
            .map { Int($0.split(separator: " ")[1])! }
        XCTAssertEqual(sequences.max(), 2, "only the 2 experiments of the unfinished batch are played again")
        let store = try Store(path: sb.cache)
        XCTAssertEqual(try store.keys(withPrefix: prefix), [], "saved batches are deleted once the rollout commits")

        let fresh = sb.dir.appendingPathComponent("fresh.sqlite").path
        _ = try run(cache: fresh).1.get()
        XCTAssertEqual(try store.readString(key: rolloutKey, blob: "rollout"),
                       try Store(path: fresh).readString(key: rolloutKey, blob: "rollout"), "resumed = uninterrupted")
    }
}
