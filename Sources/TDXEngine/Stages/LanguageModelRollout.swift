import Foundation
import TDXCore
import TDXModels
import TDXTasks

/// Rollouts with the language model at the choice slots.
///
/// Two-Step is closed-loop: the model's choice decides what happens next, so experiments advance slot by
/// slot, batched, each with its own KV cache (the prompt is prefix-stable, so nothing is recomputed).
/// Grid World and the graph task are predictions: the text continues with what really happened whatever
/// the model predicts, so each transcript is built first and read in one pass with logits at every slot.
enum LanguageModelRollout {
    /// Edits of the residual stream kept active during a rollout (the `intervene` stage): one operation per
    /// edited block.
    struct Intervention {
        var blocks: [(block: Int, operation: ResidualEdit.Operation)]
        /// Edit only the tokens of task events instead of every token.
        var onlyEvents: Bool

        /// The edits for sequence `k` of a request whose new tokens are `range` (absolute positions).
        func edits(sequence k: Int, range: Range<Int>, track: TokenTrack, transcript: Transcript) -> [ResidualEdit] {
            var positions = Array(range)
            if onlyEvents {
                let events = Set(transcript.events.compactMap { track.position(of: $0.span) })
                positions = positions.filter(events.contains)
            }
            return positions.isEmpty ? [] : blocks.map { ResidualEdit(block: $0.block, sequences: [k], positions: positions, operation: $0.operation) }
        }
    }

    struct Readout {
        var argmax: Bool
        var temperature: Double
        init(_ p: Params) { argmax = p.symbol("readout") == "argmax"; temperature = p.double("temperature", 1) }

        /// Restricted softmax over the answers' scores (log-probabilities), then argmax or a seeded sample.
        func choose(_ scores: [Double], rng: inout SeededRNG) -> Decision {
            let m = scores.max() ?? 0
            let w = scores.map { Foundation.exp(($0 - m) / temperature) }
            let z = w.reduce(0, +)
            let probs = w.map { $0 / z }
            if argmax { return Decision(index: probs.indices.max { probs[$0] < probs[$1] } ?? 0, probabilities: probs) }
            var u = rng.uniform(), i = 0
            while i < probs.count - 1 && u >= probs[i] { u -= probs[i]; i += 1 }
            return Decision(index: i, probabilities: probs)
        }
    }

    /// Log-probability of each answer continuing at a position: the first token from `logits`; later tokens
    /// of multi-token answers from a copy of the KV cache, or (workers) the whole prefix read again.
    static func answerScores(_ model: ModelRunner, logits: ArraySlice<Float>, answers: [[Int]], cache: KVCache?, prefix: [Int],
                             intervention: Intervention? = nil) throws -> [Double] {
        var scores = ReadOut.logProbabilities(logits, of: answers.map(\.first)).map(Double.init)
        let multi = answers.indices.filter { answers[$0].count > 1 }
        guard !multi.isEmpty, cache != nil || !model.keepsCaches else { return scores }
        let start = prefix.count
        let head = cache == nil ? prefix : []   // tokens sent before the answer's own
        let seqs = multi.map { head + Array(answers[$0].dropLast()) }
        let edits = intervention.map { iv in
            seqs.indices.flatMap { k in iv.blocks.map { ResidualEdit(block: $0.block, sequences: [k],
                                                                     positions: Array((start - head.count)..<(start + seqs[k].count - head.count)),
                                                                     operation: $0.operation) } }
        } ?? []
        let r = try model.forward(ForwardRequest(sequences: seqs, logitPositions: seqs.map { Array(start..<(start + $0.count - head.count)) },
                                                 edits: edits),
                                  caches: cache.map { c in multi.map { _ in c.copy() } })
        let V = model.config.vocabSize
        for (k, a) in multi.enumerated() {
            for t in 1..<answers[a].count {
                scores[a] += Double(ReadOut.logProbabilities(r.logits(sequence: k, index: t - 1, vocab: V), of: [answers[a][t]])[0])
            }
        }
        return scores
    }

