import AMQP
import Foundation
import HeraldCore
import LoadApp
import NIOCore
import TestSupport
import Testing

extension BrokerTests {
    /// The whole chain as processes: API → herald-ingest → broker → herald-dispatcher → broker →
    /// herald-gateway → herald-push-sandbox (APNs and FCM over TLS and HTTP/2), on the test broker
    /// (one test at a time with the others that use it: the gateway empties the platform queues).
    @Suite struct GatewayChainTests {
        static let tenant = "chain"

        /// A stack with the stand-in, ingest, a dispatcher and a gateway, and a directory of `users`
        /// users with an iPhone and an Android phone each (tokens the services accept), all in "all".
        func chain(_ engine: TestStoreEngine = .sqlite, users: Int, gateway: Bool = true) async throws -> Chain {
            try await Broker.purgeAll()
            let stack = try await LocalStack.on(engine)
            let url = try await stack.startSandbox()
            try await stack.importDirectory(pushableDirectory(users: users))
            try await stack.startIngest()
            try stack.startDispatcher()
            if gateway { try stack.startGateway() }
            let token = try await stack.issueToken(tenant: Self.tenant)
            let control = SandboxControl(url: url, caFile: stack.sandboxFolder.appendingPathComponent("ca.pem").path)
            return Chain(stack: stack, sandbox: control, token: token)
        }

        @Test(arguments: TestStoreEngine.allCases)
        func everyDeviceGetsItsPushOnce(_ engine: TestStoreEngine) async throws {
            let chain = try await chain(engine, users: 10)
            defer { chain.stop() }
            let id = try #require(await chain.send(groups: ["all"]))
            let snapshot = try #require(await chain.waitForPushes(20))
            let ids = snapshot.pushes.compactMap(\.id)
            let expected = Set(
                (0..<10).flatMap { ["i\($0)", "a\($0)"] }.map { EnvelopeBuilder.envelopeId(notificationId: id, deviceId: $0) }
            )
            #expect(Set(ids) == expected, "one push per device, by its envelope id")
            #expect(ids.count == 20, "none twice")
            #expect(snapshot.pushes.allSatisfy { $0.httpVersion == "h2" })
            #expect(snapshot.stats.providerTokens == 1)
            #expect(snapshot.stats.accessTokensIssued == 1)
            var counts: DeliveryCounts?
            #expect(
                await eventually(timeout: .seconds(20)) {
                    counts = await chain.deliveredCounts(id)
                    return counts == DeliveryCounts(sent: 20, expired: 0, failed: [:], pending: 0)
                },
                "the status record says what the gateway sent (\(String(describing: counts)))"
            )
        }

        @Test func aDeadTokenIsClearedAThrottledPushComesBackAndNothingIsLost() async throws {
            let chain = try await chain(users: 4, gateway: false)
            defer { chain.stop() }
            let goneIOS = Self.iosToken(0)
            let goneAndroid = Self.androidToken(1)
            try await chain.sandbox.script(
                #"{"gone":["\#(goneIOS)","\#(goneAndroid)"],"throttle":{"count":1,"retryAfterSeconds":1,"platform":"ios"}}"#
            )
            try chain.stack.startGateway()
            let id = try #require(await chain.send(groups: ["all"]))
            // 8 devices: 2 tokens gone, one iPhone throttled once and back through the 5 s retry queue
            // (which may be the one whose token is gone: it learns so on its second push).
            var counts: DeliveryCounts?
            #expect(
                await eventually(timeout: .seconds(30)) {
                    counts = await chain.deliveredCounts(id)
                    return counts == DeliveryCounts(sent: 6, expired: 0, failed: ["Unregistered": 1, "UNREGISTERED": 1], pending: 0)
                },
                "sent 6, 2 failed with the services' reasons (\(String(describing: counts)))"
            )
            let snapshot = try await chain.sandbox.pushes()
            #expect(Set(snapshot.pushes.compactMap(\.id)).count == 6)
            #expect(snapshot.pushes.count == 6)
            #expect(snapshot.stats.duplicates == 0)
            #expect(snapshot.stats.refused["ios:TooManyRequests"] == 1)
            #expect(snapshot.stats.refused["ios:Unregistered"] == 1)
            #expect(snapshot.stats.refused["android:UNREGISTERED"] == 1)

