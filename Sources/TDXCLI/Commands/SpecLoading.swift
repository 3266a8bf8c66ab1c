import Foundation
import TDXCore
import TDXEngine
import TDXLang

/// Checks spec files and renders their diagnostics the one way every command does.
enum SpecLoading {
    /// Reads and checks `path`; on errors prints them (text or JSON) and throws `SpecInvalid`.
    static func load(_ path: String, io: CommandIO, json: Bool = false) throws -> (ResolvedSpec, CheckResult) {
        let result = check(path)
        if result.hasErrors {
            report(result, io: io, json: json)
            throw SpecInvalid()
        }
        return (result.spec!, result)
    }

    /// The language's checks, then the task and model libraries' own.
    static func check(_ path: String) -> CheckResult {
        var result = Frontend.check(path: path)
        if let spec = result.spec {
            let more = SpecValidation.diagnostics(spec)
            if !more.isEmpty { result.diagnostics += more; result.spec = nil }
        }
        return result
    }

    static func report(_ result: CheckResult, io: CommandIO, json: Bool) {
        let r = DiagnosticRenderer(sources: result.sources, color: io.isTTY && !json)
        if json { io.out(r.json(result.diagnostics) + "\n") } else if !result.diagnostics.isEmpty { io.err(r.render(result.diagnostics)) }
    }
}

/// Thrown after a spec's diagnostics were already printed: exit 1 with nothing more to say.
struct SpecInvalid: Error {}