    /// Experiments a closed loop plays at once with the in-process engine: every step's products take the
    /// new tokens of all of them, so more is faster (8 at a time took a fifth longer than 20), while each keeps
    /// a KV cache of its whole transcript. At most 25, fewer when their caches at `tokens` (one experiment's
    /// estimated length, +25 % for the others) would pass 3 GiB; the batches come out as even as that allows.
    /// Only the last bits of an experiment's sums depend on its batch, and only where BLAS is not
    /// partition-invariant (`BLASRuntime.partitionInvariant`).
    static func closedLoopBatch(experiments n: Int, tokens: Int, config c: LlamaConfig) -> Int {
        let perExperiment = max(1, c.blockCount * 2 * c.kvHeadCount * c.headDim * 4 * cacheTokens(tokens))
        let cap = max(1, min(25, (3 << 30) / perExperiment))
        let batches = max(1, (n + cap - 1) / cap)
        return max(1, (n + batches - 1) / batches)
    }

    /// The positions a closed loop's KV cache is sized for: one experiment's estimated length, +25 % for
    /// experiments whose choices write longer labels.
    static func cacheTokens(_ estimate: Int) -> Int { estimate + estimate / 4 }

    /// With `replay` (experiment → its intact record) every slot takes the intact run's action, so the same
    /// transcript is read again and only the model's probabilities at its choices are new. With `shared`, an
    /// experiment skips the intact run's lower blocks while its text is the intact one; they are asked for
    /// when the first batch is played, so a run whose batches were all saved before a kill computes none.
    static func twoStep(_ config: TwoStepConfig, seed: UInt64, ctx: StageContext, intervention: Intervention? = nil,
                        experiments only: [Int]? = nil, capture: RolloutCapture? = nil, checkpoint: String? = nil,
                        replay: [Int: ExperimentRecord]? = nil, shared: (() throws -> SharedLowerBlocks?)? = nil) throws -> (RolloutData, CapturedActivations?) {
        let model = try ctx.languageModel()
        let d = model.config.dModel
        let saver = checkpoint.map { RolloutCheckpoint(ctx: ctx, namespace: $0, blocks: capture?.blocks.count ?? 0) }
        let readout = Readout(Params(ctx.stage.params, prefix: "task"))
        var records: [ExperimentRecord] = []
        var recorded: [(experiment: Int, recorder: RolloutCapture.Recorder)] = []
        let all = only ?? Array(0..<config.experiments)
        // The closed loop's text depends on the model's choices only through labels and rewards: a play with
        // the first answer everywhere, tokenized as the run does (BOS, then piece by piece), estimates its length.
        var estimates: [Int: Int] = [:]
        func estimatedTokens(_ e: Int) throws -> Int {
            if let n = estimates[e] { return n }
            var env = TwoStepEnvironment(config: config, experiment: e, seed: seed)
            var track = TokenTrack()
            while let slot = env.nextSlot() {
                if !slot.forcedRandom { try track.extend(to: env.transcript.text, model: model) }
                _ = env.submit(Decision(index: 0), forcedRandom: slot.forcedRandom)
            }
            try track.extend(to: env.transcript.text, model: model)
            estimates[e] = track.ids.count
            return track.ids.count
        }
        let firstTokens = model.keepsCaches ? try all.first.map(estimatedTokens) ?? 0 : 0
        let batch = model.keepsCaches ? closedLoopBatch(experiments: all.count, tokens: firstTokens, config: model.config) : 8
        // Before any reading: whether the transcripts still to play can fit.
        if replay == nil {
            try ContextError.check(try (saver?.pending(all, batch: batch) ?? all).map { ($0, try estimatedTokens($0)) },
                                   model: model, task: "two_step", estimated: true)
        }
        var lowerBlocks: SharedLowerBlocks??   // .none until a batch is played
        for first in stride(from: 0, to: all.count, by: batch) {
            let ids = Array(all[first..<min(first + batch, all.count)])
            if let (saved, savedRecorded) = try saver?.load(ids) {
                records += saved
                if capture != nil { recorded += savedRecorded }
                ctx.progress.update(records.count * config.episodes, of: all.count * config.episodes)
                continue
            }
            if lowerBlocks == nil { lowerBlocks = .some(try shared?()) }
            let shared = lowerBlocks!
            var envs = ids.map { TwoStepEnvironment(config: config, experiment: $0, seed: seed) }
            let optionValues = envs.map(\.optionValues)
            let optimal = envs.map { $0.expectedValues(state: 0).max() ?? 0 }
            var rngs = ids.map { SeededRNG(seed: seed, stream: "two_step/policy/\($0)") }
            var tracks = ids.map { _ in TokenTrack() }
            var fed = ids.map { _ in 0 }
            let caches = ids.map { _ in model.makeCache() }
            // Room for the whole transcript (as the batch size assumes) from the start: growing a cache copies
            // it, on the main thread while the other cores wait.
            for c in caches { c?.reserve(tokens: cacheTokens(firstTokens)) }
            // Whether experiment i's text is still the intact one, so its new tokens enter after the shared blocks.
            var onIntact = ids.map { shared?.experiments[$0] != nil && model.keepsCaches }
            // From its first token that differs (or before anything that reads its whole cache), an experiment
            // takes the shared blocks into its cache and runs every block.
            func leaveIntact(_ i: Int) {
                guard onIntact[i], let shared, let x = shared.experiments[ids[i]], let cache = caches[i] else { return }
                cache.adopt(blocksThrough: shared.after, from: x.cache, positions: fed[i])
                onIntact[i] = false
            }
            var steps: [[Step]] = ids.map { _ in [] }
            var recorders = ids.map { _ in RolloutCapture.Recorder(blocks: capture?.blocks.count ?? 0) }
            var slots: [ChoiceSlot?] = []
            for i in envs.indices { slots.append(envs[i].nextSlot()) }
            let replayed = try ids.map { e -> [Step]? in
                guard let replay else { return nil }
                guard let rec = replay[e] else { throw InterveneError.replayMissing(e) }
                return rec.steps
            }
            // The intact run's action at experiment i's next slot (nil when not replaying).
            func intactAction(_ i: Int) throws -> Int? {
                guard let intact = replayed[i] else { return nil }
                guard steps[i].count < intact.count else { throw InterveneError.replayDiverged(ids[i]) }
                return intact[steps[i].count].action
            }
            while slots.contains(where: { $0 != nil }) {
                try ctx.checkCancelled()
                var query: [Int] = []
                for i in envs.indices {
                    guard let slot = slots[i] else { continue }
                    if slot.forcedRandom {
                        let n = slot.answers.count
                        let index = try intactAction(i) ?? rngs[i].int(below: n)
                        let d = Decision(index: index, probabilities: Array(repeating: 1 / Double(n), count: n))
                        steps[i].append(envs[i].submit(d, forcedRandom: true))
                        slots[i] = envs[i].nextSlot()
                    } else {
                        query.append(i)
                    }
                }
                guard !query.isEmpty else { continue }
                let answers = try query.map { i in try slots[i]!.answers.map { try model.encode($0) } }
                for (k, i) in query.enumerated() {
                    try tracks[i].extend(to: envs[i].transcript.text, model: model)
                    // The answers are read after the prompt: a multi-token one needs its own positions.
                    let answer = answers[k].map(\.count).max() ?? 1
                    try ContextError.checkPlaying(ids[i], episode: slots[i]!.episode, tokens: tracks[i].ids.count + max(answer, 1) - 1,
                                                  model: model)
                }
                // With a KV cache only the new tokens are read; a worker reads the whole sequence again.
                let sent = query.map { model.keepsCaches ? fed[$0] : 0 }
                let edits = intervention.map { iv in
                    query.enumerated().flatMap { k, i in
                        iv.edits(sequence: k, range: sent[k]..<tracks[i].ids.count, track: tracks[i], transcript: envs[i].transcript)
                    }
                } ?? []
                let targets = query.map { i in
                    capture?.pending(&recorders[i], transcript: envs[i].transcript, track: tracks[i],
                                     range: fed[i]..<tracks[i].ids.count) ?? []
                }
                let streams = query.enumerated().map { k, i -> [Float]? in
                    guard onIntact[i], let shared else { return nil }
                    // A multi-token answer is read from a copy of the whole cache.
                    if answers[k].allSatisfy({ $0.count <= 1 }),
                       let x = shared.stream(experiment: ids[i], ids: tracks[i].ids, range: fed[i]..<tracks[i].ids.count) { return x }
                    leaveIntact(i)
                    return nil
                }
                let request = ForwardRequest(sequences: query.enumerated().map { k, i in Array(tracks[i].ids[sent[k]...]) },
                                             logitPositions: query.map { [tracks[$0].ids.count - 1] },
                                             captureBlocks: capture?.blocks ?? [], capturePositions: targets.map { $0.map(\.position) },
                                             edits: edits,
                                             resume: shared.flatMap { s in streams.contains { $0 != nil } ? .init(after: s.after, streams: streams) : nil })
                let r = try model.forward(request, caches: query.map { caches[$0] })
                for (k, i) in query.enumerated() {
                    capture?.store(r.residuals[k], targets: targets[k], d: d, into: &recorders[i])
                    fed[i] = tracks[i].ids.count
                    let scores = try answerScores(model, logits: r.logits(sequence: k, index: 0, vocab: model.config.vocabSize),
                                                  answers: answers[k], cache: caches[i], prefix: tracks[i].ids, intervention: intervention)
                    var decision = readout.choose(scores, rng: &rngs[i])
                    if let a = try intactAction(i) { decision.index = a }
                    steps[i].append(envs[i].submit(decision, forcedRandom: false))
                    slots[i] = envs[i].nextSlot()
                }
                // Progress in episodes, so a long batch still shows movement.
                let episodesDone = records.count * config.episodes + steps.map { $0.last.map { $0.episode + 1 } ?? 0 }.reduce(0, +)
                ctx.progress.update(episodesDone, of: all.count * config.episodes)
            }
            for (i, e) in ids.enumerated() {
                try tracks[i].extend(to: envs[i].transcript.text, model: model)
                // The text after the last choice is read only to record it.
                if capture != nil {
                    try ContextError.checkPlaying(e, episode: config.episodes - 1, tokens: tracks[i].ids.count, model: model)
                }
                if let intact = replay?[e], intact.transcript.text != envs[i].transcript.text || intact.steps.count != steps[i].count {
                    throw InterveneError.replayDiverged(e)
                }
            }
            if let capture {
                for i in ids.indices { leaveIntact(i) }
                // The text after the last choice (the last reward) was never read: read it now, and re-read
                // any transcript whose targets fell outside the passes that read them.
                try recordTail(model, capture: capture, tracks: tracks, fed: fed, caches: caches,
                               transcripts: envs.map(\.transcript), intervention: intervention, recorders: &recorders)
                recorded += zip(ids, recorders).map { ($0, $1) }
            }
            for (i, e) in ids.enumerated() {
                var rec = ExperimentRecord(experiment: e, transcript: envs[i].transcript, steps: steps[i], returns: envs[i].returns,
                                           optimalReturn: optimal[i],
                                           randomReturn: optionValues[i].reduce(0, +) / Double(max(1, optionValues[i].count)))
                rec.tokens = tracks[i]
                records.append(rec)
            }
            try saver?.save(ids, records: Array(records.suffix(ids.count)), recorded: capture == nil ? [] : Array(recorded.suffix(ids.count)))
            ctx.progress.update(records.count * config.episodes, of: all.count * config.episodes)
        }
        return (RolloutData(task: "two_step", experiments: records),
                capture.map { CapturedActivations(blocks: $0.blocks, experiments: recorded) })
    }

