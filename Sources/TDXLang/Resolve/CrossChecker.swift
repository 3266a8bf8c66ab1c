import TDXCore

// Checks that involve more than one parameter or block: references, task/agent compatibility,
// layers within the model's depth, graph validity. Runs on the resolved spec so every default is known.

struct CrossChecker {
    var spec: ResolvedSpec
    let sources: SourceManager
    var diagnostics = DiagnosticBag()
    /// Whether the source has a `task` block, even one that did not resolve (its error is already reported).
    var taskWritten = false

    init(spec: ResolvedSpec, sources: SourceManager) { self.spec = spec; self.sources = sources }

    /// The span of `word` inside `range` (as a whole identifier), so a caret lands on the bad name.
    private func narrow(_ range: SourceRange, to word: String) -> SourceRange {
        guard let f = sources[range.file] else { return range }
        let w = Array(word.utf8)
        let b = f.bytes
        var i = range.start
        while i + w.count <= min(range.end, b.count) {
            if b[i..<(i + w.count)].elementsEqual(w) {
                let before = i == range.start || !isWordByte(b[i - 1])
                let after = i + w.count >= b.count || !isWordByte(b[i + w.count])
                if before && after { return SourceRange(file: range.file, start: i, end: i + w.count) }
            }
            i += 1
        }
        return range
    }

    private func isWordByte(_ c: UInt8) -> Bool { c == 95 || c >= 128 || (c >= 48 && c <= 57) || (c | 32 >= 97 && c | 32 <= 122) }

    private mutating func fail(_ kind: DiagnosticKind, _ block: ResolvedBlock, _ param: String?) {
        let at = param.flatMap { block.param($0) }.map(\.range).flatMap { $0.isNone ? nil : $0 } ?? block.range
        diagnostics.error(kind, at: at)
    }

    mutating func run() {
        pinModel()
        guard let task = spec.task else {
            if taskWritten { return }   // a misspelt kind: said once, where it is written
            if let first = spec.blocks.first(where: { !$0.isImplicit }) {
                diagnostics.error(.missingBlock("task", neededBy: "a spec"), at: first.range)
            } else {
                diagnostics.error(.missingBlock("task", neededBy: "a spec"), at: SourceRange(file: 0, start: 0, end: 0))
            }
            return
        }
        let taskKind = task.subKind ?? "two_step"
        checkTask(task, taskKind)
        checkAgents(taskKind)
        checkReferences(taskKind)
        checkLayers()
        checkNeeds()
    }

    /// Built-in model names get their known SHA-256, so the resolved spec pins the exact weights.
    private mutating func pinModel() {
        guard let i = spec.blocks.firstIndex(where: { $0.kind == "model" }) else { return }
        let m = spec.blocks[i]
        let weights = m["weights"]?.stringValue ?? ""
        if m.param("weights")?.sweep != nil {
            // Each variant's model is pinned by its own digest (the built-in's, or its file's) in the keys.
            if !(m["sha256"]?.stringValue ?? "").isEmpty {
                fail(.invalid(key: "sha256", reason: "pins one file, but `weights` names several models",
                              help: "remove `sha256`: each model's SHA-256 is in its stage keys and its report"), m, "sha256")
            }
            return
        }
        if m.param("weights") != nil && weights.trimmingCharacters(in: .whitespaces).isEmpty {
            fail(.invalid(key: "weights", reason: "names no model",
                          help: "give a built-in model (`\(Schema.builtinModels.first?.name ?? "smollm2-135m")`) or the path of a GGUF or safetensors file"),
                 m, "weights")
            return
        }
        // In process, a bare name is a built-in model; a file is given by its path (`…/model.gguf`).
        let builtin = Schema.builtinModels.first { $0.name == weights }
        let local = (m["backend"]?.symbolValue ?? "local") == "local"
        if local && builtin == nil && !weights.contains("/") && !weights.hasSuffix(".gguf") && !weights.hasSuffix(".safetensors") {
            let names = Schema.builtinModels.map(\.name)
            let guess = Suggest.closest(to: weights.lowercased(), in: names) ?? names.first ?? ""
            fail(.invalid(key: "weights", reason: "`\(weights)` is not a built-in model (\(names.map { "`\($0)`" }.joined(separator: ", ")))",
                          help: "did you mean `\(guess)`? A weights file is given by its path, e.g. `./model.gguf`"), m, "weights")
            return
        }
        guard let builtin, let j = m.params.firstIndex(where: { $0.name == "sha256" }) else { return }
        let given = m.params[j].value.stringValue ?? ""
        if given.isEmpty {
            spec.blocks[i].params[j].value = .string(builtin.sha256)
        } else if given.lowercased() != builtin.sha256 {
            fail(.invalid(key: "sha256", reason: "does not match the built-in `\(weights)` (\(builtin.sha256.prefix(12))…)",
                          help: "remove `sha256` to use the built-in model's digest, or point `weights` at your own file"), m, "sha256")
        }
        if m["backend"]?.symbolValue == "worker" && (m["command"]?.listValue ?? []).isEmpty {
            fail(.invalid(key: "command", reason: "backend = worker needs a command",
                          help: "set `command = [\"python3\", \"worker.py\"]`"), m, "backend")
        }
    }

