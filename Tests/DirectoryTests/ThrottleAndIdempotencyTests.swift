import Foundation
import GRDB
import HeraldCore
import SQLiteStore
import Store
import TestSupport
import Testing

/// The throttle log's contract, on every engine.
@Suite struct ThrottleLogTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test(arguments: TestStoreEngine.allCases)
    func admitsExactlyTheLimitAcrossConcurrentWritersOnOneStore(_ engine: TestStoreEngine) async throws {
        // Two handles on one store, as two processes (or two hosts) would have.
        let logs = try await engine.open(handles: 2).map(\.throttleLog)
        let rule = SlidingWindow(limit: 25, window: 3600)
        let now = now
        let admitted = try await withThrowingTaskGroup(of: Bool.self) { group in
            for i in 0..<60 {
                group.addTask {
                    try await logs[i % 2].admit(scope: "group:a", notificationId: "n\(i)", rule: rule, now: now) == nil
                }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(admitted == 25)
        #expect(try await logs[0].used(scope: "group:a", rule: rule, now: now) == 25)
    }

    @Test(arguments: TestStoreEngine.allCases)
    func aRedeliveredSendIsNotCountedTwice(_ engine: TestStoreEngine) async throws {
        let log = try await engine.open().throttleLog
        let rule = SlidingWindow(limit: 2, window: 3600)
        #expect(try await log.admit(scope: "s", notificationId: "n1", rule: rule, now: now) == nil)
        #expect(try await log.admit(scope: "s", notificationId: "n1", rule: rule, now: now) == nil)
        #expect(try await log.admit(scope: "s", notificationId: "n2", rule: rule, now: now) == nil)
        #expect(try await log.admit(scope: "s", notificationId: "n3", rule: rule, now: now) == now.addingTimeInterval(3600))
        // n1 is still admitted (it was counted), and other scopes are separate.
        #expect(try await log.admit(scope: "s", notificationId: "n1", rule: rule, now: now) == nil)
        #expect(try await log.admit(scope: "other", notificationId: "n3", rule: rule, now: now) == nil)
    }

    @Test(arguments: TestStoreEngine.allCases)
    func roomReopensAsTheWindowSlides(_ engine: TestStoreEngine) async throws {
        let log = try await engine.open().throttleLog
        let rule = SlidingWindow(limit: 1, window: 60)
        #expect(try await log.admit(scope: "s", notificationId: "a", rule: rule, now: now) == nil)
        #expect(
            try await log.admit(scope: "s", notificationId: "b", rule: rule, now: now.addingTimeInterval(59)) == now.addingTimeInterval(60)
        )
        #expect(try await log.admit(scope: "s", notificationId: "b", rule: rule, now: now.addingTimeInterval(60)) == nil)
    }
}

/// The idempotency store's contract, on every engine.
@Suite struct IdempotencyStoreTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test(arguments: TestStoreEngine.allCases)
    func sameKeySameBodyReplaysAndAnotherBodyConflicts(_ engine: TestStoreEngine) async throws {
        let store = try await engine.open().idempotency()
        #expect(
            try await store.reserve(tenantId: "a", key: "k", requestHash: "h1", candidateId: "id1", now: now)
                == .proceed(notificationId: "id1")
        )
        #expect(try await store.reserve(tenantId: "a", key: "k", requestHash: "h1", candidateId: "id2", now: now) == .inProgress)
        try await store.complete(tenantId: "a", key: "k")
        #expect(
            try await store.reserve(tenantId: "a", key: "k", requestHash: "h1", candidateId: "id3", now: now)
                == .replay(notificationId: "id1")
        )
        #expect(try await store.reserve(tenantId: "a", key: "k", requestHash: "h2", candidateId: "id4", now: now) == .conflict)
        // Keys belong to a tenant.
        #expect(
            try await store.reserve(tenantId: "b", key: "k", requestHash: "h2", candidateId: "id5", now: now)
                == .proceed(notificationId: "id5")
        )
        // After 24 hours the key is new again.
        #expect(
            try await store.reserve(tenantId: "a", key: "k", requestHash: "h2", candidateId: "id6", now: now.addingTimeInterval(86_401))
                == .proceed(notificationId: "id6")
        )
    }

    @Test(arguments: TestStoreEngine.allCases)
    func aFailedOrAbandonedAttemptResumesUnderTheSameId(_ engine: TestStoreEngine) async throws {
        let store = try await engine.open().idempotency(abandonAfter: 10)
        _ = try await store.reserve(tenantId: "a", key: "k", requestHash: "h", candidateId: "id1", now: now)
        try await store.release(tenantId: "a", key: "k")
        #expect(
            try await store.reserve(tenantId: "a", key: "k", requestHash: "h", candidateId: "id2", now: now)
                == .resume(notificationId: "id1")
        )
        // A claim whose process died is resumed once it is older than abandonAfter.
        _ = try await store.reserve(tenantId: "a", key: "k2", requestHash: "h", candidateId: "id3", now: Date())
        #expect(try await store.reserve(tenantId: "a", key: "k2", requestHash: "h", candidateId: "id4", now: Date()) == .inProgress)
        #expect(
            try await store.reserve(tenantId: "a", key: "k2", requestHash: "h", candidateId: "id5", now: Date().addingTimeInterval(11))
                == .resume(notificationId: "id3")
        )
    }
}

