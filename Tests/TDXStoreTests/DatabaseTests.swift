import Foundation
import XCTest
@testable import TDXStore

final class DatabaseTests: XCTestCase {
    func testTypedBindingRoundTrip() throws {
        let db = try Database(path: makeTempDir(self) + "/t.sqlite")
        try db.execute("CREATE TABLE t(i INTEGER, d REAL, s TEXT, b BLOB, n TEXT)")
        let blob = Data([0, 1, 2, 255])
        try db.transaction {
            try db.run("INSERT INTO t VALUES (?, ?, ?, ?, ?)", Int.min, 0.1 + 0.2, "γ-α ☃", blob, String?.none)
            try db.run("INSERT INTO t VALUES (?, ?, ?, ?, ?)", 7, -0.0, "", Data(), "x")
        }
        let rows = try db.rows("SELECT i, d, s, b, n FROM t ORDER BY rowid") { s in
            (s.int(0), s.double(1), s.string(2), s.data(3), s.optionalString(4), s.isNull(3))
        }
        XCTAssertEqual(rows.count, 2)
        XCTAssertEqual(rows[0].0, Int.min)
        XCTAssertEqual(rows[0].1, 0.1 + 0.2)  // exact: REAL is an IEEE double
        XCTAssertEqual(rows[0].2, "γ-α ☃")
        XCTAssertEqual(rows[0].3, blob)
        XCTAssertNil(rows[0].4)
        XCTAssertEqual(rows[1].3, Data())
        XCTAssertFalse(rows[1].5, "an empty blob binds as a blob, not NULL")
        XCTAssertEqual(rows[1].4, "x")
    }

    func testTransactionRollsBackOnError() throws {
        let db = try Database(path: makeTempDir(self) + "/t.sqlite")
        try db.execute("CREATE TABLE t(x INTEGER)")
        struct Boom: Error {}
        XCTAssertThrowsError(try db.transaction {
            try db.run("INSERT INTO t VALUES (1)")
            throw Boom()
        })
        XCTAssertEqual(try db.scalar("SELECT count(*) FROM t"), 0)
        XCTAssertFalse(db.isInTransaction)
    }

    func testNestedTransactionIsASavepoint() throws {
        let db = try Database(path: makeTempDir(self) + "/t.sqlite")
        try db.execute("CREATE TABLE t(x INTEGER)")
        struct Boom: Error {}
        try db.transaction {
            try db.run("INSERT INTO t VALUES (1)")
            XCTAssertThrowsError(try db.transaction {
                try db.run("INSERT INTO t VALUES (2)")
                throw Boom()
            })
            try db.run("INSERT INTO t VALUES (3)")
        }
        XCTAssertEqual(try db.rows("SELECT x FROM t ORDER BY x") { $0.int(0) }, [1, 3])
    }

    func testSyntaxErrorIsAnInternalErrorNamingTheStatement() throws {
        let db = try Database(path: makeTempDir(self) + "/t.sqlite")
        XCTAssertThrowsError(try db.run("SELEC 1")) { e in
            guard case .sqlite(_, _, let sql) = e as? StoreError else { return XCTFail("\(e)") }
            XCTAssertEqual(sql, "SELEC 1")
        }
    }
}