            // The directory forgot the two tokens: the next send skips those devices.
            let next = try #require(await chain.send(groups: ["all"]))
            var skipped: [String: Int] = [:]
            #expect(
                await eventually(timeout: .seconds(20)) {
                    skipped = await chain.status(next)?["skipped"] as? [String: Int] ?? [:]
                    return skipped["noPushToken"] == 2
                },
                "two devices skipped for their cleared tokens (\(skipped))"
            )
        }

        /// A push refused past the last attempt lands on herald.push.dead, counted as failed; the
        /// operator lists it (never its token) and requeues it, and it is then counted once, as sent.
        @Test func aPushGivenUpOnCanBeListedAndRequeuedByTheOperator() async throws {
            let chain = try await chain(users: 2, gateway: false)
            defer { chain.stop() }
            try await chain.sandbox.script(#"{"throttle":{"count":1,"retryAfterSeconds":1,"platform":"ios"}}"#)
            try chain.stack.startGateway(extra: ["HERALD_GATEWAY_MAX_ATTEMPTS": "1"])
            let id = try #require(await chain.send(groups: ["all"]))
            var counts: DeliveryCounts?
            #expect(
                await eventually(timeout: .seconds(30)) {
                    counts = await chain.deliveredCounts(id)
                    return counts == DeliveryCounts(sent: 3, expired: 0, failed: ["TooManyRequests": 1], pending: 0)
                },
                "three sent, one given up on (\(String(describing: counts)))"
            )

            let list = try await chain.stack.tool("heraldctl", ["push", "dead", "list"])
            #expect(list.status == 0)
            #expect(list.output.contains("herald.push.dead: 1 envelope(s)"), "\(list.output)")
            #expect(list.output.contains("\(id)  \(Self.tenant)  ios  1  TooManyRequests"), "\(list.output)")
            for user in 0..<2 {
                #expect(!list.output.contains(Self.iosToken(user)), "no push token in the listing")
            }

            let requeue = try await chain.stack.tool("heraldctl", ["push", "dead", "requeue", "--all"])
            #expect(requeue.status == 0, "\(requeue.output)")
            #expect(requeue.output.contains("1 envelope(s) moved back"), "\(requeue.output)")
            #expect(
                await eventually(timeout: .seconds(30)) {
                    counts = await chain.deliveredCounts(id)
                    return counts == DeliveryCounts(sent: 4, expired: 0, failed: [:], pending: 0)
                },
                "the requeued push is sent and its failure taken back (\(String(describing: counts)))"
            )
            let snapshot = try await chain.sandbox.pushes()
            #expect(Set(snapshot.pushes.compactMap(\.id)).count == 4)
            #expect(snapshot.stats.duplicates == 0)
            let wrong = try await chain.stack.tool("heraldctl", ["push", "dead", "requeue", "--id", "no-such-envelope"])
            #expect(wrong.status != 0, "an id that is not there fails the command")
            #expect(!wrong.output.contains("moved back"))
        }

        @Test func refusedCredentialsStopThePushesAndDropNothing() async throws {
            let chain = try await chain(users: 3, gateway: false)
            defer { chain.stop() }
            try await chain.sandbox.script(#"{"revokeKeys":true}"#)
            let gateway = try chain.stack.startGateway()
            _ = try #require(await chain.send(groups: ["all"]))
            #expect(
                await eventually(timeout: .seconds(30)) {
                    gateway.log.contains("APNs refused the gateway's credentials")
                        && gateway.log.contains("FCM refused the gateway's credentials")
                },
                "both platforms stop and say why"
            )
            #expect(gateway.process.isRunning, "it stays up, not ready, rather than exit into a restart loop")
            var readiness: (status: Int, body: String)?
            #expect(
                await eventually(timeout: .seconds(10)) {
                    readiness = await gatewayReadiness(gateway)
                    return readiness?.status == 503 && readiness?.body.contains(#""stoppedPlatforms":["android","ios"]"#) == true
                },
                "/health/ready says which platforms stopped (\(String(describing: readiness)))"
            )
            let admin = AMQPAdmin(configuration: try Broker.configuration())
            var waiting = 0
            #expect(
                await eventually(timeout: .seconds(30)) {
                    waiting =
                        ((try? await admin.counts(queue: Topology.pushIOS).messages) ?? 0)
                        + ((try? await admin.counts(queue: Topology.pushAndroid).messages) ?? 0)
                    return waiting == 6
                },
                "every envelope is back on its queue (\(waiting))"
            )
            #expect(try await chain.sandbox.pushes().stats.accepted.isEmpty)

            // The operator fixes the credentials and restarts the gateway: everything goes out.
            gateway.terminate()
            try await chain.sandbox.reset()
            try chain.stack.startGateway()
            let snapshot = try #require(await chain.waitForPushes(6))
            #expect(Set(snapshot.pushes.compactMap(\.id)).count == 6)
        }

        /// A chain of 40 users (80 devices) whose gateway, 8 pushes in flight per platform and the
        /// stand-in answering after 40 ms, has had 20 pushes accepted of one group send.
        func pushesInFlight() async throws -> (chain: Chain, gateway: ServiceProcess, notificationId: String) {
            let chain = try await chain(users: 40, gateway: false)
            do {
                try await chain.sandbox.script(#"{"delayMillis":40}"#)
                let gateway = try chain.stack.startGateway(extra: ["HERALD_GATEWAY_CONCURRENCY": "8"])
                let id = try #require(await chain.send(groups: ["all"]))
                #expect(
                    await eventually(timeout: .seconds(60)) {
                        ((try? await chain.sandbox.pushes().stats.accepted.values.reduce(0, +)) ?? 0) >= 20
                    }
                )
                return (chain, gateway, id)
            } catch {
                chain.stop()
                throw error
            }
        }

        /// The envelope ids of `pushesInFlight`'s send.
        static func inFlightEnvelopes(_ notificationId: String) -> Set<String> {
            Set((0..<40).flatMap { ["i\($0)", "a\($0)"] }.map { EnvelopeBuilder.envelopeId(notificationId: notificationId, deviceId: $0) })
        }

        @Test func aGatewayKilledMidBatchLosesNothing() async throws {
            let (chain, first, id) = try await pushesInFlight()
            defer { chain.stop() }
            first.kill()
            let atKill = try await chain.sandbox.pushes().pushes.count
            try chain.stack.startGateway(extra: ["HERALD_GATEWAY_CONCURRENCY": "8"])
            let snapshot = try #require(await chain.waitForDistinct(80))
            let ids = snapshot.pushes.compactMap(\.id)
            let expected = Self.inFlightEnvelopes(id)
            #expect(Set(ids) == expected, "no envelope lost")
            // A push in flight, or answered but not yet recorded, when the gateway died is pushed again
            // by the next one: at most the pushes it had in flight (8 per platform), each collapsing
            // into the first on the device.
            let copies = ids.count - Set(ids).count
            #expect(copies <= 16, "copies only of pushes in flight at the kill (\(copies))")
            for push in snapshot.pushes where push.platform == "ios" { #expect(push.headers["apns-collapse-id"] == push.id) }
            reliabilityRow(
                "herald-gateway SIGKILLed with pushes in flight (8 per platform, the stand-in answering after 40 ms), another started",
                load: "one group send to 80 devices; \(atKill) pushes accepted at the kill",
                accepted: 1,
                lost: expected.subtracting(ids).count,
                duplicates: copies,
                test: "aGatewayKilledMidBatchLosesNothing"
            )
        }

        /// A scale-down: a second gateway joins mid-batch and the first is told to stop (SIGTERM).
        /// The first finishes and records the pushes it holds and hands back the rest, so nothing
        /// is lost and, unlike a SIGKILL, nothing is pushed twice.
        @Test func aGatewayStoppedMidBatchBesideAnotherRepeatsNothing() async throws {
            let (chain, first, id) = try await pushesInFlight()
            defer { chain.stop() }
            try chain.stack.startGateway(extra: ["HERALD_GATEWAY_CONCURRENCY": "8"])
            first.sigterm()
            #expect(await first.exitStatus(within: .seconds(30)) == 0, "it drains and exits cleanly")
            let snapshot = try #require(await chain.waitForDistinct(80))
            let ids = snapshot.pushes.compactMap(\.id)
            let expected = Self.inFlightEnvelopes(id)
            #expect(Set(ids) == expected, "no envelope lost")
            #expect(ids.count == expected.count, "none pushed twice (\(ids.count - Set(ids).count) copies)")
            #expect(snapshot.stats.duplicates == 0)
            var counts: DeliveryCounts?
            #expect(
                await eventually(timeout: .seconds(20)) {
                    counts = await chain.deliveredCounts(id)
                    return counts == DeliveryCounts(sent: 80, expired: 0, failed: [:], pending: 0)
                },
                "every push counted once (\(String(describing: counts)))"
            )
            reliabilityRow(
                "herald-gateway stopped (SIGTERM) with pushes in flight while a second one joins (8 per platform, 40 ms answers)",
                load: "one group send to 80 devices",
                accepted: 1,
                lost: expected.subtracting(ids).count,
                duplicates: ids.count - Set(ids).count,
                test: "aGatewayStoppedMidBatchBesideAnotherRepeatsNothing"
            )
        }

        // MARK: Tokens and directory

        static func iosToken(_ i: Int) -> String { String(format: "%064x", i + 1) }
        static func androidToken(_ i: Int) -> String { "fcm-chain-token-" + String(format: "%040d", i) }

        func pushableDirectory(users: Int) -> DirectoryFile {
            var directory = nestedGroupDirectory(tenant: Self.tenant, users: users)
            directory.devices = directory.devices.map { device in
                var device = device
                let index = Int(device.id.dropFirst()) ?? 0
                device.pushToken = device.platform == .ios ? Self.iosToken(index) : Self.androidToken(index)
                return device
            }
            return directory
        }
    }
}

