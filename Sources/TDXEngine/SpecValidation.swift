import Foundation
import TDXLang
import TDXRL
import TDXTasks

/// Checks a resolved spec against the task and model libraries' own validation (template placeholders,
/// label sets, graph shape, parameter bounds), so `tdx check` catches what only they know.
public enum SpecValidation {
    public static func diagnostics(_ spec: ResolvedSpec) -> [Diagnostic] {
        var out: [Diagnostic] = []
        func report(_ problems: [String], _ b: ResolvedBlock) {
            for p in problems {
                // Point at the parameter the library names, when the spec wrote it.
                let text = p.replacingOccurrences(of: "prompt.", with: "prompt_")
                let param = b.params.filter { !$0.isDefault && text.contains($0.name) }.max { $0.name.count < $1.name.count }
                let at = param?.range ?? (b.range.isNone ? SourceRange(file: 0, start: 0, end: 0) : b.range)
                out.append(Diagnostic(.invalid(key: param?.name ?? b.name, reason: p, help: "fix this value in the `\(b.kind)` block"), at: at))
            }
        }
        let values = Dictionary(spec.blocks.flatMap { b in
            b.params.map { ("\(b.kind == "agent" ? "agent.\(b.name)" : b.kind).\($0.name)", $0.value) }
        }) { a, _ in a }
        if let t = spec.task {
            let p = Params(values, prefix: "task")
            switch t.subKind {
            case "two_step": report(SpecConfigs.twoStep(p).validate(), t)
            case "grid_world": report(SpecConfigs.gridWorld(p, agent: nil).validate(), t)
            case "graph": report(SpecConfigs.graph(p).validate(), t)
            default: break
            }
        }
        for a in spec.blocks("agent") {
            let p = Params(values, prefix: "agent.\(a.name)")
            if a.subKind == "sr" || a.subKind == "transition" { report(SpecConfigs.sr(p).validate(), a) } else { report(SpecConfigs.agent(p).validate(), a) }
        }
        if let f = spec.block("fit") { report(SpecConfigs.fit(Params(values, prefix: "fit")).validate(), f) }
        return out
    }
}
