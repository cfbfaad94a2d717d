import Foundation
import HeraldCore
import Store
import TestSupport
import Testing

/// The audit trail's contract, on every engine: who sent each notification, how, and what it
/// named, written by ingest or (when ingest's write failed) by the dispatcher, listed by time,
/// and deleted with the status record after the retention.
@Suite struct AuditTrailTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func accepted(
        _ id: String,
        tenant: String = "a",
        at: Date,
        route: SendRoute = .api,
        target: NotificationTarget = .groups(["g1", "g2"])
    )
        -> NotificationStatus
    {
        NotificationStatus(
            id: id,
            tenantId: tenant,
            kind: target.kind,
            status: .accepted,
            acceptedAt: at,
            initiator: .init(principalId: "p-admin", tokenId: "jti-\(id)", route: route),
            targets: target
        )
    }

    @Test(arguments: TestStoreEngine.allCases)
    func theInitiatorAndTargetsAreKeptWhicheverProcessWritesFirst(_ engine: TestStoreEngine) async throws {
        let store = try await engine.open()
        let statuses = store.stores.statuses
        // Ingest wrote it; the dispatcher's later records keep what ingest wrote.
        let first = accepted("n1", at: now)
        try await statuses.recordAccepted(first)
        var dispatched = first
        dispatched.status = .dispatched
        dispatched.dispatchedAt = now + 1
        dispatched.initiator = nil
        dispatched.targets = nil
        try await statuses.save(dispatched)
        let read = try #require(try await statuses.status(tenantId: "a", id: "n1"))
        #expect(read.status == .dispatched)
        #expect(read.initiator == first.initiator)
        #expect(read.targets == .groups(["g1", "g2"]))

        // Ingest's write failed: the dispatcher's record, made from the request, carries them.
        let device = accepted("n2", at: now, route: .graph, target: .device("d-1"))
        var fromDispatcher = device
        fromDispatcher.status = .deferred
        try await statuses.save(fromDispatcher)
        try await statuses.recordAccepted(device)
        let second = try #require(try await statuses.status(tenantId: "a", id: "n2"))
        #expect(second.status == .deferred)
        #expect(second.initiator == NotificationStatus.Initiator(principalId: "p-admin", tokenId: "jti-n2", route: .graph))
        #expect(second.targets == .device("d-1"))

        // A record from before the audit trail has neither, and says so by leaving them out.
        try await statuses.save(NotificationStatus(id: "n0", tenantId: "a", kind: .group, status: .dispatched, acceptedAt: now))
        let old = try #require(try await statuses.status(tenantId: "a", id: "n0"))
        #expect(old.initiator == nil && old.targets == nil)
        let json = String(decoding: try HeraldJSON.encoder.encode(old), as: UTF8.self)
        #expect(!json.contains("initiator") && !json.contains("targets"))
    }

    @Test(arguments: TestStoreEngine.allCases)
    func theTrailListsOneTenantsSendsOldestFirstWithinTheTimesAsked(_ engine: TestStoreEngine) async throws {
        let statuses = try await engine.open().stores.statuses
        for (index, id) in ["t3", "t1", "t2"].enumerated() {
            try await statuses.recordAccepted(accepted(id, at: now + Double([30, 10, 20][index])))
        }
        try await statuses.recordAccepted(accepted("other", tenant: "b", at: now + 15))
        #expect(try await statuses.trail(tenantId: "a", since: now, until: nil, limit: 10).map(\.id) == ["t1", "t2", "t3"])
        #expect(try await statuses.trail(tenantId: "a", since: now + 11, until: now + 30, limit: 10).map(\.id) == ["t2"])
        #expect(try await statuses.trail(tenantId: "a", since: now, until: nil, limit: 2).map(\.id) == ["t1", "t2"])
        #expect(try await statuses.trail(tenantId: "b", since: now, until: nil, limit: 10).map(\.id) == ["other"])
        #expect(try await statuses.trail(tenantId: "c", since: now, until: nil, limit: 10).isEmpty)
    }

    @Test(arguments: TestStoreEngine.allCases)
    func notificationsOlderThanTheRetentionAreDeletedWithTheirCounts(_ engine: TestStoreEngine) async throws {
        let store = try await engine.open()
        try await store.stores.writer.importFile(sampleDirectory())
        let statuses = store.stores.statuses
        let day = 86_400.0
        try await statuses.recordAccepted(accepted("old", at: now - 91 * day))
        try await statuses.recordAccepted(accepted("old-b", tenant: "b", at: now - 200 * day))
        try await statuses.recordAccepted(accepted("kept", at: now - 89 * day))
        try await store.stores.pushLedger.addDelivery(["old": DeliveryTally(sent: 1, failed: ["Unregistered": 1])])
        let cutoff = now - 90 * day
        #expect(try await statuses.prune(acceptedBefore: cutoff) == 2)
        #expect(try await statuses.status(tenantId: "a", id: "old") == nil)
        #expect(try await statuses.status(tenantId: "b", id: "old-b") == nil)
        #expect(try await statuses.status(tenantId: "a", id: "kept") != nil)
        #expect(try await statuses.prune(acceptedBefore: cutoff) == 0)
        // A notification of the same id recorded again starts with no counts of the deleted one.
        try await statuses.recordAccepted(accepted("old", at: now))
        #expect(try await statuses.status(tenantId: "a", id: "old")?.delivery == NotificationStatus.Delivery())
    }
}
