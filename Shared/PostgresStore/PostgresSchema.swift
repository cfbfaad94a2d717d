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
        ],
        // The directory, statuses and console sessions. Ids sort as the bytes of their UTF-8
        // (COLLATE "C"), the order the stores page in and the SQLite engine uses.
        [
            #"CREATE TABLE tenants (id text COLLATE "C" PRIMARY KEY, name text NOT NULL)"#,
            #"""
            CREATE TABLE users (
                tenant_id text COLLATE "C" NOT NULL, id text COLLATE "C" NOT NULL, display_name text NOT NULL,
                PRIMARY KEY (tenant_id, id))
            """#,
            #"""
            CREATE TABLE devices (
                tenant_id text COLLATE "C" NOT NULL, id text COLLATE "C" NOT NULL, user_id text COLLATE "C",
                platform text NOT NULL, enrolled boolean NOT NULL, company_portal boolean NOT NULL,
                notifications_allowed boolean NOT NULL, google_play boolean NOT NULL, push_token text,
                PRIMARY KEY (tenant_id, id))
            """#,
            "CREATE INDEX devices_by_user ON devices (tenant_id, user_id, id)",
            #"""
            CREATE TABLE groups (
                tenant_id text COLLATE "C" NOT NULL, id text COLLATE "C" NOT NULL, display_name text NOT NULL,
                PRIMARY KEY (tenant_id, id))
            """#,
            #"""
            CREATE TABLE group_members (
                tenant_id text COLLATE "C" NOT NULL, group_id text COLLATE "C" NOT NULL, member_type text NOT NULL,
                member_id text COLLATE "C" NOT NULL,
                PRIMARY KEY (tenant_id, group_id, member_type, member_id))
            """#,
            #"CREATE TABLE roles (tenant_id text COLLATE "C" NOT NULL, id text COLLATE "C" NOT NULL, PRIMARY KEY (tenant_id, id))"#,
            #"""
            CREATE TABLE role_permissions (
                tenant_id text COLLATE "C" NOT NULL, role_id text COLLATE "C" NOT NULL, permission text NOT NULL,
                PRIMARY KEY (tenant_id, role_id, permission))
            """#,
            #"CREATE TABLE principals (tenant_id text COLLATE "C" NOT NULL, id text COLLATE "C" NOT NULL, PRIMARY KEY (tenant_id, id))"#,
            #"""
            CREATE TABLE principal_roles (
                tenant_id text COLLATE "C" NOT NULL, principal_id text COLLATE "C" NOT NULL, role_id text COLLATE "C" NOT NULL,
                PRIMARY KEY (tenant_id, principal_id, role_id))
            """#,
            #"""
            CREATE TABLE notifications (
                id text COLLATE "C" PRIMARY KEY, tenant_id text COLLATE "C" NOT NULL, kind text NOT NULL, status text NOT NULL,
                accepted_at double precision NOT NULL, deferred_until double precision, dispatched_at double precision,
                envelopes_ios integer NOT NULL DEFAULT 0, envelopes_android integer NOT NULL DEFAULT 0,
                skipped text NOT NULL DEFAULT '{}', reason text, updated_at double precision NOT NULL)
            """#,
            "CREATE INDEX notifications_by_tenant ON notifications (tenant_id, accepted_at)",
            #"""
            CREATE TABLE console_sessions (
                id_hash text PRIMARY KEY, tenant_id text NOT NULL, principal_id text NOT NULL, csrf text NOT NULL,
                expires_at double precision NOT NULL)
            """#,
            "CREATE INDEX console_sessions_by_expiry ON console_sessions (expires_at)",
        ],
        // The throttle's check-and-record in one round trip instead of seven (BEGIN, the lock, four
        // statements, COMMIT): the statement is its own transaction, so the lock holds until it ends.
        // Returns an empty array when the send is admitted (recorded now, or recorded before: a
        // redelivered request), else the send times inside the window, oldest first, for the caller
        // to work out when room opens.
        [
            """
            CREATE FUNCTION herald_throttle_admit(
                p_scope text, p_notification_id text, p_window_start double precision, p_at double precision, p_limit integer
            ) RETURNS double precision[] LANGUAGE plpgsql AS $$
            DECLARE
                recent double precision[];
            BEGIN
                PERFORM pg_advisory_xact_lock(hashtextextended(p_scope, 0));
                IF EXISTS (SELECT 1 FROM throttle_log WHERE scope = p_scope AND notification_id = p_notification_id) THEN
                    RETURN '{}';
                END IF;
                DELETE FROM throttle_log WHERE scope = p_scope AND at <= p_window_start;
                SELECT coalesce(array_agg(at ORDER BY at), '{}') INTO recent FROM throttle_log WHERE scope = p_scope;
                IF cardinality(recent) < p_limit THEN
                    INSERT INTO throttle_log (scope, notification_id, at) VALUES (p_scope, p_notification_id, p_at);
                    RETURN '{}';
                END IF;
                RETURN recent;
            END
            $$
            """
        ],
        // The dispatcher's first step in one round trip (`DispatchGate`), and the throttle's
        // check-and-record in three statements instead of five: the lock on the scope; one read of
        // the request's status (when finished, a copy: nothing else is done), whether this request
        // is recorded already (a redelivery: admitted again, not counted twice), the send times
        // inside the window and how many fell out of it; then the record, if the send fits. Rows
        // out of the window are deleted only when there are some. `recent` is empty when the send
        // is admitted, else the send times inside the window, oldest first, for the caller to work
        // out when room opens; NULL when the request is finished. The device of a device send is
        // joined to this in the statement that calls it. `herald_throttle_admit` (step 3) stays for
        // processes of the version before, during a rolling upgrade; it takes the same lock.
        [
            """
            CREATE FUNCTION herald_dispatch_admit(
                p_tenant_id text, p_notification_id text, p_scope text, p_window_start double precision,
                p_at double precision, p_limit integer, OUT finished text, OUT recent double precision[]
            ) LANGUAGE plpgsql AS $$
            DECLARE
                seen boolean;
                stale bigint;
            BEGIN
                PERFORM pg_advisory_xact_lock(hashtextextended(p_scope, 0));
                SELECT
                    (SELECT n.status FROM notifications n WHERE n.tenant_id = p_tenant_id AND n.id = p_notification_id
                        AND n.status IN ('dispatched', 'failed', 'throttled')),
                    coalesce(bool_or(t.notification_id = p_notification_id), false),
                    coalesce(array_agg(t.at ORDER BY t.at) FILTER (WHERE t.at > p_window_start), '{}'),
                    count(*) FILTER (WHERE t.at <= p_window_start)
                INTO finished, seen, recent, stale
                FROM throttle_log t WHERE t.scope = p_scope;
                IF finished IS NOT NULL THEN
                    recent := NULL;
                    RETURN;
                END IF;
                IF seen THEN
                    recent := '{}';
                    RETURN;
                END IF;
                IF stale > 0 THEN
                    DELETE FROM throttle_log WHERE scope = p_scope AND at <= p_window_start;
                END IF;
                IF cardinality(recent) < p_limit THEN
                    INSERT INTO throttle_log (scope, notification_id, at) VALUES (p_scope, p_notification_id, p_at);
                    recent := '{}';
                END IF;
            END
            $$
            """,
            // Every read of a scope reads all its rows now (at most the limit and those out of the
            // window), through the primary key (scope, notification_id): an index on (scope, at)
            // only cost a second index entry per send.
            "DROP INDEX throttle_log_scope_at",
        ],
        // herald-gateway: the envelopes it sent (kept until they expire) and what it tallied per notification.
        [
            #"CREATE TABLE sent_envelopes (id text COLLATE "C" PRIMARY KEY, keep_until double precision NOT NULL)"#,
            "CREATE INDEX sent_envelopes_by_expiry ON sent_envelopes (keep_until)",
            "ALTER TABLE notifications ADD COLUMN delivery_sent bigint NOT NULL DEFAULT 0",
            "ALTER TABLE notifications ADD COLUMN delivery_expired bigint NOT NULL DEFAULT 0",
            #"""
            CREATE TABLE delivery_failures (
                notification_id text COLLATE "C" NOT NULL, reason text NOT NULL, count bigint NOT NULL,
                PRIMARY KEY (notification_id, reason))
            """#,
        ],
        // The audit trail: who sent each notification, through which route, and what it named.
        [
            "ALTER TABLE notifications ADD COLUMN initiator text, ADD COLUMN initiator_token text, ADD COLUMN route text, ADD COLUMN targets text"
        ],
        // A dispatcher's batch of device sends at the gate in one statement, not one each: the
        // server's fixed cost of a statement in a transaction of its own was most of its time per
        // send (BENCHMARKS.md). `herald_dispatch_admit` of each question in order, so that two of
        // one scope count as two. Every scope's lock is taken first, in one order, so that two
        // batches sharing scopes cannot deadlock. One row per question, `ord` its position from 1.
        [
            """
            CREATE FUNCTION herald_dispatch_admit_all(
                p_tenant_ids text[], p_notification_ids text[], p_scopes text[], p_window_starts double precision[],
                p_ats double precision[], p_limits integer[]
            ) RETURNS TABLE (ord integer, finished text, recent double precision[]) LANGUAGE plpgsql AS $$
            DECLARE
                lock_key bigint;
            BEGIN
                FOR lock_key IN SELECT DISTINCT hashtextextended(s, 0) FROM unnest(p_scopes) s ORDER BY 1 LOOP
                    PERFORM pg_advisory_xact_lock(lock_key);
                END LOOP;
                FOR i IN 1 .. coalesce(cardinality(p_scopes), 0) LOOP
                    ord := i;
                    SELECT a.finished, a.recent INTO finished, recent FROM herald_dispatch_admit(
                        p_tenant_ids[i], p_notification_ids[i], p_scopes[i], p_window_starts[i], p_ats[i], p_limits[i]
                    ) a;
                    RETURN NEXT;
                END LOOP;
            END
            $$
            """
        ],
    ]

    /// Applies the steps the database lacks; throws when it holds a newer schema than `steps` knows.
    static func migrate(_ settings: PostgresSettings, logger: Logger) async throws {
        let connection = try await PostgresConnection.connect(configuration: try settings.connectionConfiguration(), id: 0, logger: logger)
        do {
            try await migrate(connection, logger: logger)
        } catch {
            try? await connection.close()
            guard let error = error as? PostgresTransactionError else { throw error }
            throw error.underlying
        }
        try? await connection.close()
    }

    private static func migrate(_ connection: PostgresConnection, logger: Logger) async throws {
        try await connection.withTransaction(logger: logger) { connection in
            // A migration takes as long as its steps need (an index on a large table), and the
            // processes that wait for the lock wait as long: neither is one of the services' store calls.
            try await connection.query("SET LOCAL statement_timeout = 0", logger: logger)
            try await connection.query("SET LOCAL lock_timeout = 0", logger: logger)
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
