#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A worker child process speaking tdx worker protocol v1 over its stdin/stdout (PROTOCOL.md). Sends one
/// request at a time and reads exactly one response, with a deadline; keeps the last lines of its stderr
/// for error messages. Any failure that leaves the stream out of step (death, hang, garbage, a wrong id)
/// stops the child and makes later requests fail with `notRunning`; an `ok: false` answer does not.
public final class WorkerProcess: @unchecked Sendable {
    /// Seconds to wait for one response.
    public struct Timeouts: Sendable, Equatable {
        public var load: Double
        /// Every other request.
        public var request: Double
        /// After `close` is answered, how long the child may take to exit before it is terminated.
        public var exit: Double

        public init(load: Double = 600, request: Double = 300, exit: Double = 2) {
            self.load = load; self.request = request; self.exit = exit
        }

        /// The defaults, or TDX_WORKER_TIMEOUT seconds for every request when that is set.
        public static func standard(environment: [String: String] = ProcessInfo.processInfo.environment) -> Timeouts {
            var t = Timeouts()
            if let s = environment["TDX_WORKER_TIMEOUT"], let v = Double(s), v > 0 { t.load = v; t.request = v }
            return t
        }

        func seconds(for op: String) -> Double { op == WorkerLoadRequest.opName ? load : request }
    }

    /// A response: the checked header line and its payload.
    public struct Reply: Sendable {
        public var header: Data
        public var payload: WorkerPayload
        public var op: String
    }

    public static let stderrLineLimit = 40
    /// Longest wait, in seconds, between looks at `cancelled`.
    static let cancelPoll = 0.25
    /// A header line longer than this is taken for garbage.
    static let headerLimit = 64 << 20

    public let argv: [String]
    /// `argv` shell-quoted, for messages.
    public let commandLine: String
    public let timeouts: Timeouts
    /// Polled while waiting for an answer: when it turns true the worker is stopped and the request fails
    /// with `cancelled`, so Ctrl-C does not wait out a timeout and leaves no worker behind.
    let cancelled: @Sendable () -> Bool
    public private(set) var pid: pid_t = 0

    private let lock = NSLock()
    private var stdinFD: Int32 = -1, stdoutFD: Int32 = -1, stderrFD: Int32 = -1
    private var running = false
    private var nextID = 1
    private var stdoutBuffer: [UInt8] = []
    private var stderrLines: [String] = []
    private var stderrPartial: [UInt8] = []

    /// Starts `argv[0]` (looked up on PATH like `/usr/bin/env` does) with `argv[1...]`, in `environment`
    /// (nil: this process's).
    public init(argv: [String], environment: [String: String]? = nil, timeouts: Timeouts = .standard(),
                cancelled: @escaping @Sendable () -> Bool = { false }) throws(WorkerError) {
        self.argv = argv
        self.commandLine = Self.shellQuoted(argv)
        self.timeouts = timeouts
        self.cancelled = cancelled
        let pathVar = (environment ?? ProcessInfo.processInfo.environment)["PATH"]
        guard let name = argv.first, let exe = Self.resolveExecutable(name, path: pathVar) else {
            throw WorkerError(.commandNotFound, command: commandLine, op: "start")
        }
        do throws(SpawnFailure) {
            let c = try Self.spawn(executable: exe, argv: argv, environment: environment)
            pid = c.pid; stdinFD = c.stdin; stdoutFD = c.stdout; stderrFD = c.stderr
            running = true
        } catch {
            throw WorkerError(.launchFailed(String(cString: strerror(error.errno))), command: commandLine, op: "start")
        }
    }

    deinit {
        guard running else { return }
        // Without `close()`: end its stdin (a worker exits on EOF), give it a moment, then kill and reap.
        closeFD(stdinFD); stdinFD = -1
        _ = stop(grace: 0.5)
    }

    public var isRunning: Bool { lock.withLock { running } }

    /// The last lines the worker wrote to stderr (an unfinished last line included).
    public var stderrTail: [String] { lock.withLock { tail() } }

