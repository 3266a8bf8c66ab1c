import CSQLite
import Foundation

/// One SQLite connection. Not thread-safe: use one `Database` per thread (opening is cheap).
/// Writes go through `transaction`; nested calls become savepoints.
public final class Database {
    public enum TransactionKind: String { case deferred = "DEFERRED", immediate = "IMMEDIATE", exclusive = "EXCLUSIVE" }

    public let path: String
    let handle: OpaquePointer
    /// Seconds a writer waits for another connection's write lock before failing with `.busy`.
    public let busyTimeout: Double
    private var statements: [String: Statement] = [:]
    private var savepointDepth = 0

    /// Opens (creating if absent) the database at `path`. A file that is not SQLite fails at the first
    /// statement with `.notADatabase`, and SQLite never writes to it.
    ///
    /// Never open the database file with anything but SQLite while a connection is open: closing any
    /// other descriptor of the file drops this process's POSIX locks on it, and another process may
    /// then believe it is alone, checkpoint and delete the WAL under our feet.
    public init(path: String, busyTimeout: Double = 60) throws {
        self.path = path
        self.busyTimeout = busyTimeout
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX
        let rc = sqlite3_open_v2(path, &db, flags, nil)
        guard rc == SQLITE_OK, let db else {
            let err = db.map { Database.error(rc, connection: $0, sql: "", path: path) }
                ?? StoreError.sqlite(code: rc, message: "cannot open", sql: "")
            sqlite3_close_v2(db)
            throw Database.refineOpenError(err, path: path)
        }
        handle = db
        sqlite3_extended_result_codes(db, 1)
        sqlite3_busy_timeout(db, Int32(min(busyTimeout * 1000, Double(Int32.max))))
        // A read-only file opens "successfully" in read-only mode; say so now rather than at the first write.
        if sqlite3_db_readonly(db, "main") == 1 {
            sqlite3_close_v2(db)
            throw StoreError.readOnly(path: path)
        }
    }

    deinit {
        statements.removeAll()
        sqlite3_close_v2(handle)
    }

    private static func refineOpenError(_ error: StoreError, path: String) -> StoreError {
        if case .sqlite(let code, _, _) = error, code & 0xff == SQLITE_CANTOPEN {
            let dir = (path as NSString).deletingLastPathComponent
            if access(dir.isEmpty ? "." : dir, W_OK) != 0 { return .readOnly(path: path) }
        }
        return error
    }

    /// Maps an SQLite result code to the user-facing case when the user can act on it.
    static func error(_ rc: Int32, connection: OpaquePointer, sql: String, path: String) -> StoreError {
        let message = String(cString: sqlite3_errmsg(connection))
        switch rc & 0xff {
        case SQLITE_NOTADB: return .notADatabase(path: path)
        case SQLITE_CORRUPT: return .corrupt(path: path, detail: message)
        case SQLITE_FULL: return .diskFull(path: path)
        case SQLITE_READONLY: return .readOnly(path: path)
        case SQLITE_BUSY, SQLITE_LOCKED:
            return .busy(path: path, seconds: 0)  // `Database` fills in its timeout
        case SQLITE_CANTOPEN:
            let dir = (path as NSString).deletingLastPathComponent
            if access(dir.isEmpty ? "." : dir, W_OK) != 0 { return .readOnly(path: path) }
            return .sqlite(code: rc, message: message, sql: sql)
        default: return .sqlite(code: rc, message: message, sql: sql)
        }
    }

    // MARK: running SQL

    /// Runs one or more statements with no parameters and no results (schema, pragmas).
    public func execute(_ sql: String) throws {
        var err: UnsafeMutablePointer<CChar>?
        let rc = sqlite3_exec(handle, sql, nil, nil, &err)
        sqlite3_free(err)
        if rc != SQLITE_OK { throw mapped(rc, sql) }
    }

    func mapped(_ rc: Int32, _ sql: String) -> StoreError {
        let e = Database.error(rc, connection: handle, sql: sql, path: path)
        if case .busy = e { return .busy(path: path, seconds: busyTimeout) }
        return e
    }

    /// A fresh statement (finalised when released).
    public func prepare(_ sql: String) throws -> Statement {
        try Statement(connection: handle, sql: sql, path: path)
    }

    /// A cached statement, reset and bound to `values`.
    public func statement(_ sql: String, _ values: [any SQLBindable] = []) throws -> Statement {
        let s: Statement
        if let cached = statements[sql] { s = cached } else { s = try prepare(sql); statements[sql] = s }
        return try s.bind(values)
    }

    /// Runs a statement that returns no rows.
    public func run(_ sql: String, _ values: any SQLBindable...) throws {
        do { try statement(sql, values).run() } catch let e as StoreError { throw busyRefined(e) }
    }

    /// Maps every row of a query.
    public func rows<T>(_ sql: String, _ values: [any SQLBindable] = [], _ map: (Statement) throws -> T) throws -> [T] {
        let s = try statement(sql, values)
        defer { s.reset() }
        var out: [T] = []
        do { while try s.step() { out.append(try map(s)) } } catch let e as StoreError { throw busyRefined(e) }
        return out
    }

    /// The first row mapped, or nil.
    public func row<T>(_ sql: String, _ values: [any SQLBindable] = [], _ map: (Statement) throws -> T) throws -> T? {
        let s = try statement(sql, values)
        defer { s.reset() }
        do { return try s.step() ? try map(s) : nil } catch let e as StoreError { throw busyRefined(e) }
    }

    /// The integer in the first column of the first row (0 when there is no row).
    public func scalar(_ sql: String, _ values: any SQLBindable...) throws -> Int {
        try row(sql, values) { $0.int(0) } ?? 0
    }

    private func busyRefined(_ e: StoreError) -> StoreError {
        if case .busy = e { return .busy(path: path, seconds: busyTimeout) }
        return e
    }

    public var lastInsertRowID: Int64 { sqlite3_last_insert_rowid(handle) }
    public var changes: Int { Int(sqlite3_changes(handle)) }
    public var isInTransaction: Bool { sqlite3_get_autocommit(handle) == 0 }

    // MARK: transactions

    /// Runs `body` in a transaction (IMMEDIATE by default, so a writer takes the write lock up front
    /// and never fails half-way with SQLITE_BUSY). Inside another transaction it becomes a savepoint.
    /// Any error rolls back everything `body` did.
    public func transaction<T>(_ kind: TransactionKind = .immediate, _ body: () throws -> T) throws -> T {
        if isInTransaction {
            savepointDepth += 1
            let name = "tdx_sp\(savepointDepth)"
            defer { savepointDepth -= 1 }
            try execute("SAVEPOINT \(name)")
            do {
                let result = try body()
                try execute("RELEASE \(name)")
                return result
            } catch {
                try? execute("ROLLBACK TO \(name); RELEASE \(name)")
                throw error
            }
        }
        try begin(kind)
        do {
            let result = try body()
            try commit()
            return result
        } catch {
            rollback()
            throw error
        }
    }

    func begin(_ kind: TransactionKind = .immediate) throws { try execute("BEGIN \(kind.rawValue)") }
    func commit() throws { try execute("COMMIT") }
    /// Rolls back if a transaction is open (SQLite may already have rolled back after SQLITE_FULL).
    func rollback() { if isInTransaction { try? execute("ROLLBACK") } }
}
