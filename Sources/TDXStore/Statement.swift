import CSQLite
import Foundation

/// A value that can be bound to a `?` parameter.
public protocol SQLBindable {
    func bind(to statement: Statement, at index: Int32) throws
}

extension Int: SQLBindable {
    public func bind(to s: Statement, at i: Int32) throws { try s.check(sqlite3_bind_int64(s.handle, i, Int64(self))) }
}
extension Int64: SQLBindable {
    public func bind(to s: Statement, at i: Int32) throws { try s.check(sqlite3_bind_int64(s.handle, i, self)) }
}
extension Bool: SQLBindable {
    public func bind(to s: Statement, at i: Int32) throws { try s.check(sqlite3_bind_int64(s.handle, i, self ? 1 : 0)) }
}
extension Double: SQLBindable {
    public func bind(to s: Statement, at i: Int32) throws { try s.check(sqlite3_bind_double(s.handle, i, self)) }
}
extension String: SQLBindable {
    public func bind(to s: Statement, at i: Int32) throws {
        try s.check(sqlite3_bind_text(s.handle, i, self, -1, tdx_sqlite_transient()))
    }
}
extension Data: SQLBindable {
    public func bind(to s: Statement, at i: Int32) throws {
        try withUnsafeBytes { raw in
            // A zero-length blob must still bind as a blob, not NULL: give SQLite a valid pointer.
            let base = raw.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
            try s.check(sqlite3_bind_blob64(s.handle, i, base, sqlite3_uint64(raw.count), tdx_sqlite_transient()))
        }
    }
}
extension Optional: SQLBindable where Wrapped: SQLBindable {
    public func bind(to s: Statement, at i: Int32) throws {
        switch self {
        case .some(let v): try v.bind(to: s, at: i)
        case .none: try s.check(sqlite3_bind_null(s.handle, i))
        }
    }
}

/// A prepared statement. Finalised when released; `Database` caches the ones it runs often.
/// Holds only the raw connection handle: the connection is closed with `sqlite3_close_v2`,
/// which keeps it alive until its last statement is finalised.
public final class Statement {
    let handle: OpaquePointer
    let connection: OpaquePointer
    let sql: String
    let path: String

    init(connection: OpaquePointer, sql: String, path: String) throws {
        var stmt: OpaquePointer?
        let rc = sqlite3_prepare_v2(connection, sql, -1, &stmt, nil)
        guard rc == SQLITE_OK, let stmt else {
            throw Database.error(rc, connection: connection, sql: sql, path: path)
        }
        handle = stmt
        self.connection = connection
        self.sql = sql
        self.path = path
    }

    deinit { sqlite3_finalize(handle) }

    func check(_ rc: Int32) throws {
        if rc != SQLITE_OK { throw Database.error(rc, connection: connection, sql: sql, path: path) }
    }

    /// Resets the statement and binds `values` to parameters 1, 2, ...
    @discardableResult
    public func bind(_ values: [any SQLBindable]) throws -> Statement {
        sqlite3_reset(handle)
        sqlite3_clear_bindings(handle)
        for (i, v) in values.enumerated() { try v.bind(to: self, at: Int32(i + 1)) }
        return self
    }

    /// Binds caller memory without a copy; the memory must stay valid until the next `step`/`reset`.
    public func bindBlobNoCopy(_ bytes: UnsafeRawBufferPointer, at index: Int32) throws {
        let base = bytes.baseAddress ?? UnsafeRawPointer(bitPattern: 1)!
        try check(sqlite3_bind_blob64(handle, index, base, sqlite3_uint64(bytes.count), nil))
    }

    /// Advances one row: true while a row is available, false when done.
    public func step() throws -> Bool {
        let rc = sqlite3_step(handle)
        switch rc {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            sqlite3_reset(handle)
            throw Database.error(rc, connection: connection, sql: sql, path: path)
        }
    }

    /// Runs to completion, ignoring rows (for INSERT/UPDATE/DELETE).
    public func run() throws {
        defer { sqlite3_reset(handle) }
        while try step() {}
    }

    public func reset() { sqlite3_reset(handle) }

    // MARK: reading the current row

    public func isNull(_ i: Int32) -> Bool { sqlite3_column_type(handle, i) == SQLITE_NULL }
    public func int(_ i: Int32) -> Int { Int(sqlite3_column_int64(handle, i)) }
    public func int64(_ i: Int32) -> Int64 { sqlite3_column_int64(handle, i) }
    public func double(_ i: Int32) -> Double { sqlite3_column_double(handle, i) }
    public func bool(_ i: Int32) -> Bool { sqlite3_column_int64(handle, i) != 0 }
    public func string(_ i: Int32) -> String {
        guard let p = sqlite3_column_text(handle, i) else { return "" }
        return String(cString: p)
    }
    public func optionalString(_ i: Int32) -> String? { isNull(i) ? nil : string(i) }
    public func optionalDouble(_ i: Int32) -> Double? { isNull(i) ? nil : double(i) }
    public func optionalInt(_ i: Int32) -> Int? { isNull(i) ? nil : int(i) }
    public func data(_ i: Int32) -> Data {
        let n = Int(sqlite3_column_bytes(handle, i))
        guard n > 0, let p = sqlite3_column_blob(handle, i) else { return Data() }
        return Data(bytes: p, count: n)
    }
}
