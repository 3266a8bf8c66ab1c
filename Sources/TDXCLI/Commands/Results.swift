import Foundation
import TDXCore
import TDXPlan
import TDXStore

/// Writes the report stages' cached files (report.md, *.svg, *.csv) into the results directory.
/// The report lives in the cache; this only materialises it, so a fully cached run still refreshes it.
enum Results {
    /// An empty file that marks a directory as written by tdx, so it may be replaced.
    static let marker = ".tdx-results"
    static func write(plan: Plan, storePath: String, to directory: String) throws -> [String] {
        let store = try Store(path: storePath)
        let reports = plan.graph.stages.filter { $0.kind == .report }
        var dirs: [String] = []
        for r in reports where try store.hasArtifact(r.key) {
            // Sweep variants get one sub-directory each, named by their swept values; the variant where every
            // swept parameter added later keeps its default carries no values, and is named `defaults`.
            let dir = reports.count == 1 ? directory : directory + "/" + variantName(r.id)
            try replaceDirectory(dir) { tmp in _ = try store.exportAll(key: r.key, to: tmp) }
            dirs.append(dir)
        }
        return dirs
    }

    /// A sweep variant's directory name from its report's id: `report{correlate.partial=[reward, time],sae.beta=1e-5}`
    /// → `correlate.partial=reward+time_sae.beta=1e-5` (list items joined by +, parameters by _, nothing
    /// outside [A-Za-z0-9._=+-]).
    static func variantName(_ id: String) -> String {
        let tag = String(id.dropFirst("report".count)).filter { !"{}[]".contains($0) }
            .replacingOccurrences(of: ", ", with: "+").replacingOccurrences(of: ",", with: "_")
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._=+-")
        let safe = String(tag.map { allowed.contains($0) ? $0 : "_" })
        return safe.isEmpty ? "defaults" : safe
    }

    /// Fills a fresh directory, then swaps it in for `dir`, so a report is never half old, half new.
    /// An existing `dir` is replaced only if tdx wrote it (it holds the marker file) or it is empty.
    static func replaceDirectory(_ dir: String, _ fill: (String) throws -> Void) throws {
        let fm = FileManager.default
        let tmp = dir + ".partial-\(getpid())"
        try? fm.removeItem(atPath: tmp)
        try fm.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        do {
            try fill(tmp)
            try Data().write(to: URL(fileURLWithPath: tmp + "/" + marker))
        } catch { try? fm.removeItem(atPath: tmp); throw error }
        if fm.fileExists(atPath: dir) {
            let contents = (try? fm.contentsOfDirectory(atPath: dir)) ?? []
            guard contents.isEmpty || contents.contains(marker) else {
                try? fm.removeItem(atPath: tmp)
                throw UsageError("\(dir) exists and is not a tdx report directory", help: "choose another place with --results DIR")
            }
            try? fm.removeItem(atPath: dir)
        }
        // A concurrent run may have put its copy in place meanwhile: the content is the same (it comes
        // from the same cached artifact), so one retry that replaces it is enough.
        do { try fm.moveItem(atPath: tmp, toPath: dir) } catch {
            try? fm.removeItem(atPath: dir)
            do { try fm.moveItem(atPath: tmp, toPath: dir) } catch { try? fm.removeItem(atPath: tmp); throw error }
        }
    }
}
