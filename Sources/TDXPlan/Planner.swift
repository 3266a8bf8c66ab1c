import TDXCore
import TDXLang

/// Errors found while planning (after the spec checked clean): things only the model reveals.
public enum PlanError: UserError, Equatable {
    case layerBeyondModel(layer: Int, blocks: Int, model: String)
    /// An `intervene` or `geometry` block's fixed `layer` (`block` names it: "intervene lesion").
    case blockLayerBeyondModel(block: String, layer: Int, blocks: Int, model: String)
    case blockLayerNotRecorded(block: String, layer: Int, recorded: [Int])
    case tooManySweepVariants(Int)

    public var message: String {
        switch self {
        case .layerBeyondModel(let l, let b, let m): "layer \(l) does not exist: `\(m)` has \(b) blocks (0…\(b - 1))"
        case .blockLayerBeyondModel(let k, let l, let b, let m): "`\(k)`: layer \(l) does not exist: `\(m)` has \(b) blocks (0…\(b - 1))"
        case .blockLayerNotRecorded(let k, let l, let r): "`\(k)`: block \(l) is not recorded (`activations.layers` is \(r))"
        case .tooManySweepVariants(let n): "the sweeps expand to \(n) variants (more than 256)"
        }
    }
    public var help: String? {
        switch self {
        case .layerBeyondModel: "use `layers = all` or a range inside the model's depth"
        case .blockLayerBeyondModel: "name a block inside the model's depth, or let `peak(...)` choose one"
        case .blockLayerNotRecorded: "add it to `activations { layers = [...] }`, or let `peak(...)` choose among the recorded blocks"
        case .tooManySweepVariants: "sweep fewer parameters or fewer values at once"
        }
    }
}

/// Derives the stage graph from a resolved spec: the user never writes it.
public struct Planner {
    public var codeVersions: [StageKind: Int]

    public init(codeVersions: [StageKind: Int] = StageKind.defaultCodeVersions) { self.codeVersions = codeVersions }

    /// The qualified parameter prefix of a block: `sae`, `task`, `agent.q_learning`, `intervene.td_lesion`.
    static func prefix(_ b: ResolvedBlock) -> String {
        Schema.block(named: b.kind)?.multiple == true ? "\(b.kind).\(b.name)" : b.kind
    }

    /// Every assignment of values to the swept parameters (one variant when nothing is swept).
    static func variants(_ spec: ResolvedSpec) throws -> [[String: Value]] {
        var out: [[String: Value]] = [[:]]
        let sweeps = spec.blocks.flatMap { b in b.params.compactMap { p in p.sweep.map { ("\(prefix(b)).\(p.name)", $0) } } }
            + spec.settings.compactMap { p in p.sweep.map { (p.name, $0) } }
        for (name, values) in sweeps {
            out = out.flatMap { v in values.map { x in v.merging([name: x]) { $1 } } }
            if out.count > 256 { throw PlanError.tooManySweepVariants(out.count) }
        }
        return out
    }

    /// The model block's parameters in one sweep variant (`model.weights`, `model.backend`, …), defaults included.
    public static func modelParams(_ spec: ResolvedSpec, variant: [String: Value]) -> [String: Value] {
        var out: [String: Value] = [:]
        for p in spec.model?.params ?? [] { out["model.\(p.name)"] = variant["model.\(p.name)"] ?? p.value }
        return out
    }