/// Scope keys stay apart whatever the ids hold, and the migration moves old keys to the new form.
@Suite struct ThrottleScopeTests {
    @Test func idsWithColonsNeverShareAScope() {
        #expect(ThrottleScope.deviceSends(tenantId: "a", deviceId: "b:c") != ThrottleScope.deviceSends(tenantId: "a:b", deviceId: "c"))
        #expect(ThrottleScope.deviceSends(tenantId: "a%3Ab", deviceId: "c") != ThrottleScope.deviceSends(tenantId: "a:b", deviceId: "c"))
        #expect(ThrottleScope.groupSends(tenantId: "a") == "group:a", "plain ids keep their readable keys")
        #expect(ThrottleScope.deviceSends(tenantId: "a", deviceId: "d-phone") == "device:a:d-phone")
    }

    @Test(arguments: TestStoreEngine.allCases)
    func tenDeviceSendsOfOneDeviceDoNotFillAnothersWindow(_ engine: TestStoreEngine) async throws {
        let log = try await engine.open().throttleLog
        let rule = SlidingWindow(limit: 10, window: 3600)
        let now = Date()
        for i in 0..<10 {
            #expect(
                try await log.admit(
                    scope: ThrottleScope.deviceSends(tenantId: "a", deviceId: "b:c"),
                    notificationId: "n\(i)",
                    rule: rule,
                    now: now
                ) == nil
            )
        }
        #expect(
            try await log.admit(
                scope: ThrottleScope.deviceSends(tenantId: "a:b", deviceId: "c"),
                notificationId: "other",
                rule: rule,
                now: now
            ) == nil,
            "tenant a:b's device c has its own window"
        )
    }

    @Test func theMigrationRewritesOldKeysAgainstTheDevicesThatExist() async throws {
        let (db, path) = try temporaryDatabase()
        func device(_ id: String, _ tenant: String) -> Device {
            Device(
                id: id,
                tenantId: tenant,
                userId: nil,
                platform: .ios,
                enrolled: true,
                companyPortalInstalled: true,
                notificationsAllowed: true,
                googlePlayServices: false,
                pushToken: "t"
            )
        }
        try await SQLiteDirectoryWriter(database: db).importFile(
            DirectoryFile(
                tenants: [Tenant(id: "a", name: "A"), Tenant(id: "a:b", name: "AB"), Tenant(id: "t", name: "T")],
                devices: [device("b:c", "a"), device("c", "a:b"), device("d-phone", "t")]
            )
        )
        // Rows written under the old keys, as a database from before the migration holds them.
        try await db.pool.write { db in
            for (scope, id) in [("device:a:b:c", "n1"), ("device:t:d-phone", "n2"), ("device:t:gone", "n3"), ("group:x:y", "n4")] {
                try db.execute(sql: "INSERT INTO throttle_log (scope, notification_id, at) VALUES (?, ?, 1)", arguments: [scope, id])
            }
            try db.execute(sql: "DELETE FROM grdb_migrations WHERE identifier = 'v3-unambiguous-throttle-scopes'")
        }
        let reopened = try HeraldDatabase(path: path)
        let rows = try await reopened.pool.read { db in
            try Row.fetchAll(db, sql: "SELECT scope, notification_id FROM throttle_log ORDER BY scope, notification_id")
                .map { "\($0[0] as String) \($0[1] as String)" }
        }
        #expect(
            rows
                == [
                    ThrottleScope.deviceSends(tenantId: "a", deviceId: "b:c") + " n1",  // ambiguous: kept for both devices
                    ThrottleScope.deviceSends(tenantId: "a:b", deviceId: "c") + " n1",
                    ThrottleScope.deviceSends(tenantId: "t", deviceId: "d-phone") + " n2",
                    ThrottleScope.groupSends(tenantId: "x:y") + " n4",
                ].sorted()
        )
    }
}
