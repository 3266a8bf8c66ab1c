import Foundation
import TDXCore
import TDXPlan
import TDXStore

/// Writes the report stages' cached files (report.md, *.svg, *.csv) into the results directory.
/// The report lives in the cache; this only materialises it, so a fully cached run still refreshes it.
enum Results {
    /// An empty file that marks a directory as written by tdx, so it may be replaced.
    static let marker = ".tdx-results"
    /// In the name of the copy a report is built in before it is swapped in (a killed run can leave one).
    static let halfMade = ".partial-"
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
                    try mark(sub)
                }
            }
            return [directory]
        }
        let single = planned.count == 1
        if !single && !reports.isEmpty {
            // Variant by variant (no comparison yet): each variant's directory is replaced on its own, and the
            // directory above them is marked with what it then holds.
            let fm = FileManager.default
            if fm.fileExists(atPath: directory) { try checkReplaceable(directory) }
            try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        var dirs: [String] = []
        for r in reports {
            let dir = single ? directory : directory + "/" + names[r.id]!
            try replaceDirectory(dir) { tmp in _ = try store.exportAll(key: r.key, to: tmp) }
            dirs.append(dir)
        }
        if !single && !reports.isEmpty { try mark(directory) }
        return dirs
    }

    /// Throws unless tdx may replace `dir`: it is empty, or tdx wrote it (its marker) and it holds nothing tdx
    /// did not write, or it holds only what an earlier sweep wrote variant by variant (marked sub-directories
    /// named like variants) and copies a killed run left half-made.
    static func checkReplaceable(_ dir: String) throws {
        let fm = FileManager.default
        var isDirectory: ObjCBool = false
        guard fm.fileExists(atPath: dir, isDirectory: &isDirectory) else { return }
        guard isDirectory.boolValue else {
            throw UsageError("\(dir) is a file, not a report directory", help: "choose another place with --results DIR")
        }
        let contents = (try? fm.contentsOfDirectory(atPath: dir)) ?? []
        let variants = contents.allSatisfy { n in
            n.contains(halfMade) || (ReportDirectory.isVariantName(n) && fm.fileExists(atPath: dir + "/" + n + "/" + marker))
        }
        guard contents.contains(marker) || variants else { throw notOurs(dir) }
        let added = contents.contains(marker) ? foreign(dir)
            : contents.filter { !$0.contains(halfMade) }.flatMap { n in foreign(dir + "/" + n).map { n + "/" + $0 } }
        guard added.isEmpty else {
            throw UsageError("\(dir) holds files tdx did not write: \(added.prefix(5).joined(separator: ", "))\(added.count > 5 ? ", …" : "")",
                             help: "move them out (the report is rewritten whole), or choose another place with --results DIR")
        }
    }

    static func notOurs(_ dir: String) -> UsageError {
        UsageError("\(dir) exists and is not a tdx report directory", help: "choose another place with --results DIR")
    }

    /// Marks `dir` as written by tdx, listing what it holds, so a later run can tell a file a user added.
    static func mark(_ dir: String) throws {
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0 != marker }.sorted()
        try Data(names.map { $0 + "\n" }.joined().utf8).write(to: URL(fileURLWithPath: dir + "/" + marker))
    }

    /// What a tdx-written `dir` holds that its marker does not list, in it and in the marked directories it
    /// lists, leaving out copies a killed run left half-made (nothing when the marker lists nothing, as an
    /// older tdx wrote it).
    static func foreign(_ dir: String) -> [String] {
        let fm = FileManager.default
        guard let listing = try? String(contentsOfFile: dir + "/" + marker, encoding: .utf8), !listing.isEmpty else { return [] }
        let known = Set(listing.split(separator: "\n").map(String.init))
        var out: [String] = []
        for n in ((try? fm.contentsOfDirectory(atPath: dir)) ?? []).sorted() where n != marker && !n.contains(halfMade) {
            if !known.contains(n) { out.append(n) } else if fm.fileExists(atPath: dir + "/" + n + "/" + marker) {
                out += foreign(dir + "/" + n).map { n + "/" + $0 }
            }
        }
        return out
    }

    /// Fills a fresh directory, then swaps it in for `dir`, so a report is never half old, half new.
    /// An existing `dir` is replaced only as `checkReplaceable` allows.
    static func replaceDirectory(_ dir: String, _ fill: (String) throws -> Void) throws {
        let fm = FileManager.default
        let tmp = dir + halfMade + "\(getpid())"
        try? fm.removeItem(atPath: tmp)
        try fm.createDirectory(atPath: tmp, withIntermediateDirectories: true)
        do {
            try fill(tmp)
            try mark(tmp)
        } catch { try? fm.removeItem(atPath: tmp); throw error }
        if fm.fileExists(atPath: dir) {
            do { try checkReplaceable(dir) } catch { try? fm.removeItem(atPath: tmp); throw error }
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
