import AMQP
import DispatcherApp
import Foundation
import HeraldCore
import SQLiteStore
import Store
import TestSupport
import Testing

extension BrokerTests {
    @Suite struct DeliveryTests {
        // MARK: Ingest

        @Test func exactlyTheAcceptedRequestsAreOnTheQueueAsPersistentMessages() async throws {
            try await Broker.purgeAll()
            let ids: [String] = try await withIngest { harness, _ in
                let token = try await harness.token()
                return try await harness.run { client in
                    var ids: [String] = []
                    let bodies = [
                        #"{"title":"One","body":"b","groupIds":["g-top"]}"#, #"{"title":"","body":"b","groupIds":["g-top"]}"#,
                        #"{"title":"Two","body":"b","groupIds":["g-top","g-mid"]}"#,
                        #"{"title":"x","body":"b","groupIds":["g-only-in-b"]}"#,
                    ]
                    for body in bodies {
                        let answer = try await client.send(.post, "/v1/notifications", token: token, body: body)
                        if answer.status == 202, let id = answer.field("id") { ids.append(id) }
                    }
                    let device = try await client.send(
                        .post,
                        "/v1/devices/d-phone/notifications",
                        token: token,
                        body: #"{"title":"Three","body":"b"}"#
                    )
                    if let id = device.field("id") { ids.append(id) }
                    return ids
                }
            }
            #expect(ids.count == 3)
            let counts = try await Broker.admin().counts(queue: Topology.requests)
            #expect(counts.messages == 3)
            let messages = try await Broker.collect([Topology.requests], count: 10, timeout: .milliseconds(500))
            #expect(messages.count == 3)
            #expect(Set(messages.compactMap(\.messageId)) == Set(ids))
            for message in messages {
                #expect(message.persistent)
                let request = try NotificationRequest.decode(Data(message.body))
                #expect(request.id == message.messageId)
                #expect(request.tenantId == "a")
                #expect(request.principalId == "p-admin")
            }
        }

        @Test func aStoppedBrokerGives503AndSendsResumeWhenItReturns() async throws {
            try await Broker.purgeAll()
            try await withIngest { harness, publisher in
                let token = try await harness.token()
                try await harness.run { client in
                    try Broker.script("stop-app")
                    do {
                        #expect(await eventually { !publisher.isConnected })
                        let refused = try await client.send(
                            .post,
                            "/v1/devices/d-phone/notifications",
                            token: token,
                            body: #"{"title":"t","body":"b"}"#
                        )
                        #expect(refused.status == 503)
                        #expect(refused.headers["Retry-After"] == "1")
                        #expect(refused.headers["Content-Type"] == "application/problem+json")
                        let ready = try await client.send(.get, "/health/ready")
                        #expect(ready.status == 503)
                    } catch {
                        try? Broker.script("start-app")
                        throw error
                    }
                    try Broker.script("start-app")
                    let recovered = await eventually {
                        (try? await client.send(
                            .post,
                            "/v1/devices/d-phone/notifications",
                            token: token,
                            body: #"{"title":"t","body":"b"}"#
                        )
                        .status)
                            == 202
                    }
                    #expect(recovered)
                }
            }
            // Nothing refused reached the queue; what was accepted after recovery did.
            let messages = try await Broker.collect([Topology.requests], count: 100, timeout: .milliseconds(500))
            #expect(messages.count == 1)
        }

        // MARK: Dispatcher

