import Foundation
import GRDB
import TestSupport
import Testing

@testable import SQLiteStore

/// The hot paths' transactions begin and commit through cached statements instead of GRDB's
/// `inTransaction`; they must still commit all or nothing and never leave a transaction open.
@Suite struct SQLiteTransactionTests {
    struct Refused: Error {}

    @Test func aTransactionCommitsOrRollsBackAndLeavesNoneOpen() async throws {
        let (database, _) = try temporaryDatabase()
        try await database.pool.writeWithoutTransaction { db in
            try db.execute(sql: "CREATE TABLE t (x INTEGER PRIMARY KEY)")
            try db.transaction(.immediate) { try db.execute(sql: "INSERT INTO t VALUES (1)") }
            #expect(throws: Refused.self) {
                try db.transaction(.immediate) {
                    try db.execute(sql: "INSERT INTO t VALUES (2)")
                    throw Refused()
                }
            }
            #expect(!db.isInsideTransaction)
            // A failing statement rolls back what came before it in the transaction.
            #expect(throws: DatabaseError.self) {
                try db.transaction(.immediate) {
                    try db.execute(sql: "INSERT INTO t VALUES (3)")
                    try db.execute(sql: "INSERT INTO t VALUES (1)")
                }
            }
            #expect(!db.isInsideTransaction)
            // And the cached statements serve again.
            let four = try db.transaction(.deferred) {
                try db.execute(sql: "INSERT INTO t VALUES (4)")
                return 4
            }
            #expect(four == 4)
            #expect(try Int.fetchAll(db, sql: "SELECT x FROM t ORDER BY x") == [1, 4])
        }
    }
}