/// The `delivery` of a status record.
struct DeliveryCounts: Equatable, CustomStringConvertible {
    var sent: Int
    var expired: Int
    var failed: [String: Int]
    var pending: Int
    var description: String { "sent \(sent), expired \(expired), failed \(failed), pending \(pending)" }
}

/// A started chain and the calls its tests make.
struct Chain {
    let stack: LocalStack
    let sandbox: SandboxControl
    let token: String

    func stop() {
        stack.stop()
        let sandbox = sandbox
        Task { await sandbox.shutdown() }
    }

    /// Posts a group send; its notification id on 202.
    func send(groups: [String]) async -> String? {
        guard let connection = try? await HTTPConnection.connect(host: "127.0.0.1", port: stack.port, group: .singleton) else { return nil }
        defer { Task { await connection.close() } }
        let body = #"{"title":"Chain","body":"test","groupIds":[\#(groups.map { "\"\($0)\"" }.joined(separator: ","))]}"#
        guard
            let response = try? await connection.request(
                .POST,
                "/v1/notifications",
                headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")],
                body: Array(body.utf8)
            ), response.status == 202
        else { return nil }
        return (try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any])?["id"] as? String
    }

    /// The status record of a notification, as the API answers it.
    func status(_ id: String) async -> [String: Any]? {
        guard let connection = try? await HTTPConnection.connect(host: "127.0.0.1", port: stack.port, group: .singleton) else { return nil }
        defer { Task { await connection.close() } }
        guard
            let response = try? await connection.request(.GET, "/v1/notifications/\(id)", headers: [("Authorization", "Bearer \(token)")]),
            response.status == 200
        else { return nil }
        return try? JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any]
    }

    /// The `delivery` of a notification's status record, as the API answers it.
    func deliveredCounts(_ id: String) async -> DeliveryCounts? {
        guard let delivery = await status(id)?["delivery"] as? [String: Any], let sent = delivery["sent"] as? Int,
            let expired = delivery["expired"] as? Int, let failed = delivery["failed"] as? [String: Int],
            let pending = delivery["pending"] as? Int
        else { return nil }
        return DeliveryCounts(sent: sent, expired: expired, failed: failed, pending: pending)
    }

    /// Waits until the stand-in accepted `count` pushes; its record then (nil on timeout).
    func waitForPushes(_ count: Int, timeout: Duration = .seconds(60)) async -> SandboxControl.Snapshot? {
        var last: SandboxControl.Snapshot?
        _ = await eventually(timeout: timeout) {
            last = try? await sandbox.pushes()
            return (last?.pushes.count ?? 0) >= count
        }
        try? await Task.sleep(for: .seconds(1))
        return try? await sandbox.pushes()
    }

    /// Waits until the stand-in accepted `count` distinct envelopes; its record then.
    func waitForDistinct(_ count: Int, timeout: Duration = .seconds(90)) async -> SandboxControl.Snapshot? {
        _ = await eventually(timeout: timeout) {
            Set(((try? await sandbox.pushes())?.pushes ?? []).compactMap(\.id)).count >= count
        }
        try? await Task.sleep(for: .seconds(1))
        return try? await sandbox.pushes()
    }
}

/// herald-gateway's `/health/ready`: its status and body, the port read from its log.
func gatewayReadiness(_ gateway: ServiceProcess) async -> (status: Int, body: String)? {
    guard let port = metricsPort(gateway.log, of: "gateway"),
        let connection = try? await HTTPConnection.connect(host: "127.0.0.1", port: port, group: .singleton)
    else { return nil }
    defer { Task { await connection.close() } }
    guard let response = try? await connection.request(.GET, "/health/ready") else { return nil }
    return (response.status, String(decoding: response.body.readableBytesView, as: UTF8.self))
}