        @Test(arguments: TestStoreEngine.allCases)
        func aGroupSendReachesExactlyTheEligibleDevicesOfItsUsers(_ engine: TestStoreEngine) async throws {
            try await Broker.purgeAll()
            var directory = sampleDirectory()
            // u-mid-only gains an ineligible Android (no Play Services), an iPad, and a device without a token.
            directory.devices += [
                Device(
                    id: "d2-nogms",
                    tenantId: "a",
                    userId: "u-mid-only",
                    platform: .android,
                    enrolled: true,
                    companyPortalInstalled: true,
                    notificationsAllowed: true,
                    googlePlayServices: false,
                    pushToken: "x"
                ),
                Device(
                    id: "d2-ipad",
                    tenantId: "a",
                    userId: "u-mid-only",
                    platform: .ipados,
                    enrolled: true,
                    companyPortalInstalled: true,
                    notificationsAllowed: true,
                    googlePlayServices: false,
                    pushToken: "ipad-token"
                ),
                Device(
                    id: "d2-notoken",
                    tenantId: "a",
                    userId: "u-mid-only",
                    platform: .ios,
                    enrolled: true,
                    companyPortalInstalled: true,
                    notificationsAllowed: true,
                    googlePlayServices: false,
                    pushToken: nil
                ),
                Device(
                    id: "d2-muted",
                    tenantId: "a",
                    userId: "u-mid-only",
                    platform: .ios,
                    enrolled: true,
                    companyPortalInstalled: true,
                    notificationsAllowed: false,
                    googlePlayServices: false,
                    pushToken: "muted"
                ),
            ]
            try await withIngest(directory: directory, engine: engine) { harness, _ in
                let token = try await harness.token()
                let id: String = try await harness.run { client in
                    // "g-top" nests "g-mid", which nests "g-top" again and repeats u-top-and-mid; "g-top" also has device d-macos as a member.
                    let answer = try await client.send(
                        .post,
                        "/v1/notifications",
                        token: token,
                        body: #"{"title":"Café ☕️","body":"Line one\nLine \"two\"","groupIds":["g-top","g-mid"]}"#
                    )
                    #expect(answer.status == 202)
                    return answer.field("id") ?? ""
                }
                let envelopes = try await withDispatchers(of: harness, configuration: try dispatcherConfiguration()) {
                    #expect(await dispatched(id, in: harness.stores))
                    return try await Broker.collect([Topology.pushIOS, Topology.pushAndroid], count: 100, timeout: .milliseconds(300))
                }
                let byDevice = Dictionary(grouping: envelopes) { $0.object["deviceId"] as? String ?? "" }
                #expect(Set(byDevice.keys) == ["d-phone", "d-android-gms", "d2-ipad"])
                #expect(envelopes.count == 3)
                for envelope in envelopes {
                    let json = envelope.object
                    let deviceId = json["deviceId"] as? String ?? ""
                    #expect(envelope.messageId == json["envelopeId"] as? String)
                    #expect(envelope.messageId == EnvelopeBuilder.envelopeId(notificationId: id, deviceId: deviceId))
                    #expect(envelope.persistent)
                    #expect(json["notificationId"] as? String == id)
                    #expect(json["tenantId"] as? String == "a")
                    let expectedRoute = deviceId == "d-android-gms" ? "android" : "ios"
                    #expect(json["platform"] as? String == expectedRoute)
                    #expect(envelope.routingKey == expectedRoute)
                    if expectedRoute == "ios" {
                        let alert =
                            ((json["apns"] as? [String: Any])?["payload"] as? [String: Any]).flatMap { $0["aps"] as? [String: Any] }?[
                                "alert"
                            ]
                            as? [String: String]
                        #expect(alert == ["title": "Café ☕️", "body": "Line one\nLine \"two\""])
                        #expect(json["fcm"] == nil)
                    } else {
                        #expect(json["apns"] == nil)
                        #expect(
                            ((json["fcm"] as? [String: Any])?["message"] as? [String: Any])?["token"] as? String == "tok-a-d-android-gms"
                        )
                    }
                }
                let status = try #require(try await harness.stores.statuses.status(tenantId: "a", id: id))
                #expect(status.status == .dispatched)
                #expect(status.envelopes == ["ios": 2, "android": 1])
                #expect(status.skipped == ["googlePlayServicesMissing": 1, "noPushToken": 1, "notificationsDisabled": 1])
                #expect(status.dispatchedAt != nil)
            }
        }

        @Test(arguments: TestStoreEngine.allCases)
        func membershipIsResolvedAtDeliveryNotAtAcceptance(_ engine: TestStoreEngine) async throws {
            try await Broker.purgeAll()
            try await withIngest(engine: engine) { harness, _ in
                let token = try await harness.token()
                let id: String = try await harness.run { client in
                    try await client.send(
                        .post,
                        "/v1/notifications",
                        token: token,
                        body: #"{"title":"t","body":"b","groupIds":["g-devices-only"]}"#
                    )
                    .field("id") ?? ""
                }
                // Accepted while "g-devices-only" holds only a device; u-no-eligible-device (a Mac) and u-mid-only (an Android) join before delivery, nobody leaves.
                let importer = harness.stores.writer
                try await importer.addMember(tenantId: "a", groupId: "g-devices-only", member: GroupMember(type: .user, id: "u-mid-only"))
                try await importer.addMember(
                    tenantId: "a",
                    groupId: "g-devices-only",
                    member: GroupMember(type: .user, id: "u-no-eligible-device")
                )
                let envelopes = try await withDispatchers(of: harness, configuration: try dispatcherConfiguration()) {
                    #expect(await dispatched(id, in: harness.stores))
                    return try await Broker.collect([Topology.pushIOS, Topology.pushAndroid], count: 100, timeout: .milliseconds(300))
                }
                #expect(envelopes.map { $0.object["deviceId"] as? String } == ["d-android-gms"])
                let status = try #require(try await harness.stores.statuses.status(tenantId: "a", id: id))
                #expect(status.skipped == ["unsupportedPlatform": 2, "notEnrolled": 1])
            }
        }