    /// Sends a request (its id is assigned here) and returns the response once it has been read whole.
    /// An `ok: false` answer throws `workerFailed` (or `protocolMismatch` for `unsupported_protocol`).
    public func send<H: WorkerRequestHeader>(_ request: H, payload: WorkerPayload = WorkerPayload(),
                                             timeout: Double? = nil) throws(WorkerError) -> Reply {
        lock.lock()
        defer { lock.unlock() }
        var r = request
        r.id = nextID
        nextID += 1
        let frame: WorkerFrame
        do { frame = try WorkerFrame(encoding: r, payload: payload) } catch {
            throw WorkerError(.badRequest("cannot encode the header (\(error))"), command: commandLine, op: H.opName)
        }
        let (obj, line, body) = try exchange(op: H.opName, id: r.id, bytes: frame.bytes,
                                             timeout: timeout ?? timeouts.seconds(for: H.opName))
        if obj["ok"] as? Bool == false {
            let env: WorkerEnvelope
            do throws(WorkerFrame.Problem) { env = try WorkerFrame.decode(WorkerEnvelope.self, from: line) } catch {
                throw WorkerError(.malformed(error.description), command: commandLine, op: H.opName, stderrTail: tail())
            }
            guard let f = env.error else {
                throw WorkerError(.malformed("an \"ok\": false answer has no \"error\" object"),
                                  command: commandLine, op: H.opName, stderrTail: tail())
            }
            if f.code == "unsupported_protocol" {
                closeFD(stdinFD); stdinFD = -1
                _ = stop(grace: timeouts.exit)
                throw WorkerError(.protocolMismatch(worker: obj["protocol"].flatMap(WorkerFrame.integer)),
                                  command: commandLine, op: H.opName, stderrTail: tail())
            }
            throw WorkerError(.workerFailed(code: f.code, message: f.message, help: f.help ?? ""),
                              command: commandLine, op: H.opName, stderrTail: tail())
        }
        return Reply(header: line, payload: WorkerPayload(bytes: body), op: H.opName)
    }

    /// Decodes a reply's header as `T`; a missing or mistyped field is a `malformed` error.
    public func decode<T: Decodable>(_ type: T.Type, from reply: Reply) throws(WorkerError) -> T {
        do throws(WorkerFrame.Problem) { return try WorkerFrame.decode(T.self, from: reply.header) } catch {
            throw malformed(error.description, op: reply.op)
        }
    }

    /// A `malformed` error about an answer to `op` (also for callers that find a decoded answer inconsistent).
    public func malformed(_ detail: String, op: String) -> WorkerError {
        WorkerError(.malformed(detail), command: commandLine, op: op, stderrTail: stderrTail)
    }

    /// Sends `close`, waits `timeouts.exit` for the child to exit, then terminates it. Never throws; safe to repeat.
    public func close() {
        guard isRunning else { return }
        _ = try? send(WorkerCloseRequest(), timeout: min(timeouts.request, 10))
        lock.withLock {
            guard running else { return }
            closeFD(stdinFD); stdinFD = -1
            _ = stop(grace: timeouts.exit)
        }
    }

    // MARK: exchange

