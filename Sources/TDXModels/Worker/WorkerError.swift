import TDXCore

/// Everything that can go wrong with an external model worker (DESIGN §7): it cannot be started, it dies,
/// hangs, breaks the protocol, or reports a failure of its own. Each error names the worker command and
/// the request (`op`) it concerns, and carries the last lines the worker wrote to stderr.
public struct WorkerError: UserError, Equatable {
    public enum Kind: Sendable, Equatable {
        case commandNotFound
        case launchFailed(String)
        /// The worker exited before it finished answering; `status` reads e.g. "exited with status 3".
        case exited(status: String)
        case timedOut(seconds: Double)
        /// The header line is not a JSON object with the fields the protocol requires.
        case malformed(String)
        /// The worker speaks another protocol version (nil: it did not say which).
        case protocolMismatch(worker: Int?)
        /// The worker's stdout ended after `received` of the `expected` payload bytes.
        case shortPayload(expected: Int, received: Int, status: String)
        case idMismatch(expected: Int, received: Int)
        /// The worker answered `ok: false`.
        case workerFailed(code: String, message: String, help: String)
        case writeFailed(String)
        /// An earlier error or `close()` stopped the worker.
        case notRunning
        /// The run was interrupted (Ctrl-C, SIGTERM) while waiting for an answer: the worker was stopped.
        case cancelled
        /// The request asks for something protocol v1 cannot express.
        case unsupported(String)
        /// The request is inconsistent (caught before anything is sent).
        case badRequest(String)
    }

    public var kind: Kind
    /// The worker's command line, shell-quoted.
    public var command: String
    /// The request concerned ("hello", "load", "tokenize", "sae", "forward", "close", or "start").
    public var op: String
    /// The last lines of the worker's stderr (at most `WorkerProcess.stderrLineLimit`).
    public var stderrTail: [String]

    public init(_ kind: Kind, command: String, op: String, stderrTail: [String] = []) {
        self.kind = kind; self.command = command; self.op = op; self.stderrTail = stderrTail
    }

    public var message: String {
        let w = "worker `\(command)`"
        switch kind {
        case .commandNotFound: return "the worker command `\(command)` was not found (searched PATH)"
        case .launchFailed(let why): return "could not start \(w): \(why)"
        case .exited(let status): return "\(w) \(status) before it finished answering `\(op)`"
        case .timedOut(let s): return "\(w) did not answer `\(op)` within \(Self.seconds(s)) and was stopped"
        case .malformed(let d): return "\(w) sent a malformed answer to `\(op)`: \(d)"
        case .protocolMismatch(let v):
            return "\(w) speaks worker protocol \(v.map(String.init) ?? "(unstated)"), but tdx speaks version \(WorkerProtocol.version)"
        case .shortPayload(let e, let r, let status):
            return "\(w) \(status) after sending \(r) of the \(e) payload bytes of its answer to `\(op)`"
        case .idMismatch(let e, let r): return "\(w) answered request \(e) (`\(op)`) with id \(r)"
        case .workerFailed(let code, let m, _): return "\(w) failed on `\(op)` (\(code)): \(m)"
        case .writeFailed(let why): return "could not send `\(op)` to \(w): \(why)"
        case .notRunning: return "\(w) is no longer running, so `\(op)` cannot be sent"
        case .cancelled: return "stopped \(w) while it was answering `\(op)`: the run was interrupted"
        case .unsupported(let d): return "\(w) cannot do `\(op)`: \(d)"
        case .badRequest(let d): return "invalid `\(op)` request for \(w): \(d)"
        }
    }

    public var help: String? {
        switch kind {
        case .commandNotFound:
            return "install the worker or give its full path (the `worker` setting of the spec), then try `\(command)` by hand"
        case .launchFailed:
            return "run the command by hand to see why it does not start: \(command)"
        case .timedOut:
            return "if the model is merely slow, raise TDX_WORKER_TIMEOUT (seconds); otherwise " + stderrAdvice
        case .malformed:
            return "a worker must write only protocol lines to stdout (logs belong on stderr); " + stderrAdvice
        case .protocolMismatch:
            return "use a worker that speaks tdx worker protocol \(WorkerProtocol.version) (see Sources/TDXModels/Worker/PROTOCOL.md)"
        case .idMismatch:
            return "a worker must answer each request exactly once, in order, echoing its id; " + stderrAdvice
        case .workerFailed(_, _, let h):
            return h.isEmpty ? stderrAdvice : h
        case .notRunning:
            return "an earlier error stopped the worker; fix that error and run again"
        case .cancelled:
            return "run again to resume: finished stages and saved batches are kept"
        case .unsupported, .badRequest:
            return "this is a bug in the caller: report it with the spec that caused it"
        case .exited, .shortPayload, .writeFailed:
            return stderrAdvice
        }
    }

    /// "check the worker's stderr, which ended with: …" or, with no stderr, "run the command by hand: …".
    var stderrAdvice: String {
        let tail = stderrTail.suffix(8)
        if tail.isEmpty { return "run the command by hand to see what it does: \(command)" }
        return "check the worker's stderr, which ended with:\n" + tail.map { "    | " + $0 }.joined(separator: "\n")
    }

    static func seconds(_ s: Double) -> String {
        s == s.rounded() ? "\(Int(s)) s" : "\(s) s"
    }
}
