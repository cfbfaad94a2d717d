import AMQP
import Foundation
import HeraldCore
import SQLiteStore
import Store
import TestSupport
import Testing

extension BrokerTests {
    @Suite struct DeadLetterTests {
        /// An operator lists a dead letter (ids and reason, never its text), requeues it, and the
        /// dispatcher delivers it: its failed status is reopened so it is not dropped as finished.
        @Test func aDeadLetterCanBeListedAndRequeuedByTheOperator() async throws {
            try await Broker.purgeAll()
            let stack = try LocalStack()
            defer { stack.stop() }
            try await stack.importDirectory(sampleDirectory())

            // A request that failed earlier: on herald.dead with a reason, its status failed.
            let request = NotificationRequest(
                id: NotificationID.make(),
                tenantId: "a",
                principalId: "p-admin",
                target: .device("d-phone"),
                title: "Secret dead title",
                body: "Secret dead body",
                acceptedAt: Date()
            )
            let database = try HeraldDatabase(path: stack.databasePath)
            try await SQLiteStatusStore(database: database).save(
                NotificationStatus(
                    id: request.id,
                    tenantId: "a",
                    kind: .device,
                    status: .failed,
                    acceptedAt: request.acceptedAt,
                    reason: "failed after 5 attempts"
                )
            )
            let publisher = try AMQPPublisher(
                configuration: try Broker.configuration(),
                topology: Topology(),
                name: "test",
                logger: quietLogger()
            )
            publisher.start()
            defer { publisher.shutdown() }
            #expect(await publisher.waitUntilConnected(timeout: .seconds(10)))
            try await publisher.publish(
                OutgoingMessage(
                    routingKey: Topology.dead,
                    body: Array(try request.encoded()),
                    messageId: request.id,
                    headers: [Topology.reasonHeader: .string("failed after 5 attempts: database is locked")]
                )
            )

            let list = try await stack.tool("heraldctl", ["dead-letters", "list"])
            #expect(list.status == 0)
            #expect(list.output.contains(request.id))
            #expect(list.output.contains("database is locked"))
            #expect(list.output.contains("device"))
            #expect(!list.output.contains("Secret dead"), "no title or body")
            #expect(try await Broker.admin().counts(queue: Topology.dead).messages == 1, "listing leaves it there")

            let unknown = try await stack.tool("heraldctl", ["dead-letters", "requeue", "--id", "no-such-id"])
            #expect(unknown.status != 0)
            #expect(try await Broker.admin().counts(queue: Topology.dead).messages == 1)
            // A failed notification that is not on herald.dead keeps its status: nothing was requeued.
            let elsewhere = NotificationID.make()
            try await SQLiteStatusStore(database: database).save(
                NotificationStatus(
                    id: elsewhere,
                    tenantId: "a",
                    kind: .device,
                    status: .failed,
                    acceptedAt: Date(),
                    reason: "the device cannot receive it"
                )
            )
            let notDead = try await stack.tool("heraldctl", ["dead-letters", "requeue", "--id", elsewhere])
            #expect(notDead.status != 0)
            #expect(try await SQLiteStatusStore(database: database).status(tenantId: "a", id: elsewhere)?.status == .failed)

            try stack.startDispatcher()
            let requeue = try await stack.tool("heraldctl", ["dead-letters", "requeue", "--id", request.id])
            #expect(requeue.status == 0)
            #expect(requeue.output.contains("1 request(s) moved"))
            #expect(await dispatched(request.id, in: database, timeout: .seconds(30)))
            let envelopes = try await Broker.collect([Topology.pushIOS], count: 1)
            #expect(envelopes.compactMap(\.messageId) == [EnvelopeBuilder.envelopeId(notificationId: request.id, deviceId: "d-phone")])
            #expect(try await Broker.admin().counts(queue: Topology.dead).messages == 0)
        }

        /// deploy/rabbitmq/definitions.json imports into the RabbitMQ the tests run on, and the
        /// services can then log in as its user and find every queue they declare, unchanged.
        @Test func theBrokerDefinitionsImportAndTheirUserCanLogIn() async throws {
            // Without Herald's queues, so the import creates them and the declaration below compares.
            let guest = AMQPAdmin(configuration: try Broker.configuration())
            for queue in Topology().queueSpecs { try await guest.delete(queue: queue.name) }
            try Broker.script("ctl", ["import_definitions", Broker.root.appendingPathComponent("deploy/rabbitmq/definitions.json").path])
            let url = try Broker.url().replacingOccurrences(of: "guest:guest@", with: "herald:herald@")
            let admin = AMQPAdmin(configuration: try AMQPConfiguration(url: url), topology: Topology())
            // The import is asynchronous; declaring the topology as that user fails on any difference in arguments.
            let declared = await eventually(timeout: .seconds(20)) { (try? await admin.ping()) != nil }
            #expect(declared)
            #expect(try await admin.counts(queue: Topology.requests).messages == 0)
        }
    }
}
