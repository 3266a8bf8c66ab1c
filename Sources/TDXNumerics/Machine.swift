import Foundation
import TDXCore

/// The machine a run computed on, as a run record keeps it: float results depend on the CPU's kernels
/// (OpenBLAS picks them per CPU and sums in their order), so a cache says where each result came from.
public enum Machine {
    /// "AMD EPYC, 2 cores, OpenBLAS Zen, tdx 0.1.0".
    public static var current: String {
        describe(cpuinfo: try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
                 cores: ProcessInfo.processInfo.activeProcessorCount, blasCore: BLASRuntime.coreName)
    }

    static func describe(cpuinfo: String?, cores: Int, blasCore: String) -> String {
        let model = cpuinfo?.split(separator: "\n").first { $0.hasPrefix("model name") }
            .flatMap { $0.split(separator: ":", maxSplits: 1).last }
            .map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        return "\(model.flatMap { $0.isEmpty ? nil : $0 } ?? "unknown CPU"), \(cores) core\(cores == 1 ? "" : "s"), "
            + "OpenBLAS \(blasCore), tdx \(TDXVersion.string)"
    }
}
