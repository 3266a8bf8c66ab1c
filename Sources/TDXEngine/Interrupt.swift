import Foundation

/// Ctrl-C (SIGINT) and SIGTERM set a flag; the executor stops scheduling, stage bodies that poll
/// `isCancelled` return early, and the run is recorded as interrupted. A second Ctrl-C exits at once.
public enum Interrupt {
    nonisolated(unsafe) private static var flag: sig_atomic_t = 0
    nonisolated(unsafe) private static var installed = false

    public static var requested: Bool { flag != 0 }

    public static func install() {
        guard !installed else { return }
        installed = true
        let handler: @convention(c) (Int32) -> Void = { sig in
            if Interrupt.flag != 0 { _exit(130) }
            Interrupt.flag = 1
            let msg = "\ntdx: stopping; running stages stop at their next safe point, keeping finished stages and saved batches (Ctrl-C again to quit now)\n"
            _ = msg.withCString { write(2, $0, strlen($0)) }
        }
        signal(SIGINT, handler)
        signal(SIGTERM, handler)
    }
}
