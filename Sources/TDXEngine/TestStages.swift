import Foundation
import TDXCore
import TDXLang
import TDXPlan

/// A small family of stand-in stage bodies, one per kind, for testing the planner, cache and executor
/// without models: each output is a digest of its parameters and its inputs' outputs, so a result
/// depends on exactly what its key says it depends on. `TDX_TEST_STAGES=1` makes the CLI use them;
/// `TDX_TEST_STAGE_MS` makes each stage take that long (for crash and concurrency tests).
public struct TestStage: StageBody {
    public let kind: StageKind
    public let codeVersion: Int
    public let milliseconds: Int

    public init(kind: StageKind, codeVersion: Int = 1, milliseconds: Int = 0) {
        self.kind = kind; self.codeVersion = codeVersion; self.milliseconds = milliseconds
    }

    public func run(_ group: [StageContext]) throws -> [StageOutput] {
        try group.map { ctx in
            var h = SHA256()
            for k in ctx.stage.params.keys.sorted() { h.update("\(k)=\(ctx.stage.params[k]!.canonical)\n") }
            for i in ctx.stage.inputs.sorted() { h.update("\(i):\(try ctx.inputString(i, "value"))\n") }
            // Sleep in slices so Ctrl-C and kills land mid-stage.
            let steps = max(1, milliseconds / 10)
            for s in 0..<steps where milliseconds > 0 {
                try ctx.checkCancelled()
                usleep(UInt32(milliseconds * 1000 / steps))
                ctx.progress.update(s + 1, of: steps)
            }
            var out = StageOutput()
            out.text("value", h.hexDigest())
            out.floats("array", (0..<64).map { Float($0) * 0.5 }, shape: [8, 8])
            return out
        }
    }

    public static func registry(milliseconds: Int = 0, versions: [StageKind: Int] = [:]) -> StageRegistry {
        StageRegistry(StageKind.allCases.map { TestStage(kind: $0, codeVersion: versions[$0] ?? 1, milliseconds: milliseconds) })
    }
}
