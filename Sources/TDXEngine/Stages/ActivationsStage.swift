import Foundation
import TDXCore
import TDXModels
import TDXPlan
import TDXTasks

/// Which rows an activations artifact holds: one per recorded token position.
public struct ActivationRows: Codable, Sendable, Equatable {
    /// Per row: the experiment, the transcript event (−1 for `all_tokens` rows) and the token position.
    public var experiment: [Int]
    public var event: [Int]
    public var position: [Int]
    public var count: Int { experiment.count }

    public func encoded() throws -> String {
        let e = JSONEncoder(); e.outputFormatting = [.sortedKeys]
        return String(decoding: try e.encode(self), as: UTF8.self)
    }
    public static func decode(_ s: String) throws -> ActivationRows { try JSONDecoder().decode(ActivationRows.self, from: Data(s.utf8)) }
}

/// `activations[L]`: the residual stream after every requested block at the event positions. When the
/// language model played the rollout, the rollout recorded them (`RolloutCapture`) and this stage files
/// them per layer; otherwise one forward pass over each final transcript records them. All layers are
/// computed together (one group); each layer is stored as its own artifact: blob `x` [rows × d_model] and
/// blob `rows` (ActivationRows).
struct ActivationsStage: StageBody {
    let kind = StageKind.activations
    let codeVersion = 2

    func run(_ group: [StageContext]) throws -> [StageOutput] {
        guard let first = group.first else { return [] }
        if let rowsJSON = try? first.inputString("rollout", CapturedActivations.rowsBlob) {
            let rows = try ActivationRows.decode(rowsJSON)
            return try group.map { ctx in
                let x = try ctx.inputFloats("rollout", CapturedActivations.blob(block: ctx.stage.layer ?? 0))
                var out = StageOutput()
                out.floats("x", x, shape: [rows.count, rows.count > 0 ? x.count / rows.count : 0])
                out.json("rows", rowsJSON)
                return out
            }
        }
        let model = try first.languageModel()
        let rollout = try RolloutData.decode(try first.inputString("rollout", "rollout"))
        let p = Params(first.stage.params, prefix: "activations")
        let kinds = Set(p["positions"]?.listValue?.compactMap(\.symbolValue) ?? ["events"])
        let useLast = p.symbol("token", "last") == "last"
        let layers = group.map { $0.stage.layer ?? 0 }
        let d = model.config.dModel
        var xs = layers.map { _ in [Float]() }
        var rows = ActivationRows(experiment: [], event: [], position: [])
        for (n, rec) in rollout.experiments.enumerated() {
            try first.checkCancelled()
            var track = rec.tokens ?? TokenTrack()
            if rec.tokens == nil { try track.extend(to: rec.transcript.text, model: model) }
            var positions: [Int] = []
            var events: [Int] = []
            if kinds.contains("all_tokens") {
                positions = Array(track.ids.indices)
                events = positions.map { _ in -1 }
            } else {
                for (i, ev) in rec.transcript.events.enumerated()
                where kinds.contains("events") || kinds.contains(ev.kind.rawValue) {
                    guard let pos = track.position(of: ev.span, last: useLast) else { continue }
                    positions.append(pos); events.append(i)
                }
            }
            guard !positions.isEmpty else { continue }
            let r = try model.forward(ForwardRequest(sequences: [track.ids], logitPositions: [[]], captureBlocks: layers,
                                                     capturePositions: [positions]), caches: nil)
            let res = r.residuals[0]  // [blocks × positions × d]
            for b in layers.indices {
                xs[b].append(contentsOf: res[(b * positions.count * d)..<((b + 1) * positions.count * d)])
            }
            rows.experiment += positions.map { _ in rec.experiment }
            rows.event += events
            rows.position += positions
            for ctx in group { ctx.progress.update(n + 1, of: rollout.experiments.count) }
        }
        let rowsJSON = try rows.encoded()
        return xs.map { x in
            var out = StageOutput()
            out.floats("x", x, shape: [rows.count, d])
            out.json("rows", rowsJSON)
            return out
        }
    }
}

extension StageContext {
    /// An input activations artifact: the matrix [rows × d] and its row index.
    public func activations(_ id: String) throws -> (x: [Float], rows: ActivationRows, d: Int) {
        let x = try inputFloats(id, "x")
        let rows = try ActivationRows.decode(try inputString(id, "rows"))
        return (x, rows, rows.count > 0 ? x.count / rows.count : 0)
    }
}
