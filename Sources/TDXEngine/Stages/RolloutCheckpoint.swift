import Foundation
import TDXCore

/// Batches of experiments a rollout (or an intervention condition's re-run) has finished, saved as
/// partial results so an interrupted run resumes at the first unfinished batch. Experiments are
/// independent and seeded per experiment, so a resumed rollout equals an uninterrupted one.
struct RolloutCheckpoint {
    let ctx: StageContext
    /// Distinguishes the rollouts of one stage (e.g. the conditions of an intervention).
    let namespace: String
    /// Recorded blocks (0 when nothing is recorded).
    let blocks: Int

    private struct RecorderRows: Codable {
        var experiment: Int
        var events: [Int]
        var positions: [Int]
    }

    private func name(_ ids: [Int]) -> String { "\(namespace)/\(ids.first ?? 0)-\(ids.last ?? 0)#\(ids.count)" }

    /// Whether a batch was saved earlier (without reading it).
    func has(_ ids: [Int]) throws -> Bool { try ctx.partial(name(ids)) != nil }

    /// The experiments of `all`, in batches of `batch`, whose batch is not saved yet.
    func pending(_ all: [Int], batch: Int) throws -> [Int] {
        try stride(from: 0, to: all.count, by: batch).flatMap { first -> [Int] in
            let ids = Array(all[first..<min(first + batch, all.count)])
            return try has(ids) ? [] : ids
        }
    }

    /// A batch saved earlier: its records and recordings, or nil.
    func load(_ ids: [Int]) throws -> ([ExperimentRecord], [(experiment: Int, recorder: RolloutCapture.Recorder)])? {
        guard let part = try ctx.partial(name(ids)) else { return nil }
        let records = try JSONDecoder().decode([ExperimentRecord].self, from: Data(try part.string("records").utf8))
        let rows = try JSONDecoder().decode([RecorderRows].self, from: Data(try part.string("recorders").utf8))
        let xs = try (0..<blocks).map { try part.floats("x.\($0)") }
        let total = rows.reduce(0) { $0 + $1.positions.count }
        let d = total > 0 ? (xs.first?.count ?? 0) / total : 0
        var at = 0
        let recorded = rows.map { r -> (experiment: Int, recorder: RolloutCapture.Recorder) in
            var rec = RolloutCapture.Recorder(blocks: blocks)
            rec.events = r.events; rec.positions = r.positions; rec.done = r.positions.count
            let n = r.positions.count
            for b in 0..<blocks { rec.x[b] = Array(xs[b][(at * d)..<((at + n) * d)]) }
            at += n
            return (r.experiment, rec)
        }
        return (records, recorded)
    }

    /// Commits a finished batch.
    func save(_ ids: [Int], records: [ExperimentRecord], recorded: [(experiment: Int, recorder: RolloutCapture.Recorder)]) throws {
        let e = JSONEncoder(); e.outputFormatting = [.sortedKeys]
        var out = StageOutput()
        out.json("records", String(decoding: try e.encode(records), as: UTF8.self))
        let rows = recorded.map { RecorderRows(experiment: $0.experiment, events: $0.recorder.events, positions: $0.recorder.positions) }
        out.json("recorders", String(decoding: try e.encode(rows), as: UTF8.self))
        for b in 0..<blocks { out.floats("x.\(b)", recorded.flatMap { $0.recorder.x[b] }) }
        try ctx.savePartial(name(ids), out)
    }
}
