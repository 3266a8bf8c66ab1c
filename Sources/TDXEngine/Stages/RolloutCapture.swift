import Foundation
import TDXCore
import TDXLang
import TDXModels
import TDXTasks

/// Residual streams recorded while the language model plays: the rollout computes every block of every
/// token anyway, so recording there saves the `activations` stage (and each intervention condition) a
/// second full pass over the transcripts.
struct RolloutCapture: Sendable {
    /// Blocks after which the stream is recorded, in the order the artifacts list them.
    var blocks: [Int]
    /// Event kinds recorded ("events" = every event, "all_tokens" = every token).
    var kinds: Set<String>
    /// The last token of an event's span (else its first).
    var useLast: Bool

    init(blocks: [Int], kinds: Set<String> = ["events"], useLast: Bool = true) {
        self.blocks = blocks; self.kinds = kinds; self.useLast = useLast
    }

    /// What the planner asked the rollout stage to record (`activations.record`), if anything.
    init?(params: [String: Value]) {
        guard let blocks = params["activations.record"]?.intList, !blocks.isEmpty else { return nil }
        let p = Params(params, prefix: "activations")
        self.init(blocks: blocks, kinds: Set(p["positions"]?.listValue?.compactMap(\.symbolValue) ?? ["events"]),
                  useLast: p.symbol("token", "last") == "last")
    }

    var allTokens: Bool { kinds.contains("all_tokens") }

    func wants(_ event: Event) -> Bool { kinds.contains("events") || kinds.contains(event.kind.rawValue) }

    /// The (event, token position) pairs recorded for a transcript read as `track`, in transcript order.
    func targets(_ transcript: Transcript, track: TokenTrack) -> [(event: Int, position: Int)] {
        if allTokens { return track.ids.indices.map { (-1, $0) } }
        return transcript.events.indices.compactMap { i in
            guard wants(transcript.events[i]), let p = track.position(of: transcript.events[i].span, last: useLast) else { return nil }
            return (i, p)
        }
    }

    /// One experiment's recording, filled pass by pass.
    struct Recorder: Sendable {
        /// Targets already recorded (a prefix of `targets` of the final transcript).
        var done = 0
        var events: [Int] = []
        var positions: [Int] = []
        /// Per block: [rows × d].
        var x: [[Float]]
        /// A target fell in tokens already read without being recorded: re-read the transcript at the end.
        var missed = false

        init(blocks: Int) { x = Array(repeating: [], count: blocks) }
    }

    /// Targets of the transcript so far that lie in `range` (token positions of this pass), advancing the
    /// recorder; targets in tokens read earlier mark it `missed`.
    func pending(_ rec: inout Recorder, transcript: Transcript, track: TokenTrack, range: Range<Int>) -> [(event: Int, position: Int)] {
        let all = targets(transcript, track: track)
        var out: [(event: Int, position: Int)] = []
        while rec.done < all.count, all[rec.done].position < range.upperBound {
            if all[rec.done].position >= range.lowerBound { out.append(all[rec.done]) } else { rec.missed = true }
            rec.done += 1
        }
        return out
    }

    /// Appends one sequence's captured rows ([blocks × n × d], the layout of `ForwardResult.residuals`).
    func store(_ residuals: [Float], targets: [(event: Int, position: Int)], d: Int, into rec: inout Recorder) {
        let n = targets.count
        guard n > 0 else { return }
        for b in blocks.indices { rec.x[b] += residuals[(b * n * d)..<((b + 1) * n * d)] }
        rec.events += targets.map(\.event)
        rec.positions += targets.map(\.position)
    }
}

/// What a rollout recorded: rows in experiment order, each experiment's targets in transcript order (the
/// layout the `activations` stage stores).
struct CapturedActivations: Sendable {
    var blocks: [Int]
    var rows: ActivationRows
    /// Per block: [rows × d].
    var x: [[Float]]

    init(blocks: [Int], rows: ActivationRows, x: [[Float]]) {
        self.blocks = blocks; self.rows = rows; self.x = x
    }

    init(blocks: [Int], experiments: [(experiment: Int, recorder: RolloutCapture.Recorder)]) {
        self.blocks = blocks
        rows = ActivationRows(experiment: [], event: [], position: [])
        x = blocks.map { _ in [] }
        for (e, r) in experiments {
            rows.experiment += r.events.map { _ in e }
            rows.event += r.events
            rows.position += r.positions
            for b in blocks.indices { x[b] += r.x[b] }
        }
    }

    /// Blob names in the rollout artifact.
    static func blob(block: Int) -> String { "x.\(block)" }
    static let rowsBlob = "activation_rows"

    func write(to out: inout StageOutput) throws {
        let d = rows.count > 0 ? (x.first?.count ?? 0) / rows.count : 0
        for (b, block) in blocks.enumerated() { out.floats(Self.blob(block: block), x[b], shape: [rows.count, d]) }
        out.json(Self.rowsBlob, try rows.encoded())
    }
}