    private mutating func checkTask(_ t: ResolvedBlock, _ kind: String) {
        if kind == "two_step", let e = t["episodes"]?.intValue, let r = t["random_episodes"]?.intValue, r > e {
            fail(.outOfRange(key: "random_episodes", value: String(r), allowed: "≤ episodes (\(e))"), t, "random_episodes")
        }
        if kind == "grid_world", let g = t["goal"], g.head == "cell", let size = t["size"]?.intValue {
            for v in g.arguments.compactMap(\.intValue) where v >= size {
                fail(.outOfRange(key: "goal", value: g.canonical, allowed: "inside the \(size)×\(size) grid (0…\(size - 1))"), t, "goal")
                break
            }
        }
        guard kind == "graph" else { return }
        var nodeCount = 15
        if let g = t["graph"], g.head == "edges" {
            let pairs = g.arguments.first?.listValue ?? []
            var degree: [Int: Int] = [:]
            var ok = true
            for p in pairs {
                guard let ab = p.intList, ab.count == 2, ab[0] != ab[1] else {
                    fail(.invalid(key: "graph", reason: "each edge must be a pair of two different nodes, found \(p.canonical)",
                                  help: "write edges as `edges([[0, 1], [1, 2], …])`"), t, "graph")
                    ok = false
                    break
                }
                degree[ab[0], default: 0] += 1
                degree[ab[1], default: 0] += 1
            }
            if ok {
                nodeCount = (degree.keys.max() ?? -1) + 1
                if let isolated = (0..<nodeCount).first(where: { degree[$0] == nil }) {
                    fail(.invalid(key: "graph", reason: "node \(isolated) has no edges (nodes are numbered 0…\(nodeCount - 1))",
                                  help: "connect every node, or renumber the nodes without gaps"), t, "graph")
                } else if nodeCount < 2 {
                    fail(.invalid(key: "graph", reason: "a graph needs at least two nodes", help: "add edges"), t, "graph")
                }
            }
        }
        if let names = t["names"]?.listValue {
            let strings = names.compactMap(\.stringValue)
            if strings.count < nodeCount {
                fail(.invalid(key: "names", reason: "\(strings.count) names for \(nodeCount) nodes",
                              help: "give at least one name per node, or use `names = things`"), t, "names")
            } else if Set(strings).count != strings.count {
                fail(.invalid(key: "names", reason: "names must be distinct", help: "remove the repeated names"), t, "names")
            }
        }
    }

    private mutating func checkAgents(_ taskKind: String) {
        for a in spec.blocks("agent") {
            let k = a.subKind ?? "q_learning"
            if k == "readout" || k == "clock" { continue }   // the model's read-out and the step index exist in every task
            let graphOnly = ["sr", "transition"].contains(k)
            if graphOnly != (taskKind == "graph") {
                fail(.invalid(key: "kind", reason: "agent kind `\(k)` does not fit a `\(taskKind)` task",
                              help: taskKind == "graph" ? "graph tasks have no rewards: use `sr` or `transition` agents"
                                                        : "`sr` and `transition` agents belong to graph tasks"), a, "kind")
            }
        }
    }

    private func agentNames() -> [String] { spec.blocks("agent").map(\.name) }

    private mutating func checkRef(_ v: Value?, kind: String, in b: ResolvedBlock, param: String) {
        guard let v else { return }
        let names = spec.blocks(kind).map(\.name)
        let refs: [String]
        switch v {
        case .symbol(let s): refs = [s]
        case .list(let xs): refs = xs.compactMap(\.symbolValue)
        case .call(_, let args): refs = args.compactMap(\.symbolValue)
        default: refs = []
        }
        for r in refs where !names.contains(r) {
            let kind = DiagnosticKind.undefinedName(r, suggestion: Suggest.closest(to: r, in: names))
            if let p = b.param(param), !p.isDefault { diagnostics.error(kind, at: narrow(p.range, to: r)) } else { fail(kind, b, param) }
        }
    }

