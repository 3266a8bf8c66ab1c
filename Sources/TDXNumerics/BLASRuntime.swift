import CBLAS
import Foundation

/// Which OpenBLAS kernels are loaded, and the fix for Debian's OpenBLAS 0.3.21 picking its SSE3 (Prescott)
/// kernels on CPUs it does not recognise (DESIGN.md §5). OpenBLAS reads `OPENBLAS_CORETYPE` only while it
/// loads, before `main`, so the only cure inside one process image is to re-exec with the variable set.
public enum BLASRuntime {
    /// Set in the environment of the re-executed process so it never re-execs again.
    public static let reexecMarker = "TDX_OPENBLAS_REEXEC"

    /// The kernel family OpenBLAS loaded, e.g. "Prescott", "Haswell", "SkylakeX".
    public static var coreName: String {
        guard let p = openblas_get_corename() else { return "unknown" }
        return String(cString: p)
    }

    /// Best OpenBLAS core this CPU can run, from /proc/cpuinfo flags; nil when it cannot tell.
    public static func bestCoreForCPU(cpuinfo: String? = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) -> String? {
        guard let cpuinfo, let line = cpuinfo.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return nil }
        let flags = Set(line.split(separator: " ").map(String.init))
        // OpenBLAS's SkylakeX kernels need F, BW, DQ, VL; its Haswell kernels need AVX2 and FMA.
        if flags.isSuperset(of: ["avx512f", "avx512bw", "avx512dq", "avx512vl"]) { return "SkylakeX" }
        if flags.isSuperset(of: ["avx2", "fma"]) { return "Haswell" }
        return nil
    }

    /// Rough vector width tier of an OpenBLAS core name: 0 SSE-era, 1 AVX, 2 AVX2, 3 AVX-512.
    public static func tier(of core: String) -> Int {
        switch core.lowercased() {
        case "skylakex", "cooperlake", "sapphirerapids": return 3
        case "haswell", "zen", "skylake", "excavator": return 2
        case "sandybridge", "bulldozer", "piledriver", "steamroller": return 1
        default: return 0
        }
    }

    /// What `ensureFastKernels` decided; `reason` is a sentence for logs.
    public enum Decision: Equatable, Sendable {
        case fine(core: String)
        case reexec(core: String, want: String)
        case stuck(core: String, want: String, reason: String)
    }

    /// Pure decision logic (tested without exec-ing).
    public static func decide(loaded: String, best: String?, environment: [String: String]) -> Decision {
        guard let best, tier(of: loaded) < tier(of: best) else { return .fine(core: loaded) }
        if let set = environment["OPENBLAS_CORETYPE"] {
            return .stuck(core: loaded, want: best, reason: "OPENBLAS_CORETYPE=\(set) is set by the user; kept")
        }
        if environment[reexecMarker] != nil {
            return .stuck(core: loaded, want: best, reason: "re-exec with OPENBLAS_CORETYPE=\(best) did not change the core")
        }
        return .reexec(core: loaded, want: best)
    }

    /// Call first thing in `main`. If OpenBLAS loaded slower kernels than the CPU supports and the user did not
    /// choose a core, re-executes this program once with `OPENBLAS_CORETYPE` set (does not return then).
    /// Otherwise returns a warning to print when the slow kernels had to stay, or nil.
    @discardableResult
    public static func ensureFastKernels() -> String? {
        let env = ProcessInfo.processInfo.environment
        switch decide(loaded: coreName, best: bestCoreForCPU(), environment: env) {
        case .fine:
            return nil
        case let .stuck(core, want, reason):
            return "warning: OpenBLAS runs its \(core) kernels although this CPU supports \(want) (\(reason)); matrix products will be slow"
        case let .reexec(core, want):
            setenv("OPENBLAS_CORETYPE", want, 1)
            setenv(reexecMarker, core, 1)
            execv("/proc/self/exe", CommandLine.unsafeArgv)
            // execv only returns on failure.
            return "warning: OpenBLAS runs its \(core) kernels although this CPU supports \(want); re-exec failed (errno \(errno)); set OPENBLAS_CORETYPE=\(want) to fix"
        }
    }

    /// One line for `--version` / bench output, e.g. "OpenBLAS core SkylakeX (CPU best SkylakeX)".
    public static var summary: String {
        "OpenBLAS core \(coreName) (CPU best \(bestCoreForCPU() ?? "unknown"))"
    }
}
