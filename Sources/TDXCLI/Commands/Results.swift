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
        let reports = try plan.graph.stages.filter { $0.kind == .report }.filter { try store.hasArtifact($0.key) }
        // A sweep's comparison goes at the top, each variant's report in a sub-directory named by its swept
        // values, all swapped in at once.
        if let compare = plan.graph.stages.first(where: { $0.kind == .compare }), try store.hasArtifact(compare.key) {
            try replaceDirectory(directory) { tmp in
                _ = try store.exportAll(key: compare.key, to: tmp)
                for r in reports {
                    let sub = tmp + "/" + ReportDirectory.name(r.id)
                    try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)
                    _ = try store.exportAll(key: r.key, to: sub)
                    try Data().write(to: URL(fileURLWithPath: sub + "/" + marker))
                }
            }
            return [directory]
        }
        let single = plan.graph.stages.filter { $0.kind == .report }.count == 1
        var dirs: [String] = []
        for r in reports {
            let dir = single ? directory : directory + "/" + ReportDirectory.name(r.id)
            try replaceDirectory(dir) { tmp in _ = try store.exportAll(key: r.key, to: tmp) }
            dirs.append(dir)
        }
        return dirs
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
            // Variant reports written one by one (no comparison yet) leave only marked sub-directories.
            let onlyReports = contents.allSatisfy { fm.fileExists(atPath: dir + "/" + $0 + "/" + marker) }
            guard contents.isEmpty || contents.contains(marker) || onlyReports else {
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
