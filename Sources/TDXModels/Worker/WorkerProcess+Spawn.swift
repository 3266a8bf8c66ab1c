#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// close(2), named apart from `WorkerProcess.close()`.
func closeFD(_ fd: Int32) {
    #if canImport(Glibc)
    _ = Glibc.close(fd)
    #else
    _ = Darwin.close(fd)
    #endif
}

/// Starting the child: PATH lookup, pipes, posix_spawn; and the system calls the exchange loop needs.
extension WorkerProcess {
    /// The executable `name` resolves to, as `/usr/bin/env` would find it: a name with a slash is taken as
    /// a path, otherwise each PATH directory (empty entry: the current directory) is searched in order.
    static func resolveExecutable(_ name: String, path: String?) -> String? {
        func executable(_ p: String) -> Bool {
            var st = stat()
            return stat(p, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG && access(p, X_OK) == 0
        }
        if name.contains("/") { return executable(name) ? name : nil }
        guard !name.isEmpty else { return nil }
        for dir in (path ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (dir.isEmpty ? "." : String(dir)) + "/" + name
            if executable(candidate) { return candidate }
        }
        return nil
    }

    struct Child { var pid: pid_t; var stdin: Int32; var stdout: Int32; var stderr: Int32 }

    /// Spawns `argv` with its standard streams on fresh pipes, in its own process group (so a kill reaches
    /// any processes it starts), with SIGPIPE at its default and no signals blocked. Our pipe ends are
    /// non-blocking and close-on-exec.
    static func spawn(executable: String, argv: [String], environment: [String: String]?) throws(SpawnFailure) -> Child {
        var inPipe: [Int32] = [-1, -1], outPipe: [Int32] = [-1, -1], errPipe: [Int32] = [-1, -1]
        func closeAll() { for fd in inPipe + outPipe + errPipe where fd >= 0 { closeFD(fd) } }
        guard pipe(&inPipe) == 0, pipe(&outPipe) == 0, pipe(&errPipe) == 0 else {
            let e = errno; closeAll(); throw SpawnFailure(errno: e)
        }
        // Not inherited by other children spawned meanwhile; dup2 onto 0/1/2 clears the flag for this one.
        for fd in inPipe + outPipe + errPipe { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, inPipe[0], 0)
        posix_spawn_file_actions_adddup2(&actions, outPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errPipe[1], 2)

        var attr = posix_spawnattr_t()
        posix_spawnattr_init(&attr)
        defer { posix_spawnattr_destroy(&attr) }
        var noMask = sigset_t(), defaults = sigset_t()
        sigemptyset(&noMask)
        sigemptyset(&defaults); sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigmask(&attr, &noMask)
        posix_spawnattr_setsigdefault(&attr, &defaults)
        posix_spawnattr_setpgroup(&attr, 0)
        posix_spawnattr_setflags(&attr, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        let cArgv = argv.map { strdup($0) } + [nil]
        defer { for p in cArgv { free(p) } }
        let env = environment.map { $0.map { "\($0.key)=\($0.value)" }.sorted() }
        let cEnv = env.map { $0.map { strdup($0) } + [nil] }
        defer { cEnv?.forEach { free($0) } }

        var pid: pid_t = 0
        let rc: Int32 = cArgv.withUnsafeBufferPointer { a in
            if let cEnv {
                return cEnv.withUnsafeBufferPointer { e in posix_spawn(&pid, executable, &actions, &attr, a.baseAddress!, e.baseAddress!) }
            }
            return posix_spawn(&pid, executable, &actions, &attr, a.baseAddress!, environ)
        }
        closeFD(inPipe[0]); closeFD(outPipe[1]); closeFD(errPipe[1])
        guard rc == 0 else {
            closeFD(inPipe[1]); closeFD(outPipe[0]); closeFD(errPipe[0])
            throw SpawnFailure(errno: rc)
        }
        for fd in [inPipe[1], outPipe[0], errPipe[0]] { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        return Child(pid: pid, stdin: inPipe[1], stdout: outPipe[0], stderr: errPipe[0])
    }

    struct SpawnFailure: Error { var errno: Int32 }

    /// write(2) that reports a closed pipe as EPIPE instead of raising SIGPIPE: the signal is blocked in this
    /// thread for the call and a pending one is consumed, so the process's own disposition is left alone.
    /// Returns the bytes written or -errno.
    static func writeWithoutSigpipe(_ fd: Int32, _ p: UnsafeRawPointer, _ n: Int) -> Int {
        var block = sigset_t(), old = sigset_t()
        sigemptyset(&block); sigaddset(&block, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &block, &old)
        var pendingBefore = sigset_t()
        sigpending(&pendingBefore)
        let wasPending = sigismember(&pendingBefore, SIGPIPE) == 1
        let r = write(fd, p, n)
        let e = errno
        if r < 0 && e == EPIPE && !wasPending {
            var zero = timespec(tv_sec: 0, tv_nsec: 0)
            while sigtimedwait(&block, nil, &zero) < 0 && errno == EINTR {}
        }
        pthread_sigmask(SIG_SETMASK, &old, nil)
        return r < 0 ? -Int(e) : r
    }

    /// A wait status as words: "exited with status 3", "was killed by signal 9 (SIGKILL)".
    static func describe(waitStatus s: Int32) -> String {
        let sig = s & 0x7f
        if sig == 0 { return "exited with status \((s >> 8) & 0xff)" }
        let names: [Int32: String] = [SIGKILL: "SIGKILL", SIGTERM: "SIGTERM", SIGSEGV: "SIGSEGV", SIGABRT: "SIGABRT",
                                      SIGINT: "SIGINT", SIGPIPE: "SIGPIPE", SIGBUS: "SIGBUS", SIGHUP: "SIGHUP"]
        return "was killed by signal \(sig)" + (names[sig].map { " (\($0))" } ?? "")
    }

    static func now() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
    }

    /// The command line as a shell would need it typed.
    static func shellQuoted(_ argv: [String]) -> String {
        argv.map { a in
            if !a.isEmpty && a.allSatisfy({ $0.isLetter || $0.isNumber || "-_./=:,+@%".contains($0) }) { return a }
            return "'" + a.replacingOccurrences(of: "'", with: "'\\''") + "'"
        }.joined(separator: " ")
    }
}
