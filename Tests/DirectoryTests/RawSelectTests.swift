import Foundation
import GRDB
import TestSupport
import Testing

@testable import SQLiteStore

/// The send path's reads bind and read through SQLite's own calls (`RawSelect`); they must mean
/// what GRDB's reads meant: exact arguments, NULLs kept, errors thrown, nothing left running.
@Suite struct RawSelectTests {
    @Test func argumentsAreBoundExactlyAndColumnsReadByIndex() async throws {
        let (database, _) = try temporaryDatabase()
        try await database.pool.writeWithoutTransaction { db in
            try db.execute(sql: "CREATE TABLE t (k TEXT PRIMARY KEY, n TEXT, flag INTEGER NOT NULL, at REAL NOT NULL)")
            // GRDB binds a text up to its first NUL, so this key is written in SQL.
            try db.execute(sql: "INSERT INTO t VALUES ('a' || char(0) || 'b', 'é', 1, 1.5)")
            try db.execute(sql: "INSERT INTO t VALUES (?, ?, ?, ?)", arguments: ["a", nil, 0, -2.25])
            try db.transaction(.deferred) {
                let select = try RawSelect(db, sql: "SELECT k, n, flag, at FROM t WHERE k = ?")
                // A NUL inside a text is part of it, on the way in and on the way out.
                let first = try select.first([.text("a\u{0}b")]) { row in
                    (row.text(0), row.text(1), row.bool(2), row.real(3))
                }
                #expect(first?.0 == "a\u{0}b")
                #expect(first?.1 == "é")
                #expect(first?.2 == true)
                #expect(first?.3 == 1.5)
                let second = try select.first([.text("a")]) { row in (row.text(1), row.bool(2), row.real(3)) }
                #expect(second?.0 == nil)
                #expect(second?.1 == false)
                #expect(second?.2 == -2.25)
                #expect(try select.first([.text("b")]) { $0.text(0) } == nil)
                #expect(try select.exists([.text("a")]))
                #expect(try !select.exists([.text("")]))
                // A NULL argument is NULL, not an empty text.
                let all = try RawSelect(db, sql: "SELECT k FROM t WHERE ?1 IS NULL OR k = ?1 ORDER BY k")
                var keys: [String?] = []
                try all.forEachRow([.null]) { row in
                    keys.append(row.text(0))
                    return true
                }
                #expect(keys == ["a", "a\u{0}b"])
                keys = []
                try all.forEachRow([.real(3)]) { row in
                    keys.append(row.text(0))
                    return true
                }
                #expect(keys.isEmpty)
            }
        }
    }

    @Test func aStoppedReadLeavesNothingRunningAndFailuresThrow() async throws {
        let (database, _) = try temporaryDatabase()
        try await database.pool.writeWithoutTransaction { db in
            try db.execute(sql: "CREATE TABLE t (x INTEGER PRIMARY KEY)")
            try db.execute(sql: "INSERT INTO t VALUES (1), (2), (3)")
            var seen = 0
            try RawSelect(db, sql: "SELECT x FROM t ORDER BY x").forEachRow([]) { _ in
                seen += 1
                return seen < 2
            }
            #expect(seen == 2)
            // SQLite refuses to drop a table a running statement still reads.
            try db.execute(sql: "DROP TABLE t")
            // An error while stepping is thrown, and the statement serves again after it.
            let parse = try RawSelect(db, sql: "SELECT json(?)")
            #expect(throws: DatabaseError.self) { try parse.first([.text("{not json")]) { $0.text(0) } }
            #expect(try parse.first([.text(#"{"a": 1}"#)]) { $0.text(0) } == #"{"a":1}"#)
        }
    }
}