    /// Records what the closed loop left unread: the tail of each transcript after its last choice (from
    /// its KV cache), and whole transcripts whose recorder missed a target (one fresh pass each).
    static func recordTail(_ model: ModelRunner, capture: RolloutCapture, tracks: [TokenTrack], fed: [Int], caches: [KVCache?],
                           transcripts: [Transcript], intervention: Intervention?,
                           recorders: inout [RolloutCapture.Recorder]) throws {
        let d = model.config.dModel
        for i in tracks.indices {
            let targets = capture.pending(&recorders[i], transcript: transcripts[i], track: tracks[i], range: fed[i]..<tracks[i].ids.count)
            if recorders[i].missed {
                recorders[i] = RolloutCapture.Recorder(blocks: capture.blocks.count)
                let all = capture.targets(transcripts[i], track: tracks[i])
                let edits = intervention?.edits(sequence: 0, range: 0..<tracks[i].ids.count, track: tracks[i], transcript: transcripts[i]) ?? []
                let r = try model.forward(ForwardRequest(sequences: [tracks[i].ids], logitPositions: [[]], captureBlocks: capture.blocks,
                                                         capturePositions: [all.map(\.position)], edits: edits),
                                          caches: nil)
                capture.store(r.residuals[0], targets: all, d: d, into: &recorders[i])
                recorders[i].done = all.count
            } else if !targets.isEmpty {
                let start = model.keepsCaches ? fed[i] : 0
                let edits = intervention?.edits(sequence: 0, range: start..<tracks[i].ids.count, track: tracks[i], transcript: transcripts[i]) ?? []
                let r = try model.forward(ForwardRequest(sequences: [Array(tracks[i].ids[start...])], logitPositions: [[]],
                                                         captureBlocks: capture.blocks, capturePositions: [targets.map(\.position)],
                                                         edits: edits),
                                          caches: [caches[i]])
                capture.store(r.residuals[0], targets: targets, d: d, into: &recorders[i])
            }
        }
    }

