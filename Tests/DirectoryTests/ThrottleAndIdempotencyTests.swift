import Foundation
import Testing
import Directory
import HeraldCore
import TestSupport

@Suite struct ThrottleLogTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func admitsExactlyTheLimitAcrossConcurrentWritersOnOneFile() async throws {
        let (first, path) = try temporaryDatabase()
        let second = try HeraldDatabase(path: path)  // another handle, as another process would have
        let logs = [SQLiteThrottleLog(database: first), SQLiteThrottleLog(database: second)]
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

    @Test func aRedeliveredSendIsNotCountedTwice() async throws {
        let (db, _) = try temporaryDatabase()
        let log = SQLiteThrottleLog(database: db)
        let rule = SlidingWindow(limit: 2, window: 3600)
        #expect(try await log.admit(scope: "s", notificationId: "n1", rule: rule, now: now) == nil)
        #expect(try await log.admit(scope: "s", notificationId: "n1", rule: rule, now: now) == nil)
        #expect(try await log.admit(scope: "s", notificationId: "n2", rule: rule, now: now) == nil)
        #expect(try await log.admit(scope: "s", notificationId: "n3", rule: rule, now: now) == now.addingTimeInterval(3600))
        // n1 is still admitted (it was counted), and other scopes are separate.
        #expect(try await log.admit(scope: "s", notificationId: "n1", rule: rule, now: now) == nil)
        #expect(try await log.admit(scope: "other", notificationId: "n3", rule: rule, now: now) == nil)
    }

    @Test func roomReopensAsTheWindowSlides() async throws {
        let (db, _) = try temporaryDatabase()
        let log = SQLiteThrottleLog(database: db)
        let rule = SlidingWindow(limit: 1, window: 60)
        #expect(try await log.admit(scope: "s", notificationId: "a", rule: rule, now: now) == nil)
        #expect(try await log.admit(scope: "s", notificationId: "b", rule: rule, now: now.addingTimeInterval(59)) == now.addingTimeInterval(60))
        #expect(try await log.admit(scope: "s", notificationId: "b", rule: rule, now: now.addingTimeInterval(60)) == nil)
    }
}

@Suite struct IdempotencyStoreTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func sameKeySameBodyReplaysAndAnotherBodyConflicts() async throws {
        let (db, _) = try temporaryDatabase()
        let store = SQLiteIdempotencyStore(database: db)
        #expect(try await store.reserve(tenantId: "a", key: "k", requestHash: "h1", candidateId: "id1", now: now) == .proceed(notificationId: "id1"))
        #expect(try await store.reserve(tenantId: "a", key: "k", requestHash: "h1", candidateId: "id2", now: now) == .inProgress)
        try await store.complete(tenantId: "a", key: "k")
        #expect(try await store.reserve(tenantId: "a", key: "k", requestHash: "h1", candidateId: "id3", now: now) == .replay(notificationId: "id1"))
        #expect(try await store.reserve(tenantId: "a", key: "k", requestHash: "h2", candidateId: "id4", now: now) == .conflict)
        // Keys belong to a tenant.
        #expect(try await store.reserve(tenantId: "b", key: "k", requestHash: "h2", candidateId: "id5", now: now) == .proceed(notificationId: "id5"))
        // After 24 hours the key is new again.
        #expect(try await store.reserve(tenantId: "a", key: "k", requestHash: "h2", candidateId: "id6", now: now.addingTimeInterval(86_401))
                == .proceed(notificationId: "id6"))
    }

    @Test func aFailedOrAbandonedAttemptResumesUnderTheSameId() async throws {
        let (db, _) = try temporaryDatabase()
        let store = SQLiteIdempotencyStore(database: db, abandonAfter: 10)
        _ = try await store.reserve(tenantId: "a", key: "k", requestHash: "h", candidateId: "id1", now: now)
        try await store.release(tenantId: "a", key: "k")
        #expect(try await store.reserve(tenantId: "a", key: "k", requestHash: "h", candidateId: "id2", now: now) == .resume(notificationId: "id1"))
        // A claim whose process died is resumed once it is older than abandonAfter.
        _ = try await store.reserve(tenantId: "a", key: "k2", requestHash: "h", candidateId: "id3", now: Date())
        #expect(try await store.reserve(tenantId: "a", key: "k2", requestHash: "h", candidateId: "id4", now: Date()) == .inProgress)
        #expect(try await store.reserve(tenantId: "a", key: "k2", requestHash: "h", candidateId: "id5", now: Date().addingTimeInterval(11))
                == .resume(notificationId: "id3"))
    }
}