        @Test(arguments: TestStoreEngine.allCases)
        func overTheGroupLimitASendIsDeferredThenDeliveredWhenRoomOpens(_ engine: TestStoreEngine) async throws {
            try await Broker.purgeAll()
            try await withIngest(engine: engine) { harness, _ in
                let token = try await harness.token()
                let ids: [String] = try await harness.run { client in
                    var ids: [String] = []
                    for i in 0..<3 {
                        ids.append(
                            try await client.send(
                                .post,
                                "/v1/notifications",
                                token: token,
                                body: #"{"title":"n\#(i)","body":"b","groupIds":["g-mid"]}"#
                            ).field("id") ?? ""
                        )
                    }
                    return ids
                }
                let statuses = harness.stores.statuses
                // Two group sends per 4-second window: the third waits in a delay queue, then goes.
                try await withDispatchers(
                    of: harness,
                    configuration: try dispatcherConfiguration(groupSends: 2, window: 4)
                ) {
                    let deferred = await eventually {
                        let all = try? await ids.asyncMap { try await statuses.status(tenantId: "a", id: $0)?.status }
                        return all?.filter { $0 == .dispatched }.count == 2 && all?.contains(.deferred) == true
                    }
                    #expect(deferred)
                    let late = try #require(
                        try await ids.asyncMap { try await statuses.status(tenantId: "a", id: $0) }.first { $0?.status == .deferred } ?? nil
                    )
                    #expect(late.deferredUntil != nil)
                    #expect(late.reason?.contains("limit of 2 group sends") == true)
                    let delivered = await eventually(timeout: .seconds(30)) {
                        (try? await statuses.status(tenantId: "a", id: late.id)?.status) == .dispatched
                    }
                    #expect(delivered)
                }
                // Each send reached u-top-and-mid and u-mid-only once: 2 envelopes each, 6 in all, none lost or doubled.
                let envelopes = try await Broker.collect([Topology.pushIOS, Topology.pushAndroid], count: 7, timeout: .seconds(2))
                #expect(envelopes.count == 6)
                #expect(Set(envelopes.compactMap(\.messageId)).count == 6)
            }
        }

        @Test(arguments: TestStoreEngine.allCases)
        func underTheRejectPolicyTheEleventhDeviceSendIsThrottledWithoutItsText(_ engine: TestStoreEngine) async throws {
            try await Broker.purgeAll()
            try await withIngest(engine: engine) { harness, _ in
                let token = try await harness.token()
                let ids: [String] = try await harness.run { client in
                    var ids: [String] = []
                    for i in 0..<11 {
                        ids.append(
                            try await client.send(
                                .post,
                                "/v1/devices/d-phone/notifications",
                                token: token,
                                body: #"{"title":"secret title \#(i)","body":"secret body"}"#
                            ).field("id") ?? ""
                        )
                    }
                    // Device sends do not count toward the tenant's group limit.
                    ids.append(
                        try await client.send(
                            .post,
                            "/v1/notifications",
                            token: token,
                            body: #"{"title":"g","body":"b","groupIds":["g-mid"]}"#
                        )
                        .field("id") ?? ""
                    )
                    return ids
                }
                let statuses = harness.stores.statuses
                let refused = try await withDispatchers(
                    of: harness,
                    configuration: try dispatcherConfiguration(groupSends: 1, deviceSends: 10, policy: .reject)
                ) {
                    try await Broker.collect([Topology.throttled], count: 1)
                }
                let states = try await ids.asyncMap { try await statuses.status(tenantId: "a", id: $0)?.status }
                #expect(states.filter { $0 == .dispatched }.count == 11)
                #expect(states.filter { $0 == .throttled }.count == 1)
                let record = try #require(refused.first)
                let text = String(decoding: record.body, as: UTF8.self)
                #expect(!text.contains("secret"))
                #expect(record.reason?.contains("limit of 10 sends") == true)
                #expect(record.object["roomOpensAt"] is String)
                let throttled = try #require(
                    try await ids.asyncMap { try await statuses.status(tenantId: "a", id: $0) }.first { $0?.status == .throttled } ?? nil
                )
                #expect(throttled.kind == .device)
                #expect(throttled.deferredUntil != nil)
            }
        }

        @Test func aPoisonRequestIsDeadLetteredWithItsReasonAndTheQueueKeepsFlowing() async throws {
            try await Broker.purgeAll()
            try await withIngest { harness, publisher in
                try await publisher.publish(
                    OutgoingMessage(routingKey: Topology.requests, body: Array("not json at all".utf8), messageId: "poison-1")
                )
                try await publisher.publish(
                    OutgoingMessage(routingKey: Topology.requests, body: Array(#"{"schemaVersion":99}"#.utf8), messageId: "poison-2")
                )
                let token = try await harness.token()
                let accepted = try await harness.run { client in
                    try await client.send(.post, "/v1/devices/d-phone/notifications", token: token, body: #"{"title":"t","body":"b"}"#)
                        .status
                }
                #expect(accepted == 202)
                let (dead, envelopes) = try await withDispatchers(
                    of: harness,
                    configuration: try dispatcherConfiguration()
                ) {
                    (try await Broker.collect([Topology.dead], count: 2), try await Broker.collect([Topology.pushIOS], count: 1))
                }
                #expect(Set(dead.compactMap(\.messageId)) == ["poison-1", "poison-2"])
                #expect(dead.allSatisfy { $0.reason?.hasPrefix("undecodable request") == true })
                #expect(envelopes.count == 1)
                #expect(try await Broker.admin().counts(queue: Topology.requests).messages == 0)
                reliabilityRow(
                    "two poison messages on herald.requests",
                    load: "one good send behind them",
                    accepted: 1,
                    lost: 1 - envelopes.count,
                    duplicates: 0,
                    test: "aPoisonRequestIsDeadLetteredWithItsReasonAndTheQueueKeepsFlowing"
                )
            }
        }

        @Test(arguments: TestStoreEngine.allCases)
        func threeDispatchersShareTheWorkWithoutDoubling(_ engine: TestStoreEngine) async throws {
            try await Broker.purgeAll()
            try await withIngest(engine: engine) { harness, _ in
                let token = try await harness.token()
                let ids: [String] = try await harness.run { client in
                    var ids: [String] = []
                    for i in 0..<24 {
                        ids.append(
                            try await client.send(
                                .post,
                                "/v1/notifications",
                                token: token,
                                body: #"{"title":"n\#(i)","body":"b","groupIds":["g-top"]}"#
                            ).field("id") ?? ""
                        )
                    }
                    return ids
                }
                let statuses = harness.stores.statuses
                // Group limit 20 across all three: exactly 20 dispatched now, 4 deferred, whichever worker took them.
                try await withDispatchers(3, of: harness, configuration: try dispatcherConfiguration(groupSends: 20)) {
                    let settled = await eventually {
                        let all = (try? await ids.asyncMap { try await statuses.status(tenantId: "a", id: $0)?.status }) ?? []
                        return all.filter { $0 == .dispatched }.count == 20 && all.filter { $0 == .deferred }.count == 4
                    }
                    #expect(settled)
                }
                let envelopes = try await Broker.collect([Topology.pushIOS, Topology.pushAndroid], count: 41, timeout: .seconds(2))
                #expect(envelopes.count == 40)
                #expect(Set(envelopes.compactMap(\.messageId)).count == 40)
            }
        }

        @Test func aRequestThatFailsEveryAttemptIsDeadLetteredAfterTheDeliveryLimit() async throws {
            try await Broker.purgeAll()
            try await withIngest { harness, _ in
                let token = try await harness.token()
                let id = try await harness.run { client in
                    try await client.send(.post, "/v1/devices/d-phone/notifications", token: token, body: #"{"title":"t","body":"b"}"#)
                        .field(
                            "id"
                        )
                        ?? ""
                }
                // The dispatcher's database loses its status table: every attempt fails the same way.
                try await harness.database.pool.write { db in try db.execute(sql: "DROP TABLE notifications") }
                let dead = try await withDispatchers(of: harness, configuration: try dispatcherConfiguration()) {
                    try await Broker.collect([Topology.dead], count: 1, timeout: .seconds(60))
                }
                let letter = try #require(dead.first)
                #expect(letter.messageId == id)
                #expect(letter.reason?.hasPrefix("failed after \(Topology().deliveryLimit) attempts") == true)
                #expect(try await Broker.admin().counts(queue: Topology.requests).messages == 0)
                let envelopes = try await Broker.collect([Topology.pushIOS, Topology.pushAndroid], count: 1, timeout: .milliseconds(300))
                #expect(envelopes.isEmpty)
            }
        }
    }
}