    static func gridWorld(_ config: GridWorldConfig, control: GridWorldConfig?, seed: UInt64, ctx: StageContext,
                          intervention: Intervention? = nil, experiments only: [Int]? = nil,
                          capture: RolloutCapture? = nil, checkpoint: String? = nil) throws -> (RolloutData, CapturedActivations?) {
        let model = try ctx.languageModel()
        let readout = Readout(Params(ctx.stage.params, prefix: "task"))
        func make(_ c: GridWorldConfig) -> (Int) -> (GridWorldEnvironment, (inout ExperimentRecord) -> Void) {
            { e in
                let trajectory = GridWorld.simulate(c, experiment: e, seed: seed)
                let env = GridWorldEnvironment(config: c, trajectory: trajectory,
                                               shown: GridWorld.shownRewards(trajectory, config: c, experiment: e, seed: seed))
                return (env, { rec in rec.goal = trajectory.goal })
            }
        }
        // Both sets of transcripts (the control's are read after the main ones) are built and checked
        // against the context before any is read.
        let main = try pending(model, experiments: config.experiments, only: only, stream: "grid", ctx: ctx, capture: capture,
                               checkpoint: checkpoint, make: make(config))
        let controlled = try control.map { c in
            try pending(model, experiments: c.experiments, only: only, stream: "grid", ctx: ctx, capture: nil,
                        checkpoint: checkpoint.map { $0 + "/control" }, control: true, make: make(c))
        }
        func readAll(_ p: Pending<GridWorldEnvironment>, capture: RolloutCapture?) throws -> ([ExperimentRecord], CapturedActivations?) {
            try read(model, p, readout: readout, seed: seed, stream: "grid", ctx: ctx, intervention: intervention, capture: capture)
        }
        let (recs, captured) = try readAll(main, capture: capture)
        return (RolloutData(task: "grid_world", experiments: recs, control: try controlled.map { try readAll($0, capture: nil).0 }), captured)
    }

