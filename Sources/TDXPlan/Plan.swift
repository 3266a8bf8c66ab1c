import TDXCore
import TDXLang

/// What the planner needs to know about the cache: pure questions, no SQLite here.
public protocol CacheView {
    func isCached(key: String) -> Bool
    /// The last result recorded for this stage id of this spec, to explain why a stage must re-run.
    func previous(specPath: String, stageID: String) -> PreviousStage?
}

public struct PreviousStage: Sendable, Equatable {
    public var key: String
    public var codeVersion: Int
    /// Canonical text of each parameter it read.
    public var params: [String: String]
    /// Input stage id → key.
    public var inputs: [String: String]
    public init(key: String, codeVersion: Int, params: [String: String], inputs: [String: String]) {
        self.key = key; self.codeVersion = codeVersion; self.params = params; self.inputs = inputs
    }
}

public enum StageStatus: String, Sendable, Codable { case cached, run, skip }

public struct PlannedStage: Sendable, Equatable {
    public var stage: Stage
    public var status: StageStatus
    public var reason: String
    /// `--force`d: computed and stored over its cached result.
    public var forced = false
}

/// The stage graph with each stage's status and the reason it must run: `tdx plan`'s answer.
public struct Plan: Sendable, Equatable {
    public var graph: StageGraph
    public var stages: [PlannedStage]

    public var toRun: [PlannedStage] { stages.filter { $0.status == .run } }
    public var cachedCount: Int { stages.filter { $0.status == .cached }.count }

    /// Options that narrow or force a run, as `tdx run` and `tdx plan` take them.
    public struct Options: Sendable {
        public var only: [String] = []
        public var until: [String] = []
        public var force: [String] = []
        public init(only: [String] = [], until: [String] = [], force: [String] = []) {
            self.only = only; self.until = until; self.force = force
        }
    }

    /// Stage ids matching a user pattern: an exact id, a kind (`sae` = every `sae[…]`), or `sae[*]`.
    public static func match(_ pattern: String, in graph: StageGraph) -> [String] {
        let p = pattern.hasSuffix("[*]") ? String(pattern.dropLast(3)) : pattern
        return graph.stages.filter { s in
            s.id == pattern || s.kind.rawValue == p || s.id.hasPrefix(p + "[") || s.id.hasPrefix(p + "{")
        }.map(\.id)
    }

    public init(graph: StageGraph, cache: CacheView, specPath: String, options: Options = Options()) throws {
        self.graph = graph
        func resolve(_ patterns: [String]) throws -> Set<String> {
            var out = Set<String>()
            for pat in patterns {
                let m = Plan.match(pat, in: graph)
                if m.isEmpty {
                    throw UsageError("no stage matches `\(pat)`",
                                     help: Suggest.closest(to: pat, in: graph.stages.map(\.id)).map { "did you mean `\($0)`?" }
                                        ?? "stages: \(graph.stages.prefix(8).map(\.id).joined(separator: ", "))…")
                }
                out.formUnion(m)
            }
            return out
        }
        // A forced stage's dependants are forced too: their keys do not see a recomputed output.
        let forced = try resolve(options.force).reduce(into: Set<String>()) { $0.formUnion(graph.descendants(of: $1)) }
        let only = try resolve(options.only)
        let until = try resolve(options.until)

        // Targets: --only stages, or --until stages and their ancestors, or everything.
        var targets = Set(graph.stages.map(\.id))
        if !only.isEmpty { targets = only }
        if !until.isEmpty { targets = until.reduce(into: Set<String>()) { $0.formUnion(graph.ancestors(of: $1)) } }

        // Walk back from the targets: a stage runs if it is forced or not cached; its inputs are
        // needed only when it runs (a cached result does not need its inputs recomputed).
        var needed = Set<String>()
        var work = Array(targets)
        var runs = Set<String>()
        let byID = Dictionary(uniqueKeysWithValues: graph.stages.map { ($0.id, $0) })
        while let id = work.popLast() {
            guard !needed.contains(id), let s = byID[id] else { continue }
            needed.insert(id)
            if forced.contains(id) || !cache.isCached(key: s.key) {
                runs.insert(id)
                if only.isEmpty { work.append(contentsOf: s.inputs) }
            }
        }
        // `--only` computes none of its stages' inputs: refuse before anything runs rather than fail inside a stage.
        if !only.isEmpty {
            let missing = graph.stages.filter { s in
                !runs.contains(s.id) && !cache.isCached(key: s.key) && runs.contains { byID[$0]?.inputs.contains(s.id) ?? false }
            }.map(\.id)
            if !missing.isEmpty {
                let wanting = graph.stages.filter { runs.contains($0.id) && $0.inputs.contains(where: missing.contains) }.map(\.id)
                throw UsageError("`--only` runs \(Plan.list(wanting)) without computing \(Plan.list(missing)), which "
                                 + (missing.count == 1 ? "is" : "are") + " not cached",
                                 help: "use `--until` in place of `--only` to compute them first")
            }
        }
        stages = graph.stages.map { s in
            if runs.contains(s.id) {
                let reason = forced.contains(s.id) ? "forced" : Plan.reason(s, graph: graph, cache: cache, specPath: specPath)
                return PlannedStage(stage: s, status: .run, reason: reason, forced: forced.contains(s.id))
            }
            if cache.isCached(key: s.key) { return PlannedStage(stage: s, status: .cached, reason: "cached") }
            return PlannedStage(stage: s, status: .skip, reason: "not needed for this run")
        }
    }

    /// `a`, `a` and `b`, or `a`, `b` and 3 more: stage ids in a sentence.
    static func list(_ ids: [String]) -> String {
        let q = ids.map { "`\($0)`" }
        switch q.count {
        case 0: return ""
        case 1: return q[0]
        case 2, 3: return q.dropLast().joined(separator: ", ") + " and " + q.last!
        default: return q.prefix(2).joined(separator: ", ") + " and \(q.count - 2) more"
        }
    }

    /// Why a stage that is not cached must run, compared with the last result of the same stage id.
    static func reason(_ s: Stage, graph: StageGraph, cache: CacheView, specPath: String) -> String {
        guard let prev = cache.previous(specPath: specPath, stageID: s.id) else { return "new" }
        if prev.codeVersion != s.codeVersion { return "code version \(prev.codeVersion) → \(s.codeVersion)" }
        var changes: [String] = []
        var specChanged = false
        for k in Set(prev.params.keys).union(s.params.keys).sorted() {
            let old = prev.params[k], new = s.params[k]?.canonical
            guard old != new else { continue }
            // The report reads the spec digest only to print it: say so plainly.
            if k == "spec.digest" { specChanged = true; continue }
            changes.append("param \(k) \(short(old)) → \(short(new))")
        }
        if specChanged && changes.isEmpty { changes.append("spec changed (digest \(short(s.params["spec.digest"]?.canonical)))") }
        if !changes.isEmpty { return changes.count == 1 ? changes[0] : "\(changes[0]) (+\(changes.count - 1) more)" }
        for i in s.inputs.sorted() {
            if let old = prev.inputs[i], let now = graph[id: i]?.key, old != now { return "input \(i) changed" }
            if prev.inputs[i] == nil { return "input \(i) is new" }
        }
        return "not in cache"
    }

    static func short(_ v: String?) -> String {
        guard let v else { return "(none)" }
        guard v.count > 40 else { return v }
        // A quoted string keeps its closing quote, so `"b179…"` still reads as one value.
        return v.hasPrefix("\"") && v.hasSuffix("\"") ? String(v.prefix(36)) + "…\"" : String(v.prefix(37)) + "…"
    }
}
