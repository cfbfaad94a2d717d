import GRDB
import GRDBSQLite

/// A SELECT on the send path, run through SQLite's own calls on one of GRDB's cached statements,
/// its columns read by index. GRDB's `Row` and `fetchOne`/`fetchAll` cost 10,000–25,000
/// instructions per statement beyond SQLite's own work (argument arrays, generic decoding,
/// metadata lookups, row copies), more than these point reads themselves; `make
/// bench-instructions` counts the difference (BENCHMARKS.md).
///
/// Only for reads inside a transaction GRDB opened: GRDB's bookkeeping for a statement (database
/// observation, suspension, aborted transactions) has nothing to do for a SELECT that runs there.
/// Each use resets the statement and clears its bindings before it returns, so it holds no lock
/// and no copy of an argument afterwards. A statement used here is used nowhere through GRDB.
struct RawSelect {
    private let statement: Statement

    init(_ db: Database, sql: String) throws {
        statement = try db.cachedStatement(sql: sql)
    }

    /// Calls `body` with each row of the statement run with `arguments`, until it returns false.
    func forEachRow(_ arguments: [RawArgument], body: (RawRow) throws -> Bool) throws {
        let handle = statement.sqliteStatement
        defer {
            sqlite3_reset(handle)
            sqlite3_clear_bindings(handle)
        }
        sqlite3_reset(handle)
        for (index, argument) in zip(Int32(1)..., arguments) {
            let code = argument.bind(to: handle, at: index)
            guard code == SQLITE_OK else { throw error(code) }
        }
        while true {
            switch sqlite3_step(handle) {
            case SQLITE_ROW: guard try body(RawRow(handle: handle)) else { return }
            case SQLITE_DONE: return
            case let code: throw error(code)
            }
        }
    }

    /// `read` of the first row, or nil when there is none.
    func first<T>(_ arguments: [RawArgument], read: (RawRow) throws -> T) throws -> T? {
        var value: T?
        try forEachRow(arguments) { row in
            value = try read(row)
            return false
        }
        return value
    }

    /// `read` of every row, those it reads as nil left out.
    func all<T>(_ arguments: [RawArgument], read: (RawRow) throws -> T?) throws -> [T] {
        var values: [T] = []
        try forEachRow(arguments) { row in
            if let value = try read(row) { values.append(value) }
            return true
        }
        return values
    }

    /// True when the statement has at least one row.
    func exists(_ arguments: [RawArgument]) throws -> Bool {
        try first(arguments) { _ in true } ?? false
    }

    private func error(_ code: Int32) -> DatabaseError {
        let message = sqlite3_db_handle(statement.sqliteStatement).flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) }
        return DatabaseError(resultCode: ResultCode(rawValue: code), message: message, sql: statement.sql)
    }
}

/// A value bound to a `RawSelect` parameter. SQLite copies it (`SQLITE_TRANSIENT`).
enum RawArgument {
    case text(String)
    case real(Double)
    case null

    fileprivate func bind(to handle: OpaquePointer, at index: Int32) -> Int32 {
        switch self {
        case .text(let text):
            // The length is given: a NUL inside the text must not end it early.
            var text = text
            return text.withUTF8 { sqlite3_bind_text(handle, index, $0.baseAddress, Int32($0.count), transient) }
        case .real(let value):
            return sqlite3_bind_double(handle, index, value)
        case .null:
            return sqlite3_bind_null(handle, index)
        }
    }
}

/// SQLite's `SQLITE_TRANSIENT`: copy the bound bytes. A C macro Swift does not import.
private let transient = unsafeBitCast(OpaquePointer(bitPattern: -1), to: sqlite3_destructor_type.self)

/// The current row of a `RawSelect`, valid only inside its `body`.
struct RawRow {
    fileprivate let handle: OpaquePointer

    /// Column `index` as text; nil when it is NULL.
    func text(_ index: Int32) -> String? {
        guard sqlite3_column_type(handle, index) != SQLITE_NULL, let bytes = sqlite3_column_text(handle, index) else {
            return nil
        }
        return String(decoding: UnsafeBufferPointer(start: bytes, count: Int(sqlite3_column_bytes(handle, index))), as: UTF8.self)
    }

    /// Column `index` as a truth value: a nonzero integer (Herald's flags are INTEGER columns).
    func bool(_ index: Int32) -> Bool {
        sqlite3_column_int64(handle, index) != 0
    }

    /// Column `index` as a floating-point number.
    func real(_ index: Int32) -> Double {
        sqlite3_column_double(handle, index)
    }
}
