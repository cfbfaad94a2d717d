import Foundation
import HeraldCore
import Store
import TestSupport
import Testing

/// herald-gateway's ledger, on every engine: sent envelopes seen by every process until they
/// expire, a push token cleared only while it is the one that failed, delivery counts that add up
/// in the status record.
@Suite struct PushLedgerTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test(arguments: TestStoreEngine.allCases)
    func aSentEnvelopeIsSeenByEveryProcessUntilItExpires(_ engine: TestStoreEngine) async throws {
        let ledgers = try await engine.open(handles: 2).map(\.stores.pushLedger)
        try await ledgers[0].recordSent([
            (id: "e-live", keepUntil: now.addingTimeInterval(60)), (id: "e-old", keepUntil: now.addingTimeInterval(-1)),
        ])
        #expect(try await ledgers[1].sent(among: ["e-live", "e-old", "e-never"], now: now) == ["e-live"])
        // Recorded again with an earlier time (a redelivered copy): the later time holds.
        try await ledgers[1].recordSent([(id: "e-live", keepUntil: now), (id: "e-live", keepUntil: now.addingTimeInterval(-5))])
        #expect(try await ledgers[0].sent(among: ["e-live"], now: now.addingTimeInterval(30)) == ["e-live"])
        #expect(try await ledgers[0].purgeSent(before: now) == 1, "only the expired one goes")
        #expect(try await ledgers[1].sent(among: ["e-live"], now: now) == ["e-live"])
        #expect(try await ledgers[1].sent(among: [], now: now).isEmpty)
    }

    @Test(arguments: TestStoreEngine.allCases)
    func aPushTokenIsClearedOnlyWhileItIsStillTheOneThatFailed(_ engine: TestStoreEngine) async throws {
        let stores = try await engine.open().stores
        try await stores.writer.importFile(sampleDirectory())
        let ledger = stores.pushLedger
        #expect(
            try await ledger.clearPushToken(tenantId: "a", deviceId: "d-phone", ifStill: "tok-old") == false,
            "the directory has a newer token"
        )
        #expect(try await stores.directory.device(tenantId: "a", deviceId: "d-phone")?.pushToken == "tok-a-d-phone")
        #expect(try await ledger.clearPushToken(tenantId: "a", deviceId: "d-phone", ifStill: "tok-a-d-phone"))
        #expect(try await stores.directory.device(tenantId: "a", deviceId: "d-phone")?.pushToken == nil)
        #expect(try await ledger.clearPushToken(tenantId: "a", deviceId: "d-phone", ifStill: "tok-a-d-phone") == false)
        #expect(
            try await stores.directory.device(tenantId: "b", deviceId: "d-phone")?.pushToken == "tok-b-d-phone",
            "another tenant's device of the same id"
        )
    }

    @Test(arguments: TestStoreEngine.allCases)
    func deliveryTalliesAddUpAcrossProcesses(_ engine: TestStoreEngine) async throws {
        let handles = try await engine.open(handles: 2).map(\.stores)
        try await handles[0].statuses.recordAccepted(
            NotificationStatus(id: "n-1", tenantId: "a", kind: .group, status: .accepted, acceptedAt: now)
        )
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<20 {
                group.addTask {
                    try await handles[i % 2].pushLedger.addDelivery([
                        "n-1": DeliveryTally(sent: 2, expired: i % 2, failed: i % 4 == 0 ? ["Unregistered": 1] : ["TooManyRequests": 0]),
                        "n-unknown": DeliveryTally(sent: 1),
                    ])
                }
            }
            try await group.waitForAll()
        }
        let status = try await handles[1].statuses.status(tenantId: "a", id: "n-1")
        #expect(status?.delivery == NotificationStatus.Delivery(sent: 40, failed: ["Unregistered": 5], expired: 10))
        #expect(try await handles[0].statuses.statusForOperator(id: "n-unknown") == nil, "a tally of an unknown notification makes none")

        // heraldctl push dead requeue takes failures back; a reason at zero is no longer shown.
        try await handles[0].pushLedger.addDelivery(["n-1": DeliveryTally(failed: ["Unregistered": -5, "BadTopic": -1])])
        let requeued = try await handles[1].statuses.status(tenantId: "a", id: "n-1")
        #expect(requeued?.delivery == NotificationStatus.Delivery(sent: 40, failed: [:], expired: 10))
    }
}
