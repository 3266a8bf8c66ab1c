import Foundation
import TDXCore

/// Failures writing a report directory.
public enum ReportError: UserError, Equatable {
    /// A file name that is empty, contains `/`, or is `.` / `..`, or is used twice.
    case badFileName(String)
    case cannotWrite(path: String, reason: String)

    public var message: String {
        switch self {
        case .badFileName(let name): return "report file name '\(name)' is not a plain, unique file name"
        case .cannotWrite(let path, let reason): return "cannot write report to \(path): \(reason)"
        }
    }

    public var help: String? {
        switch self {
        case .badFileName: return "report files are written flat into one directory; give each a distinct name like 'returns.svg'"
        case .cannotWrite: return "check that the results directory's parent exists, is writable and has free space"
        }
    }
}

/// Collects a report's files in memory and writes them as one directory that is replaced whole:
/// everything goes into a temporary sibling first, then the old directory is swapped out by
/// rename, so a reader never sees a half-written report and an error leaves the old one intact.
public struct ReportWriter: Sendable {
    public let directory: URL
    public private(set) var files: [(name: String, data: Data)] = []

    /// `directory` is e.g. `Results/<spec>`; its parent is created if missing.
    public init(directory: URL) { self.directory = directory }

    public mutating func add(_ name: String, text: String) { files.append((name, Data(text.utf8))) }

    public mutating func add(_ name: String, data: Data) { files.append((name, data)) }

    public mutating func add(_ name: String, figure: some SVGFigure) { add(name, text: figure.svg) }

    /// The table as CSV.
    public mutating func add(_ name: String, table: ReportTable) { add(name, text: table.csv) }

    /// Writes the directory and returns the written files' paths in the order they were added.
    @discardableResult
    public func write() throws -> [URL] {
        var seen = Set<String>()
        for (name, _) in files {
            if name.isEmpty || name == "." || name == ".." || name.contains("/") || name.contains("\0")
                || !seen.insert(name).inserted {
                throw ReportError.badFileName(name)
            }
        }
        let fm = FileManager.default
        let parent = directory.deletingLastPathComponent()
        let base = directory.lastPathComponent
        let tag = "\(ProcessInfo.processInfo.processIdentifier)-\(UInt64.random(in: 0...UInt64.max))"
        let staging = parent.appendingPathComponent(".\(base).writing-\(tag)")
        let retired = parent.appendingPathComponent(".\(base).old-\(tag)")
        do {
            try fm.createDirectory(at: parent, withIntermediateDirectories: true)
            try fm.createDirectory(at: staging, withIntermediateDirectories: false)
        } catch {
            throw ReportError.cannotWrite(path: directory.path, reason: Self.reason(error))
        }
        do {
            for (name, data) in files {
                try data.write(to: staging.appendingPathComponent(name))
            }
            // rename(2) cannot replace a non-empty directory, so the old one is moved aside first;
            // if the second rename fails it is moved back.
            let hadOld = fm.fileExists(atPath: directory.path)
            if hadOld { try Self.rename(directory, retired) }
            do {
                try Self.rename(staging, directory)
            } catch {
                if hadOld { try? Self.rename(retired, directory) }
                throw error
            }
            if hadOld { try? fm.removeItem(at: retired) }
        } catch {
            try? fm.removeItem(at: staging)
            throw ReportError.cannotWrite(path: directory.path, reason: Self.reason(error))
        }
        return files.map { directory.appendingPathComponent($0.name) }
    }

    private static func rename(_ from: URL, _ to: URL) throws {
        if Foundation.rename(from.path, to.path) != 0 {
            throw ReportError.cannotWrite(path: to.path, reason: String(cString: strerror(errno)))
        }
    }

    private static func reason(_ error: Error) -> String {
        if let e = error as? ReportError, case .cannotWrite(_, let reason) = e { return reason }
        if let e = error as? CocoaError, let u = e.userInfo[NSUnderlyingErrorKey] as? NSError {
            return u.localizedDescription
        }
        return (error as NSError).localizedDescription
    }
}
