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
        let planned = plan.graph.stages.filter { $0.kind == .report }
        let reports = try planned.filter { try store.hasArtifact($0.key) }
        let names = ReportDirectory.names(planned.map(\.id))
        // A sweep's comparison goes at the top, each variant's report in a sub-directory named by its swept
        // values, all swapped in at once.
        if let compare = plan.graph.stages.first(where: { $0.kind == .compare }), try store.hasArtifact(compare.key) {
            try replaceDirectory(directory) { tmp in
                _ = try store.exportAll(key: compare.key, to: tmp)
                for r in reports {
                    let sub = tmp + "/" + names[r.id]!
                    try FileManager.default.createDirectory(atPath: sub, withIntermediateDirectories: true)
                    _ = try store.exportAll(key: r.key, to: sub)
                    try Data().write(to: URL(fileURLWithPath: sub + "/" + marker))
                }
            }
            return [directory]
        }
        let single = planned.count == 1
        if !single && !reports.isEmpty {
            // Variant by variant (no comparison yet): the directory above them is claimed with the marker.
            let fm = FileManager.default
            guard !fm.fileExists(atPath: directory) || isReplaceable(directory) else { throw notOurs(directory) }
            try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try Data().write(to: URL(fileURLWithPath: directory + "/" + marker))
        }
        var dirs: [String] = []
        for r in reports {
            let dir = single ? directory : directory + "/" + names[r.id]!
            try replaceDirectory(dir) { tmp in _ = try store.exportAll(key: r.key, to: tmp) }
            dirs.append(dir)
        }
        return dirs
    }

    /// Whether tdx may replace `dir`: it is empty, tdx marked it, or it holds only what an earlier sweep wrote
    /// variant by variant (marked sub-directories named like variants) and copies a killed run left half-made.
    static func isReplaceable(_ dir: String) -> Bool {
        let fm = FileManager.default
        let contents = (try? fm.contentsOfDirectory(atPath: dir)) ?? []
        return contents.contains(marker) || contents.allSatisfy { n in
            n.contains(".partial-") || (ReportDirectory.isVariantName(n) && fm.fileExists(atPath: dir + "/" + n + "/" + marker))
        }
    }

    static func notOurs(_ dir: String) -> UsageError {
        UsageError("\(dir) exists and is not a tdx report directory", help: "choose another place with --results DIR")
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
            guard isReplaceable(dir) else { try? fm.removeItem(atPath: tmp); throw notOurs(dir) }
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