    /// Plans every sweep variant; `models` gives the identity of the model a variant's model block names
    /// (a sweep over `weights` compares models, each with its own depth and key).
    public func plan(_ spec: ResolvedSpec, models: ([String: Value]) throws -> ModelIdentity) throws -> StageGraph {
        var byKey: [String: Stage] = [:]
        var order: [String] = []
        for variant in try Self.variants(spec) {
            let model = try models(Self.modelParams(spec, variant: variant))
            for s in try stages(spec, model: model, variant: variant) where byKey[s.key] == nil {
                byKey[s.key] = s
                order.append(s.key)
            }
        }
        // The same id can arise with different keys only through a sweep; ids carry the swept values (an
        // elided parameter at its default excepted, which is left out of the key as well),
        // so this holds by construction. Order is already topological within each variant.
        var seen = Set<String>()
        var stages: [Stage] = []
        for k in order where !seen.contains(byKey[k]!.id) {
            seen.insert(byKey[k]!.id)
            stages.append(byKey[k]!)
        }
        // A sweep's variants, side by side on one page.
        let reports = stages.filter { $0.kind == .report }
        if reports.count > 1 {
            var p: [String: Value] = ["spec.digest": .string(spec.digest), "compare.variants": .list(reports.map { .string($0.id) })]
            if let title = spec.block("report")?["title"] { p["report.title"] = title }
            var s = Stage(id: "compare", kind: .compare, layer: nil, name: nil, params: p, inputs: reports.map(\.id),
                          codeVersion: codeVersions[.compare] ?? 1, group: nil)
            s.key = StageKey.key(s, inputKeys: Dictionary(uniqueKeysWithValues: reports.map { ($0.id, $0.key) }))
            stages.append(s)
        }
        return StageGraph(specDigest: spec.digest, stages: stages)
    }