    private mutating func checkReferences(_ taskKind: String) {
        if let t = spec.task {
            if let p = t["policy"], p.head == "agent" { checkRef(p, kind: "agent", in: t, param: "policy") }
            checkRef(t["generator"], kind: "agent", in: t, param: "generator")
            // Only behavioural models choose actions.
            for (key, name) in [("policy", t["policy"].flatMap { $0.head == "agent" ? $0.arguments.first?.symbolValue : nil }),
                                ("generator", t["generator"]?.symbolValue)] {
                guard let name, let a = spec.blocks("agent").first(where: { $0.name == name }),
                      let k = a.subKind, !Schema.fitModels.contains(k) else { continue }
                fail(.invalid(key: key, reason: "agent `\(name)` (kind `\(k)`) cannot choose actions",
                              help: "name a behavioural agent (\(Schema.fitModels.joined(separator: ", ")))"), t, key)
            }
        }
        let provided = Set(spec.blocks("agent").flatMap { a in
            Schema.variables.filter { $0.providedBy.contains(a.subKind ?? "") }.map(\.name)
        })
        if let c = spec.block("correlate") {
            checkRef(c["agents"], kind: "agent", in: c, param: "agents")
            for key in ["with", "partial"] {
                // Every value of a sweep (`partial in [[], [reward]]`), not only the first.
                let values = c.param(key)?.sweep ?? [c[key]].compactMap { $0 }
                var seen = Set<String>()
                for v in values.flatMap({ $0.listValue?.compactMap(\.symbolValue) ?? [] }) where seen.insert(v).inserted && !provided.contains(v) {
                    let who = Schema.variables.first { $0.name == v }?.providedBy ?? []
                    fail(.invalid(key: key, reason: "no agent block provides `\(v)`",
                                  help: "add an agent of kind \(who.map { "`\($0)`" }.joined(separator: " or "))"), c, key)
                }
            }
        }
        let correlated = Set(spec.block("correlate")?["with"]?.listValue?.compactMap(\.symbolValue) ?? [])
        for b in spec.blocks("intervene") + spec.blocks("geometry") {
            for key in ["layer", "latent", "control"] {
                guard let v = b[key], let head = v.head, ["peak", "top", "lowest", "above"].contains(head),
                      let variable = v.arguments.first?.symbolValue else { continue }
                if !correlated.contains(variable) {
                    fail(.invalid(key: key, reason: "`\(v.canonical)` needs `\(variable)` in the correlate block's `with`",
                                  help: "add `\(variable)` to `correlate { with = [...] }`"), b, key)
                }
            }
            checkRef(b["agent"], kind: "agent", in: b, param: "agent")
            checkRef(b["lesion"], kind: "intervene", in: b, param: "lesion")
        }
        for b in spec.blocks("intervene") {
            // Several blocks are a pool for `top(variable, n)`; a latent index belongs to one block.
            guard let layer = b["layer"], layer.intValue == nil, layer.head != "peak", layer.intList?.count != 1 else { continue }
            if b["latent"]?.intValue != nil {
                fail(.invalid(key: "latent", reason: "a latent index names a latent of one block, but `layer` names several",
                              help: "give `layer` as one block number, or pick latents with `latent = top(variable, n)` or `above(variable, r)`"), b, "latent")
            }
        }
        if let f = spec.block("fit"), taskKind != "two_step" {
            // In the prediction tasks the rollout's choices are the generating agent's (or the walk's), not
            // the model's: fitting them would silently describe the wrong behaviour.
            fail(.invalid(key: "fit", reason: "`fit` fits models to the choices of a task the model plays; in `\(taskKind)` the model predicts, so the choices are not its own",
                          help: "remove the fit block (fitting models to the model's predictions is not supported yet)"), f, nil)
        }
        if let g = spec.block("geometry"), taskKind != "graph" {
            fail(.invalid(key: "geometry", reason: "geometry compares node representations of a graph task",
                          help: "remove the geometry block, or use `task graph`"), g, nil)
        }
    }

    private mutating func checkLayers() {
        // Under a `weights` sweep every built-in model named must have the layers (the planner checks files).
        let named = (spec.model?.param("weights")?.values ?? []).compactMap(\.stringValue)
        guard let builtin = named.compactMap({ w in Schema.builtinModels.first { $0.name == w } }).min(by: { $0.blocks < $1.blocks })
        else { return }
        let depth = builtin.blocks, weights = builtin.name
        if let a = spec.block("activations"), let layers = a["layers"]?.intList {
            for l in layers where l >= depth {
                fail(.layerOutOfRange(layer: l, depth: depth, model: weights), a, "layers")
                break
            }
        }
        for b in spec.blocks("intervene") + spec.blocks("geometry") {
            if let l = b["layer"]?.intList?.first(where: { $0 >= depth }) { fail(.layerOutOfRange(layer: l, depth: depth, model: weights), b, "layer") }
        }
    }

    private mutating func checkNeeds() {
        let needs: [(String, String)] = [("correlate", "sae"), ("intervene", "correlate"), ("correlate", "agent")]
        for (user, needed) in needs {
            if let u = spec.blocks(user).first, spec.blocks(needed).isEmpty {
                diagnostics.error(.missingBlock(needed, neededBy: user), at: u.range.isNone ? SourceRange(file: 0, start: 0, end: 0) : u.range)
            }
        }
    }
}
