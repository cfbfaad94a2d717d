import Logging
import PostgresNIO

/// The PostgreSQL schema, as numbered steps. Opening the database applies the steps it lacks in
/// one transaction that holds an advisory lock, so that many processes starting at once on many
/// hosts migrate exactly once and none of them reads a half-made schema.
enum PostgresSchema {
    /// The advisory lock key of migrations (any 64-bit number no other code of this database uses).
    static let migrationLock: Int64 = 0x4845_5241_4C44_0001

    /// Step N brings the schema from version N-1 to N. Append only: a step, once released, never changes.
    static let steps: [[PostgresQuery]] = [
        [
            """
            CREATE TABLE throttle_log (
                scope text NOT NULL,
                notification_id text NOT NULL,
                at double precision NOT NULL,
                PRIMARY KEY (scope, notification_id)
            )
            """,
            "CREATE INDEX throttle_log_scope_at ON throttle_log (scope, at)",
            """
            CREATE TABLE idempotency_keys (
                tenant_id text NOT NULL,
                key text NOT NULL,
                request_hash text NOT NULL,
                notification_id text NOT NULL,
                state text NOT NULL,
                created_at double precision NOT NULL,
                updated_at double precision NOT NULL,
                PRIMARY KEY (tenant_id, key)
            )
            """,
            "CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at)",
        ]
    ]

    /// Applies the steps the database lacks; throws when it holds a newer schema than `steps` knows.
    static func migrate(_ client: PostgresClient, logger: Logger) async throws {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(migrationLock))", logger: logger)
            try await connection.query("CREATE TABLE IF NOT EXISTS herald_schema (version integer NOT NULL)", logger: logger)
            var version = 0
            for try await found in try await connection.query("SELECT version FROM herald_schema", logger: logger).decode(Int.self) {
                version = found
            }
            guard version <= steps.count else { throw PostgresStoreError.newerSchema(found: version, known: steps.count) }
            guard version < steps.count else { return }
            for step in steps[version...] {
                for statement in step { try await connection.query(statement, logger: logger) }
            }
            try await connection.query("DELETE FROM herald_schema", logger: logger)
            try await connection.query("INSERT INTO herald_schema (version) VALUES (\(steps.count))", logger: logger)
            logger.info("PostgreSQL schema migrated", metadata: ["schema.from": "\(version)", "schema.to": "\(steps.count)"])
        }
    }
}
