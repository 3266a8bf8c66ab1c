import TDXCore

public enum ExecutorError: UserError, Equatable {
    case interrupted
    case noBody(kind: String)
    case missingInput(stage: String, input: String)
    case stageFailed(stage: String, message: String)

    public var message: String {
        switch self {
        case .interrupted: "interrupted: finished stages are cached; run again to resume"
        case .noBody(let k): "no implementation for stage kind `\(k)` in this version of tdx"
        case .missingInput(let s, let i): "stage \(s) reads \(i), which is not in the plan"
        case .stageFailed(let s, let m): "stage \(s) failed: \(m)"
        }
    }
    public var help: String? {
        switch self {
        case .interrupted: nil
        case .noBody: "run the stages that exist with `--until`, or upgrade tdx"
        case .missingInput: "this is a planner bug; please report it"
        case .stageFailed: "nothing of this stage was cached; fix the cause and run again (finished stages are reused)"
        }
    }
}