    static func graph(_ config: GraphConfig, seed: UInt64, ctx: StageContext, intervention: Intervention? = nil,
                      experiments only: [Int]? = nil, capture: RolloutCapture? = nil,
                      checkpoint: String? = nil) throws -> (RolloutData, CapturedActivations?) {
        let model = try ctx.languageModel()
        let readout = Readout(Params(ctx.stage.params, prefix: "task"))
        let graph = config.resolvedGraph
        let (recs, captured) = try predict(model, experiments: config.experiments, readout: readout, seed: seed, stream: "graph",
                                           ctx: ctx, intervention: intervention, only: only, capture: capture,
                                           checkpoint: checkpoint) { e in
            var task = SeededRNG(seed: seed, stream: "graph/task/\(e)")
            let libraryNames = GraphWalk.names(config, count: graph.nodeCount, rng: &task)
            let walk = GraphWalk.walk(graph, length: config.walkLength, rng: &task)
            // Names whose first tokens differ, so first-token scoring is exact (SCIENCE.md §3.3).
            let names = config.names != nil ? libraryNames
                : (try distinctFirstTokenNames(config, count: graph.nodeCount, model: model, seed: seed, experiment: e)) ?? libraryNames
            let env = GraphWalkEnvironment(config: config, graph: graph, names: names, walk: walk)
            return (env, { rec in rec.names = names; rec.walk = walk })
        }
        return (RolloutData(task: "graph", experiments: recs.map { r in
            var r = r
            r.nodeEvents = r.transcript.events.indices.filter { r.transcript.events[$0].kind == .node }
            return r
        }), captured)
    }

