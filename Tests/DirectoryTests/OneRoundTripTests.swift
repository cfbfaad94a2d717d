import Foundation
import HeraldCore
import Store
import TestSupport
import Testing

/// The calls that ask several stores at once (one round trip on PostgreSQL) answer what the
/// separate calls would, on every engine.
@Suite struct OneRoundTripTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    @Test(arguments: TestStoreEngine.allCases)
    func permissionsAndDeviceAnswerAsTheTwoReads(_ engine: TestStoreEngine) async throws {
        let stores = try await engine.open().stores
        try await stores.writer.importFile(sampleDirectory())
        let directory = stores.directory
        for (tenant, principal, device) in [
            ("a", "p-admin", "d-phone"), ("a", "p-admin", "d-macos"), ("a", "p-no-role", "d-phone"),
            // A device of another tenant is no device, for a principal of this one.
            ("a", "p-admin", "d-ios-only-in-b"), ("b", "p-admin", "d-phone"), ("a", "p-admin", "nothing"),
        ] {
            let both = try await directory.permissionsAndDevice(tenantId: tenant, principalId: principal, deviceId: device)
            #expect(both.permissions == (try await directory.permissions(tenantId: tenant, principalId: principal)))
            #expect(both.device == (try await directory.device(tenantId: tenant, deviceId: device)))
        }
        #expect(
            try await directory.permissionsAndDevice(tenantId: "a", principalId: "p-admin", deviceId: "d-phone").device?.platform == .ios
        )
        // A principal that does not exist learns nothing of the device.
        let ghost = try await directory.permissionsAndDevice(tenantId: "a", principalId: "ghost", deviceId: "d-phone")
        #expect(ghost.permissions == nil && ghost.device == nil)
    }

    /// Many device sends reading at once (one statement for several on PostgreSQL): each gets its
    /// own principal's permissions and its own tenant's device, as its two reads alone would give.
    @Test(arguments: TestStoreEngine.allCases)
    func permissionsAndDevicesReadTogetherAnswerEachAsAlone(_ engine: TestStoreEngine) async throws {
        let stores = try await engine.open().stores
        try await stores.writer.importFile(sampleDirectory())
        let directory = stores.directory
        let reads = [
            ("a", "p-admin", "d-phone"), ("a", "p-no-role", "d-phone"), ("b", "p-admin", "d-phone"), ("a", "p-admin", "d-macos"),
            ("a", "ghost", "d-phone"), ("a", "p-admin", "d-ios-only-in-b"), ("b", "p-admin", "d-ios-only-in-b"),
            ("a", "p-admin", "nothing"), ("c", "p-admin", "d-phone"), ("a", "p-admin", "d-android-gms"),
        ]
        let together = try await withThrowingTaskGroup(of: (Int, Set<Permission>?, Device?).self) { group in
            for index in 0..<(reads.count * 12) {
                let (tenant, principal, device) = reads[index % reads.count]
                group.addTask {
                    let both = try await directory.permissionsAndDevice(tenantId: tenant, principalId: principal, deviceId: device)
                    return (index % reads.count, both.permissions, both.device)
                }
            }
            return try await group.reduce(into: [(Int, Set<Permission>?, Device?)]()) { $0.append($1) }
        }
        #expect(together.count == reads.count * 12)
        for (index, permissions, device) in together {
            let (tenant, principal, deviceId) = reads[index]
            let exists = try await directory.permissions(tenantId: tenant, principalId: principal)
            #expect(permissions == exists, "\(reads[index])")
            #expect(device == (exists == nil ? nil : try await directory.device(tenantId: tenant, deviceId: deviceId)), "\(reads[index])")
        }
    }

    @Test(arguments: TestStoreEngine.allCases)
    func theGateReadsTheStatusThenThrottlesThenReadsTheDevice(_ engine: TestStoreEngine) async throws {
        let stores = try await engine.open().stores
        try await stores.writer.importFile(sampleDirectory())
        let gate = stores.dispatchGate
        let rule = SlidingWindow(limit: 2, window: 3600)
        func admit(_ id: String, device: String? = "d-phone", at time: Date? = nil) async throws -> DispatchVerdict {
            try await gate.admit(
                tenantId: "a",
                notificationId: id,
                scope: "device:a:d-phone",
                rule: rule,
                deviceId: device,
                now: time ?? now
            )
        }
        let phone = try #require(try await stores.directory.device(tenantId: "a", deviceId: "d-phone"))
        #expect(try await admit("n1") == .admitted(device: phone))
        // A redelivery is admitted again without counting twice.
        #expect(try await admit("n1") == .admitted(device: phone))
        #expect(try await admit("n2", device: nil) == .admitted(device: nil))
        #expect(try await admit("n3") == .throttled(roomOpens: now.addingTimeInterval(3600)))
        #expect(try await stores.throttle.used(scope: "device:a:d-phone", rule: rule, now: now) == 2)
        // A device that is gone is read as none; the send was still counted.
        #expect(try await admit("n4", device: "d-gone", at: now.addingTimeInterval(3601)) == .admitted(device: nil))

        // A finished request is a copy: nothing else is read or recorded for it.
        try await stores.statuses.save(
            NotificationStatus(id: "n5", tenantId: "a", kind: .device, status: .dispatched, acceptedAt: now, dispatchedAt: now)
        )
        #expect(try await admit("n5", at: now.addingTimeInterval(3601)) == .finished(.dispatched))
        #expect(try await stores.throttle.used(scope: "device:a:d-phone", rule: rule, now: now.addingTimeInterval(3601)) == 1)
        // An unfinished one (accepted, deferred) goes through the throttle as any other.
        try await stores.statuses.recordAccepted(
            NotificationStatus(id: "n6", tenantId: "a", kind: .device, status: .accepted, acceptedAt: now)
        )
        #expect(try await admit("n6", at: now.addingTimeInterval(3601)) == .admitted(device: phone))
        // Another tenant's finished record of the same id is not this request's.
        try await stores.statuses.save(
            NotificationStatus(id: "n7", tenantId: "b", kind: .device, status: .failed, acceptedAt: now)
        )
        #expect(try await admit("n7", device: nil, at: now.addingTimeInterval(7300)) == .admitted(device: nil))
    }

    /// Sends that reach the gate together (one transaction on SQLite) count exactly as they
    /// would one after the other: ten of twenty to one device are admitted, whatever the batches.
    @Test(arguments: TestStoreEngine.allCases)
    func sendsAdmittedTogetherKeepTheThrottleExact(_ engine: TestStoreEngine) async throws {
        let stores = try await engine.open().stores
        try await stores.writer.importFile(sampleDirectory())
        let gate = stores.dispatchGate
        let rule = SlidingWindow(limit: 10, window: 3600)
        let verdicts = try await withThrowingTaskGroup(of: DispatchVerdict.self) { group in
            for index in 0..<20 {
                group.addTask {
                    try await gate.admit(
                        tenantId: "a",
                        notificationId: "together-\(index % 15)",
                        scope: "device:a:d-phone",
                        rule: rule,
                        deviceId: "d-phone",
                        now: now
                    )
                }
            }
            return try await group.reduce(into: [DispatchVerdict]()) { $0.append($1) }
        }
        // Fifteen ids, five of them twice (copies): ten ids fit, the copies of admitted ids are
        // admitted again without counting, the rest are throttled.
        let admitted = verdicts.filter { if case .admitted = $0 { true } else { false } }.count
        #expect(try await stores.throttle.used(scope: "device:a:d-phone", rule: rule, now: now) == 10)
        #expect(admitted >= 10 && admitted <= 15)
        #expect(verdicts.count - admitted == verdicts.filter { if case .throttled = $0 { true } else { false } }.count)
    }

    /// A batch at the gate (`admitAll`, one statement on PostgreSQL) answers each question as
    /// `admit` answers it, one after the other: asked of two new stores, one in a batch and one a
    /// question at a time, the verdicts and what the throttle counted are the same.
    @Test(arguments: TestStoreEngine.allCases)
    func aBatchAtTheGateAnswersAsItsQuestionsOneAfterTheOther(_ engine: TestStoreEngine) async throws {
        let together = try await engine.open().stores
        let alone = try await engine.open().stores
        let rule = SlidingWindow(limit: 2, window: 3600)
        let tenantRule = SlidingWindow(limit: 3, window: 3600)
        for stores in [together, alone] {
            try await stores.writer.importFile(sampleDirectory())
            try await stores.statuses.save(
                NotificationStatus(id: "done", tenantId: "a", kind: .device, status: .failed, acceptedAt: now)
            )
            // Counted an hour and a half ago: out of the window now, and deleted by the next send.
            _ = try await stores.dispatchGate.admit(
                tenantId: "a",
                notificationId: "old",
                scope: "device:a:d-phone",
                rule: rule,
                deviceId: nil,
                now: now.addingTimeInterval(-5400)
            )
        }
        func question(_ id: String, tenant: String = "a", device: String?, scope: String? = nil) -> GateQuestion {
            GateQuestion(
                tenantId: tenant,
                notificationId: id,
                scope: scope ?? "device:\(tenant):\(device ?? "")",
                rule: scope == nil ? rule : tenantRule,
                deviceId: device,
                now: now
            )
        }
        let questions = [
            question("n1", device: "d-phone"),
            question("done", device: "d-phone"),  // finished: a copy
            question("n1", device: "d-phone"),  // a copy in the same batch: admitted, not counted again
            question("n2", device: "d-phone"),
            question("n3", device: "d-phone"),  // the third to one device: throttled
            question("n4", tenant: "b", device: "d-phone"),  // the other tenant's d-phone, an Android
            question("n5", device: "d-gone"),  // admitted, no such device
            question("g1", device: nil, scope: "group:a"),
            question("g2", device: nil, scope: "group:a"),
            question("n6", device: "d-android-gms"),
        ]
        let batched = try await together.dispatchGate.admitAll(questions)
        var oneByOne: [DispatchVerdict] = []
        for q in questions { oneByOne.append(try await alone.dispatchGate.admit(q)) }
        #expect(batched == oneByOne)
        let phoneA = try await together.directory.device(tenantId: "a", deviceId: "d-phone")
        let phoneB = try await together.directory.device(tenantId: "b", deviceId: "d-phone")
        #expect(phoneA?.platform == .ios && phoneB?.platform == .android)
        #expect(batched[0] == .admitted(device: phoneA))
        #expect(batched[1] == .finished(.failed))
        #expect(batched[4] == .throttled(roomOpens: now.addingTimeInterval(3600)))
        #expect(batched[5] == .admitted(device: phoneB))
        #expect(batched[6] == .admitted(device: nil))
        for stores in [together, alone] {
            #expect(try await stores.throttle.used(scope: "device:a:d-phone", rule: rule, now: now) == 2)
            #expect(try await stores.throttle.used(scope: "group:a", rule: tenantRule, now: now) == 2)
        }
        #expect(try await together.dispatchGate.admitAll([]) == [])
    }

    /// Two dispatchers' batches sharing scopes, each in its own order, from two handles at once:
    /// neither may wait for the other (PostgreSQL ends one of two deadlocked statements after a
    /// second, with an error), and the throttle stays exact.
    @Test(arguments: TestStoreEngine.allCases)
    func batchesSharingScopesAtTheGateDoNotDeadlock(_ engine: TestStoreEngine) async throws {
        let handles = try await engine.open(handles: 2)
        try await handles[0].stores.writer.importFile(sampleDirectory())
        let rule = SlidingWindow(limit: 10, window: 3600)
        let scopes = (0..<100).map { "device:a:d-\($0)" }
        let now = now
        for round in 0..<6 {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, handle) in handles.enumerated() {
                    let order = index == 0 ? scopes : scopes.reversed()
                    let questions = order.map {
                        GateQuestion(
                            tenantId: "a",
                            notificationId: "r\(round)-\(index)-\($0)",
                            scope: $0,
                            rule: rule,
                            deviceId: nil,
                            now: now
                        )
                    }
                    group.addTask { _ = try await handle.stores.dispatchGate.admitAll(questions) }
                }
                try await group.waitForAll()
            }
        }
        for scope in scopes {
            #expect(try await handles[0].stores.throttle.used(scope: scope, rule: rule, now: now) == 10)
        }
    }

    @Test(arguments: TestStoreEngine.allCases)
    func statusesWrittenTogetherEachKeepTheFinishedRule(_ engine: TestStoreEngine) async throws {
        let statuses = try await engine.open().stores.statuses
        func record(_ id: String, _ state: DeliveryState, reason: String? = nil) -> NotificationStatus {
            NotificationStatus(
                id: id,
                tenantId: "a",
                kind: .group,
                status: state,
                acceptedAt: now,
                deferredUntil: state == .deferred ? now.addingTimeInterval(60) : nil,
                dispatchedAt: state == .dispatched ? now : nil,
                envelopes: ["ios": state == .dispatched ? 3 : 0, "android": 0],
                skipped: state == .dispatched ? ["noPushToken": 1] : [:],
                reason: reason
            )
        }
        // Many at once (batched where the engine batches), among them two copies of one request
        // finishing together, and accepted records arriving after the dispatcher's.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<40 {
                group.addTask {
                    try await statuses.save(record("n\(i)", i % 2 == 0 ? .dispatched : .deferred, reason: i % 2 == 0 ? nil : "later"))
                }
                group.addTask { try await statuses.recordAccepted(record("n\(i)", .accepted)) }
            }
            for copy in 0..<20 {
                group.addTask {
                    try await statuses.save(copy == 7 ? record("twice", .dispatched) : record("twice", .deferred, reason: "a late copy"))
                }
            }
            try await group.waitForAll()
        }
        for i in 0..<40 {
            let found = try #require(try await statuses.status(tenantId: "a", id: "n\(i)"))
            let wanted = record("n\(i)", i % 2 == 0 ? .dispatched : .deferred, reason: i % 2 == 0 ? nil : "later")
            #expect(found == wanted)
        }
        #expect(try await statuses.status(tenantId: "a", id: "twice") == record("twice", .dispatched))
    }

    /// Ingest's accepted records and a dispatcher's saves of the same requests, from two processes,
    /// each batching what arrives together: the batches must not deadlock (PostgreSQL ends one of
    /// two deadlocked statements after a second, and the single batch in flight held every send
    /// of that process for that second).
    @Test(arguments: TestStoreEngine.allCases)
    func acceptedRecordsAndSavesOfTheSameRequestsDoNotDeadlock(_ engine: TestStoreEngine) async throws {
        let handles = try await engine.open(handles: 2)
        let ingest = handles[0].stores.statuses
        let dispatcher = handles[1].stores.statuses
        let now = now
        for round in 0..<30 {
            let ids = (0..<60).map { "r\(round)-\(String(format: "%03d", $0))" }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for id in ids {
                    group.addTask {
                        try await ingest.recordAccepted(
                            NotificationStatus(id: id, tenantId: "a", kind: .device, status: .accepted, acceptedAt: now)
                        )
                    }
                }
                for id in ids.reversed() {
                    group.addTask {
                        try await dispatcher.save(
                            NotificationStatus(
                                id: id,
                                tenantId: "a",
                                kind: .device,
                                status: .dispatched,
                                acceptedAt: now,
                                dispatchedAt: now
                            )
                        )
                    }
                }
                try await group.waitForAll()
            }
            for id in ids { #expect(try await ingest.status(tenantId: "a", id: id)?.status == .dispatched) }
        }
    }
}
