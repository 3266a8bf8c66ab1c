import CSQLite
import Foundation
import TDXCore

/// Every failure of the cache layer. The cases a user can fix carry a sentence saying what to do;
/// `.sqlite` and `.invalidArgument` are internal failures (a bug in tdx or an unexpected SQLite state).
public enum StoreError: UserError, Equatable {
    /// The file exists but is not an SQLite database (wrong path, or overwritten).
    case notADatabase(path: String)
    /// The path names a directory or a device, not a file.
    case notAFile(path: String)
    /// The file was written by a newer tdx whose schema this version cannot read.
    case newerSchema(path: String, found: Int, supported: Int)
    /// The cache (or its directory) cannot be written: read-only directory, file or file system.
    case readOnly(path: String)
    /// The directory for the cache does not exist and cannot be created.
    case cannotCreateDirectory(path: String, reason: String)
    /// The disk (or the configured page limit) has no room left; the transaction was rolled back.
    case diskFull(path: String)
    /// SQLite reports structural damage (for example, a byte flipped inside a b-tree page).
    case corrupt(path: String, detail: String)
    /// Another process held the cache's write lock longer than the busy timeout.
    case busy(path: String, seconds: Double)
    /// An artifact, blob or run that was asked for is not in the cache.
    case notFound(what: String)
    /// A caller broke the API's contract (for example, two blobs with one name in one artifact).
    case invalidArgument(String)
    /// Any other SQLite failure: code, message and the statement that failed.
    case sqlite(code: Int32, message: String, sql: String)

    public var message: String {
        switch self {
        case .notADatabase(let path):
            return "the cache file \(path) is not an SQLite database"
        case .notAFile(let path):
            return "the cache path \(path) is a directory or a device, not a file"
        case .newerSchema(let path, let found, let supported):
            return "the cache \(path) has schema version \(found), but this tdx understands versions up to \(supported)"
        case .readOnly(let path):
            return "cannot write the cache \(path): the file or its directory is read-only"
        case .cannotCreateDirectory(let path, let reason):
            return "cannot create the cache directory \(path): \(reason)"
        case .diskFull(let path):
            return "the cache \(path) is full: no room left on the disk (this write was rolled back, nothing else changed)"
        case .corrupt(let path, let detail):
            return "the cache \(path) is damaged: \(detail)"
        case .busy(let path, let seconds):
            return "the cache \(path) stayed locked by another process for more than \(String(format: "%g", seconds)) s"
        case .notFound(let what):
            return "\(what) is not in the cache"
        case .invalidArgument(let what):
            return "invalid cache request: \(what)"
        case .sqlite(let code, let message, let sql):
            let name = String(cString: sqlite3_errstr(code))
            return "SQLite error \(code) (\(name)): \(message)" + (sql.isEmpty ? "" : " in `\(sql)`")
        }
    }

    public var help: String? {
        switch self {
        case .notADatabase:
            return "point --cache (or TDX_CACHE) at a tdx cache, or move this file away so tdx can create a fresh cache"
        case .notAFile(let path):
            return "give --cache (or TDX_CACHE) the path of a file, such as \((path as NSString).appendingPathComponent("cache.sqlite"))"
        case .newerSchema:
            return "upgrade tdx, or use a different cache with --cache PATH (or TDX_CACHE)"
        case .readOnly:
            return "make the directory writable, or choose a writable cache with --cache PATH (or TDX_CACHE)"
        case .cannotCreateDirectory:
            return "create the directory yourself, or choose another cache with --cache PATH (or TDX_CACHE)"
        case .diskFull:
            return "free disk space (`tdx gc` removes old artifacts) or move the cache to a bigger disk with --cache PATH"
        case .corrupt:
            return "run `tdx verify` to evict damaged artifacts; if the cache cannot be opened at all, delete the file (it only holds recomputable results)"
        case .busy:
            return "wait for the other tdx process to finish, or use a separate cache with --cache PATH"
        case .notFound:
            return "run `tdx status` to see what is cached"
        case .invalidArgument, .sqlite:
            return "this is a bug in tdx; please report it with the command you ran"
        }
    }
}