    static func distinctFirstTokenNames(_ config: GraphConfig, count: Int, model: ModelRunner, seed: UInt64,
                                        experiment e: Int) throws -> [String]? {
        var pool = Array(Set(config.namePool)).sorted()
        var rng = SeededRNG(seed: seed, stream: "graph/names/\(e)")
        for i in pool.indices.reversed() { pool.swapAt(i, rng.int(below: i + 1)) }
        var used = Set<Int>(), out: [String] = []
        for n in pool where out.count < count {
            guard let t = try model.encode(config.answerPrefix + n).first, !used.contains(t) else { continue }
            used.insert(t); out.append(n)
        }
        return out.count == count ? out : nil
    }

    /// Experiments per saved partial result of `predict`: each is read on its own, so a small unit costs
    /// nothing and bounds what a kill loses (a paper-scale Grid World experiment takes about a minute).
    static let predictBatch = 2

    /// Builds each transcript (predictions do not change the text), reads it in one pass with logits at
    /// every slot (and the recorded residual streams), and records the model's prediction and
    /// probabilities at each choice event.
    static func predict<E: Environment>(_ model: ModelRunner, experiments: Int, readout: Readout, seed: UInt64, stream: String,
                                        ctx: StageContext, intervention: Intervention? = nil, only: [Int]? = nil,
                                        capture: RolloutCapture? = nil, checkpoint: String? = nil,
                                        make: (Int) throws -> (E, (inout ExperimentRecord) -> Void)) throws -> ([ExperimentRecord], CapturedActivations?) {
        let p = try pending(model, experiments: experiments, only: only, stream: stream, ctx: ctx, capture: capture, checkpoint: checkpoint,
                            make: make)
        return try read(model, p, readout: readout, seed: seed, stream: stream, ctx: ctx, intervention: intervention, capture: capture)
    }