    /// Writes `bytes` and reads one response (header object, header line, payload), all before the deadline.
    private func exchange(op: String, id: Int, bytes: [UInt8], timeout: Double) throws(WorkerError)
        -> ([String: Any], Data, [UInt8]) {
        guard running else { throw WorkerError(.notRunning, command: commandLine, op: op, stderrTail: tail()) }
        let deadline = Self.now() + timeout
        var written = 0, stdinBroken = false, stdoutEOF = false
        var header: (obj: [String: Any], end: Int, payload: Int)?
        func fail(_ kind: WorkerError.Kind) -> WorkerError {
            _ = stop(grace: 0)
            return WorkerError(kind, command: commandLine, op: op, stderrTail: tail())
        }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            if header == nil, let nl = stdoutBuffer.firstIndex(of: 0x0A) {
                let line = Data(stdoutBuffer[0..<nl])
                let obj: [String: Any]
                do throws(WorkerFrame.Problem) { obj = try WorkerFrame.object(ofHeader: line, response: true) } catch { throw fail(.malformed(error.description)) }
                let got = WorkerFrame.id(of: obj)
                guard got == id else { throw fail(.idMismatch(expected: id, received: got)) }
                if op == WorkerHelloRequest.opName, obj["ok"] as? Bool == true {
                    let v = obj["protocol"].flatMap(WorkerFrame.integer)
                    guard v == WorkerProtocol.version else { throw fail(.protocolMismatch(worker: v)) }
                }
                header = (obj, nl, WorkerFrame.payloadBytes(of: obj))
            }
            if let h = header, stdoutBuffer.count >= h.end + 1 + h.payload, written == bytes.count || stdinBroken {
                let line = Data(stdoutBuffer[0..<h.end])
                let body = Array(stdoutBuffer[(h.end + 1)..<(h.end + 1 + h.payload)])
                stdoutBuffer.removeFirst(h.end + 1 + h.payload)
                if stdinBroken { _ = stop(grace: timeouts.exit) }   // it answered but stopped reading: unusable
                return (h.obj, line, body)
            }
            if header == nil, stdoutBuffer.count > Self.headerLimit {
                throw fail(.malformed("no end of line within the first \(Self.headerLimit >> 20) MiB"))
            }
            if stdoutEOF {
                let status = stop(grace: timeouts.exit)
                let e: WorkerError.Kind = header.map {
                    .shortPayload(expected: $0.payload, received: stdoutBuffer.count - $0.end - 1, status: status)
                } ?? .exited(status: status)
                throw WorkerError(e, command: commandLine, op: op, stderrTail: tail())
            }
            let remaining = deadline - Self.now()
            if remaining <= 0 { throw fail(.timedOut(seconds: timeout)) }
            if cancelled() { throw fail(.cancelled) }

            var fds = [pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0)]
            if stderrFD >= 0 { fds.append(pollfd(fd: stderrFD, events: Int16(POLLIN), revents: 0)) }
            let writing = written < bytes.count && !stdinBroken
            if writing { fds.append(pollfd(fd: stdinFD, events: Int16(POLLOUT), revents: 0)) }
            // A signal interrupts the poll (EINTR); the short wait also catches one that arrived just before it.
            let rc = poll(&fds, nfds_t(fds.count), Int32(min(remaining * 1000 + 1, Self.cancelPoll * 1000)))
            if rc < 0 {
                if errno == EINTR { continue }
                throw fail(.writeFailed("poll failed: \(String(cString: strerror(errno)))"))
            }
            for f in fds where f.revents != 0 {
                if f.fd == stdinFD {
                    let n = bytes.withUnsafeBytes { Self.writeWithoutSigpipe(stdinFD, $0.baseAddress! + written, bytes.count - written) }
                    if n >= 0 { written += n }
                    else if n == -Int(EPIPE) { stdinBroken = true }
                    else if n != -Int(EAGAIN) && n != -Int(EINTR) {
                        throw fail(.writeFailed(String(cString: strerror(Int32(-n)))))
                    }
                } else {
                    let n = read(f.fd, &chunk, chunk.count)
                    if n > 0 {
                        if f.fd == stdoutFD { stdoutBuffer += chunk[0..<n] } else { addStderr(chunk[0..<n]) }
                    } else if n == 0 || (errno != EAGAIN && errno != EINTR) {
                        if f.fd == stdoutFD { stdoutEOF = true } else { closeFD(stderrFD); stderrFD = -1 }
                    }
                }
            }
        }
    }

    // MARK: stopping

    /// Waits up to `grace` seconds for the child to exit (collecting its stderr), else kills its process
    /// group; reaps it either way. Returns how it ended. Leaves `running` false and every descriptor closed.
    private func stop(grace: Double) -> String {
        guard running else { return "had already stopped" }
        running = false
        let deadline = Self.now() + grace
        var status: Int32 = 0
        var ended: String?
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid { ended = Self.describe(waitStatus: status); break }
            if r < 0 && errno == ECHILD { ended = "exited"; break }   // reaped elsewhere
            let left = deadline - Self.now()
            if left <= 0 { break }
            // Sleep on its stderr: its end-of-file usually comes with the exit.
            if stderrFD >= 0 {
                var p = pollfd(fd: stderrFD, events: Int16(POLLIN), revents: 0)
                if poll(&p, 1, Int32(min(left, 0.01) * 1000) + 1) > 0 {
                    let n = read(stderrFD, &chunk, chunk.count)
                    if n > 0 { addStderr(chunk[0..<n]) } else if n == 0 { closeFD(stderrFD); stderrFD = -1 }
                }
            } else {
                usleep(5000)
            }
        }
        if ended == nil {
            // Its process group too, while the group id is surely still its own.
            kill(-pid, SIGKILL)
            kill(pid, SIGKILL)
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        }
        drainStderr(&chunk)
        for fd in [stdinFD, stdoutFD, stderrFD] where fd >= 0 { closeFD(fd) }
        stdinFD = -1; stdoutFD = -1; stderrFD = -1
        return ended ?? "did not exit in time and was killed"
    }

    /// Reads whatever stderr text is already there.
    private func drainStderr(_ chunk: inout [UInt8]) {
        while stderrFD >= 0 {
            let n = read(stderrFD, &chunk, chunk.count)
            if n > 0 { addStderr(chunk[0..<n]) } else { break }
        }
    }

    // MARK: stderr

    private func addStderr(_ bytes: ArraySlice<UInt8>) {
        for b in bytes {
            if b == 0x0A || b == 0x0D {
                if !stderrPartial.isEmpty { stderrLines.append(String(decoding: stderrPartial, as: UTF8.self)) }
                stderrPartial.removeAll(keepingCapacity: true)
            } else if stderrPartial.count < 4096 {
                stderrPartial.append(b)
            }
        }
        if stderrLines.count > 2 * Self.stderrLineLimit { stderrLines.removeFirst(stderrLines.count - Self.stderrLineLimit) }
    }

    private func tail() -> [String] {
        var lines = stderrLines
        if !stderrPartial.isEmpty { lines.append(String(decoding: stderrPartial, as: UTF8.self)) }
        return Array(lines.suffix(Self.stderrLineLimit))
    }
}