    /// The stages of one sweep variant, with ids, params, inputs and keys.
    func stages(_ spec: ResolvedSpec, model: ModelIdentity, variant: [String: Value]) throws -> [Stage] {
        var out: [Stage] = []
        var keys: [String: String] = [:]
        var tags: [String: [String: Value]] = [:]
        /// Base id (`sae[3]`) → id with the variant's sweep tag.
        var idOf: [String: String] = [:]

        func params(_ b: ResolvedBlock?, skip: Set<String> = []) -> [String: Value] {
            guard let b else { return [:] }
            let pre = Self.prefix(b)
            var d: [String: Value] = [:]
            for p in b.params where !skip.contains(p.name) {
                let value = variant["\(pre).\(p.name)"] ?? p.value
                // An elided parameter at its default is left out here too, so a sweep's default variant
                // shares its stages (and cache) with the spec that does not sweep it.
                if Schema.elidedDefault(block: b.kind, subKind: b.subKind, p.name) == value { continue }
                d["\(pre).\(p.name)"] = value
            }
            return d
        }
        let seed: [String: Value] = ["seed": variant["seed"] ?? .int(spec.seed)]

        func add(_ base: String, _ kind: StageKind, layer: Int? = nil, name: String? = nil, params: [String: Value],
                 inputs: [String], group: String? = nil) {
            var tag: [String: Value] = [:]
            for (k, v) in params where variant[k] != nil && spec.isSwept(k) { tag[k] = v }
            for i in inputs { tag.merge(tags[i] ?? [:]) { a, _ in a } }
            let id = tag.isEmpty ? base : base + "{" + tag.keys.sorted().map { "\($0)=\(tag[$0]!.canonical)" }.joined(separator: ",") + "}"
            var s = Stage(id: id, kind: kind, layer: layer, name: name, params: params,
                          inputs: inputs, codeVersion: codeVersions[kind] ?? 1, group: group)
            s.key = StageKey.key(s, inputKeys: keys)
            keys[id] = s.key
            tags[id] = tag
            idOf[base] = id
            out.append(s)
        }
        func ref(_ base: String) -> String { idOf[base] ?? base }

        // rollout: the task, the seed, and any agent that acts or generates behaviour
        let task = spec.task
        var rolloutParams = params(task).merging(seed) { a, _ in a }
        var usesLLM = true
        var generator: ResolvedBlock?   // Grid World's generating agent
        if let t = task {
            if let policy = t["policy"], policy.head != "llm" {
                usesLLM = false
                if policy.head == "agent", let n = policy.arguments.first?.symbolValue,
                   let a = spec.blocks("agent").first(where: { $0.name == n }) { rolloutParams.merge(params(a)) { a, _ in a } }
            }
            if t.subKind == "grid_world" {
                let gen = t["generator"]?.symbolValue
                generator = spec.blocks("agent").first { gen != nil ? $0.name == gen : $0.subKind == "q_learning" }
                if let generator { rolloutParams.merge(params(generator)) { a, _ in a } }
            }
        }
        // model: only when a stage runs the language model
        let wantsActivations = spec.block("sae") != nil || spec.block("correlate") != nil || spec.block("geometry") != nil
        if usesLLM || wantsActivations {
            var modelParams = params(spec.model)
            // A swept built-in model is pinned as an unswept one is, so it shares that spec's stages and cache.
            if modelParams["model.sha256"]?.stringValue == "", let w = modelParams["model.weights"]?.stringValue,
               let builtin = Schema.builtinModels.first(where: { $0.name == w }) {
                modelParams["model.sha256"] = .string(builtin.sha256)
            }
            modelParams["model.identity"] = .string(model.digest)
            add("model", .model, params: modelParams, inputs: [])
        }
        // activations[L]: recorded during the rollout when the language model plays (the rollout computes
        // every block of every token anyway), else by one pass per transcript. Either way the layers to
        // record are part of the rollout's key only in the first case.
        var layers: [Int] = []
        let activationsBlock = wantsActivations ? spec.block("activations") : nil
        // How plan errors name this variant's model.
        func modelName() -> String { Self.modelParams(spec, variant: variant)["model.weights"]?.stringValue ?? "the model" }
        if let a = activationsBlock {
            let v = variant["activations.layers"] ?? a["layers"] ?? .symbol("all")
            layers = v.symbolValue == "all" ? Array(0..<model.blocks) : (v.intList ?? [])
            if let bad = layers.first(where: { $0 >= model.blocks }) {
                throw PlanError.layerBeyondModel(layer: bad, blocks: model.blocks, model: modelName())
            }
            if usesLLM && !layers.isEmpty {
                rolloutParams.merge(params(a, skip: ["layers"])) { a, _ in a }
                rolloutParams["activations.record"] = .list(layers.map { .int($0) })
            }
        }
        add("rollout", .rollout, params: rolloutParams, inputs: usesLLM ? [ref("model")] : [])

        if let a = activationsBlock {
            let ap = params(a, skip: ["layers"])
            for l in layers {
                add("activations[\(l)]", .activations, layer: l, params: ap, inputs: [ref("model"), ref("rollout")], group: "activations")
            }
        }

        if let fit = spec.block("fit") {
            add("behaviour", .behaviour, params: params(fit), inputs: [ref("rollout")])
        }
        let agents = spec.blocks("agent")
        if !agents.isEmpty {
            var p: [String: Value] = [:]
            for a in agents { p.merge(params(a)) { a, _ in a } }
            let fitted = agents.contains { $0["params"]?.symbolValue == "fitted" } && spec.block("fit") != nil
            add("rl_variables", .rlVariables, params: p, inputs: [ref("rollout")] + (fitted ? [ref("behaviour")] : []))
        }
        if let sae = spec.block("sae") {
            for l in layers {
                add("sae[\(l)]", .sae, layer: l, params: params(sae).merging(seed) { a, _ in a }, inputs: [ref("activations[\(l)]")])
            }
        }
        if let c = spec.block("correlate"), spec.block("sae") != nil, !agents.isEmpty {
            for l in layers {
                add("correlate[\(l)]", .correlate, layer: l, params: params(c).merging(seed) { a, _ in a },
                    inputs: [ref("sae[\(l)]"), ref("activations[\(l)]"), ref("rl_variables")])
            }
        }
        let perLayer = { (kind: String) in layers.compactMap { idOf["\(kind)[\($0)]"] } }
        // A fixed `layer` of an intervention or the geometry must be recorded and exist in this variant's
        // model (the checker knows only the built-in models' depths).
        if activationsBlock != nil {
            for b in spec.blocks("intervene") + [spec.block("geometry")].compactMap({ $0 }) {
                let v = variant["\(Self.prefix(b)).layer"] ?? b["layer"]
                // A number names one block; a range or list is the pool `top(...)` picks from among the recorded ones.
                let fixed = v?.intValue.map { [$0] } ?? []
                let label = b.kind == "geometry" ? "geometry" : "intervene \(b.name)"
                if let bad = fixed.first(where: { $0 >= model.blocks }) {
                    throw PlanError.blockLayerBeyondModel(block: label, layer: bad, blocks: model.blocks, model: modelName())
                }
                if let bad = fixed.first(where: { !layers.contains($0) }) {
                    throw PlanError.blockLayerNotRecorded(block: label, layer: bad, recorded: layers)
                }
            }
        }
        for iv in spec.blocks("intervene") where spec.block("correlate") != nil {
            var p = params(iv).merging(seed) { a, _ in a }
            // `agent = ""` means the first agent block, in spec order, that provides the variable.
            let pre = Self.prefix(iv)
            if p["\(pre).agent"]?.stringValue == "" {
                let variable = ["layer", "latent", "control"].compactMap { p["\(pre).\($0)"]?.arguments.first?.symbolValue }.first ?? "td_error"
                if let a = agents.first(where: { a in Schema.variables.contains { $0.name == variable && $0.providedBy.contains(a.subKind ?? "") } }) {
                    p["\(pre).agent"] = .symbol(a.name)
                }
            }
            // The agent's parameters: its variables are recomputed along the intervened trajectories.
            if let name = p["\(pre).agent"]?.head, let a = agents.first(where: { $0.name == name }) { p.merge(params(a)) { a, _ in a } }
            // A Grid World re-run regenerates the intact trajectories: the generating agent, named.
            if let generator {
                p.merge(params(generator)) { a, _ in a }
                p["task.generator"] = .symbol(generator.name)
            }
            p.merge(params(task)) { a, _ in a }
            var inputs = [ref("model"), ref("rollout"), ref("rl_variables")] + perLayer("sae") + perLayer("correlate")
            if spec.block("fit") != nil { inputs.append(ref("behaviour")) }
            // A clamp relative to a latent's largest activation reads the activations it was trained on.
            if iv["edit"]?.head == "clamp_max" { inputs += perLayer("activations") }
            add("intervene[\(iv.name)]", .intervene, name: iv.name, params: p, inputs: inputs)
        }
        if let g = spec.block("geometry") {
            var inputs = [ref("rollout")] + perLayer("activations") + perLayer("sae") + perLayer("correlate")
            if let lesion = g["lesion"]?.symbolValue, idOf["intervene[\(lesion)]"] != nil { inputs.append(ref("intervene[\(lesion)]")) }
            var p = params(g).merging(seed) { a, _ in a }
            // The first SR agent: its M gives the reference dissimilarities for RSA.
            if let sr = agents.first(where: { $0.subKind == "sr" }) { p.merge(params(sr)) { a, _ in a } }
            add("geometry", .geometry, params: p, inputs: inputs)
        }
        var reportParams = params(spec.block("report"))
        // The model comparison's per-experiment NLLs are computed as the fit counted them.
        if let fit = spec.block("fit"), idOf["behaviour"] != nil { reportParams.merge(params(fit)) { a, _ in a } }
        if let s = spec.block("correlate")?["smooth"] { reportParams["correlate.smooth"] = variant["correlate.smooth"] ?? s }
        reportParams["spec.digest"] = .string(spec.digest)
        if idOf["model"] != nil { reportParams["model.identity"] = .string(model.digest) }
        add("report", .report, params: reportParams, inputs: out.map(\.id))
        return out
    }
}

extension ResolvedSpec {
    /// Whether a qualified parameter (`sae.beta`, `seed`) is swept.
    func isSwept(_ qualified: String) -> Bool {
        if let s = settings.first(where: { $0.name == qualified }) { return s.sweep != nil }
        for b in blocks {
            let pre = Planner.prefix(b)
            guard qualified.hasPrefix(pre + ".") else { continue }
            let name = String(qualified.dropFirst(pre.count + 1))
            if let p = b.param(name) { return p.sweep != nil }
        }
        return false
    }
}