    /// What a prediction rollout will read: its experiments, its checkpoint, and every transcript not yet
    /// saved, built and tokenized.
    struct Pending<E: Environment> {
        var all: [Int]
        var saver: RolloutCheckpoint?
        var prepared: [Int: Prepared<E>]
    }

    /// Every transcript still to read is known before the model reads any: one that does not fit the
    /// context fails now, not after hours of reading the others.
    static func pending<E: Environment>(_ model: ModelRunner, experiments: Int, only: [Int]?, stream: String, ctx: StageContext,
                                        capture: RolloutCapture?, checkpoint: String?, control: Bool = false,
                                        make: (Int) throws -> (E, (inout ExperimentRecord) -> Void)) throws -> Pending<E> {
        let all = only ?? Array(0..<experiments)
        let saver = checkpoint.map { RolloutCheckpoint(ctx: ctx, namespace: $0, blocks: capture?.blocks.count ?? 0) }
        let prepared = try Dictionary(uniqueKeysWithValues: (saver?.pending(all, batch: predictBatch) ?? all).map { e in
            (e, try Prepared(model, experiment: e, make: make))
        })
        try ContextError.check(prepared.values.map { ($0.experiment, $0.track.ids.count) }, model: model,
                               task: stream == "grid" ? "grid_world" : stream, control: control)
        return Pending(all: all, saver: saver, prepared: prepared)
    }

    /// Reads what `pending` prepared, `predictBatch` experiments per saved partial result.
    static func read<E: Environment>(_ model: ModelRunner, _ p: Pending<E>, readout: Readout, seed: UInt64, stream: String,
                                     ctx: StageContext, intervention: Intervention?,
                                     capture: RolloutCapture?) throws -> ([ExperimentRecord], CapturedActivations?) {
        var out: [ExperimentRecord] = []
        var recorded: [(experiment: Int, recorder: RolloutCapture.Recorder)] = []
        var prepared = p.prepared
        let all = p.all
        for first in stride(from: 0, to: all.count, by: predictBatch) {
            let ids = Array(all[first..<min(first + predictBatch, all.count)])
            if let (saved, savedRecorded) = try p.saver?.load(ids) {
                out += saved
                if capture != nil { recorded += savedRecorded }
                ctx.progress.update(out.count, of: all.count)
                continue
            }
            for e in ids {
                try ctx.checkCancelled()
                let (rec, recorder) = try predictOne(model, prepared.removeValue(forKey: e)!, readout: readout, seed: seed, stream: stream,
                                                     intervention: intervention, capture: capture)
                out.append(rec)
                if capture != nil { recorded.append((e, recorder)) }
                ctx.progress.update(out.count, of: all.count)
            }
            try p.saver?.save(ids, records: Array(out.suffix(ids.count)), recorded: capture == nil ? [] : Array(recorded.suffix(ids.count)))
        }
        return (out, capture.map { CapturedActivations(blocks: $0.blocks, experiments: recorded) })
    }

    /// One experiment's transcript with its choice slots, built and tokenized before the model reads it.
    struct Prepared<E: Environment> {
        var experiment: Int
        var env: E
        var finish: (inout ExperimentRecord) -> Void
        /// Each slot with the transcript's byte count where it opens.
        var slots: [(ChoiceSlot, Int)] = []
        var steps: [Step] = []
        var track = TokenTrack()

        init(_ model: ModelRunner, experiment e: Int, make: (Int) throws -> (E, (inout ExperimentRecord) -> Void)) throws {
            experiment = e
            (env, finish) = try make(e)
            while let slot = env.nextSlot() {
                slots.append((slot, env.transcript.byteCount))
                steps.append(env.submit(Decision(index: 0), forcedRandom: false))
            }
            try track.extend(to: env.transcript.text, model: model)
        }
    }

    /// One experiment of `predict`: its transcript read in one pass (or a few, for very long ones).
    static func predictOne<E: Environment>(_ model: ModelRunner, _ p: Prepared<E>, readout: Readout, seed: UInt64, stream: String,
                                           intervention: Intervention?, capture: RolloutCapture?)
        throws -> (ExperimentRecord, RolloutCapture.Recorder) {
        let V = model.config.vocabSize, d = model.config.dModel
        let e = p.experiment, slots = p.slots, track = p.track
        var transcript = p.env.transcript
        var rng = SeededRNG(seed: seed, stream: "\(stream)/policy/\(e)")
        // Logits for many positions are large (positions × vocabulary): a very long walk is read in
        // several passes, recording only in the first.
        let chunk = max(1, (512 << 20) / (V * 4))
        var recorder = RolloutCapture.Recorder(blocks: capture?.blocks.count ?? 0)
        let targets = capture?.targets(transcript, track: track) ?? []
        var k = 0
        while k < slots.count || (k == 0 && capture != nil) {
            let part = Array(slots[k..<min(k + chunk, slots.count)])
            let positions = part.map { track.position(before: $0.1) ?? 0 }
            let edits = intervention?.edits(sequence: 0, range: 0..<track.ids.count, track: track, transcript: transcript) ?? []
            let record = k == 0 ? targets : []
            let r = try model.forward(ForwardRequest(sequences: [track.ids], logitPositions: [positions],
                                                     captureBlocks: record.isEmpty ? [] : capture?.blocks ?? [],
                                                     capturePositions: [record.map(\.position)],
                                                     edits: edits), caches: nil)
            if !record.isEmpty { capture?.store(r.residuals[0], targets: record, d: d, into: &recorder) }
            for (j, (slot, _)) in part.enumerated() {
                // Predictions score an answer by its first token: answers sharing one cannot be told apart
                // (THINGS names are drawn with distinct first tokens; names or labels a spec gives may not be).
                let answers = try slot.answers.map { Array(try model.encode($0).prefix(1)) }
                if let clash = firstTokenClash(slot.answers, answers) { throw clash }
                let scores = try answerScores(model, logits: r.logits(sequence: 0, index: j, vocab: V), answers: answers, cache: nil,
                                              prefix: [])
                let choice = readout.choose(scores, rng: &rng)
                let ev = transcript.events[slot.event]
                transcript.recordChoice(event: slot.event, written: ev.written ?? 0, chosen: choice.index, probabilities: choice.probabilities,
                                        forcedRandom: false)
            }
            k += chunk
        }
        var rec = ExperimentRecord(experiment: e, transcript: transcript, steps: p.steps)
        rec.tokens = track
        p.finish(&rec)
        return (rec, recorder)
    }
}

extension LanguageModelRollout {
    /// The first answer that cannot be scored by its first token: one that encodes to nothing, repeats
    /// another, or shares its first token with another.
    static func firstTokenClash(_ texts: [String], _ tokens: [[Int]]) -> PredictionError? {
        var seen: [Int: String] = [:]
        for (text, t) in zip(texts, tokens) {
            guard let first = t.first else { return .noToken(text) }
            if let other = seen[first] { return other == text ? .repeated(text) : .sameFirstToken(other, text) }
            seen[first] = text
        }
        return nil
    }
}

enum PredictionError: UserError, Equatable {
    case noToken(String)
    case repeated(String)
    case sameFirstToken(String, String)
    var message: String {
        switch self {
        case .noToken(let a): "the answer \(JSONText.string(a)) encodes to no token, so it cannot be scored"
        case .repeated(let a): "the answer \(JSONText.string(a)) appears twice among the answers of one prediction"
        case .sameFirstToken(let a, let b):
            "the answers \(JSONText.string(a)) and \(JSONText.string(b)) start with the same token, so a prediction scored by its first token cannot tell them apart"
        }
    }
    var help: String? {
        "choose node names or action labels whose first tokens differ (`tdx model tokenize \"<text>\"` shows them), or leave `names = things`"
    }
}
