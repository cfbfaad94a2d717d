import AMQP
import ArgumentParser
import Foundation
import HeraldCore

/// Envelopes as herald-dispatcher makes them, for one synthetic notification, published straight
/// to `herald.push` (confirmed): what `make bench-gateway` leaves waiting for herald-gateway.
struct Envelopes: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "envelopes",
        abstract: "Publish push envelopes for one synthetic notification to herald.push (for herald-gateway)."
    )
    @OptionGroup var common: CommonOptions
    @Option(help: "Envelopes to publish.") var count = 10_000
    @Option(help: "ios, android, or both (alternating).") var platform = "ios"
    @Option(help: "Seconds the envelopes stay deliverable.") var ttl = 86_400
    @Option(help: "Envelopes per confirmed batch.") var batch = 500

    func validate() throws {
        guard ["ios", "android", "both"].contains(platform) else { throw ValidationError("--platform is ios, android or both") }
        guard count > 0, batch > 0 else { throw ValidationError("--count and --batch must be positive") }
    }

    func run() async throws {
        let configuration = try common.amqp()
        let publisher = try await connectedPublisher(configuration, topology: Topology(), name: "bench-envelopes")
        defer { publisher.shutdown() }
        let notificationId = NotificationID.make()
        let builder = EnvelopeBuilder(
            notificationId: notificationId,
            tenantId: "bench-tenant",
            title: "Bench notification",
            body: String(repeating: "A benchmark body of a typical length. ", count: 4),
            createdAt: Date(),
            ttlSeconds: ttl
        )
        let started = ContinuousClock.now
        var index = 0
        while index < count {
            let messages = (index..<min(index + batch, count)).compactMap { n -> OutgoingMessage? in
                let platform: Platform = platform == "android" || (platform == "both" && n % 2 == 1) ? .android : .ios
                guard
                    let envelope = builder.envelope(
                        userId: "bench-user-\(n)",
                        deviceId: "bench-device-\(n)",
                        platform: platform,
                        pushToken: Self.pushToken(n, platform: platform)
                    )
                else { return nil }
                return OutgoingMessage(
                    exchange: Topology.pushExchange,
                    routingKey: envelope.route.rawValue,
                    body: envelope.json,
                    messageId: envelope.id
                )
            }
            try await publisher.publish(batch: messages)
            index += messages.count
        }
        let seconds = (ContinuousClock.now - started).inSeconds
        common.report(
            "envelopes published to herald.push",
            [
                ("notification_id", notificationId), ("envelopes", "\(count)"), ("platform", platform),
                ("publish_per_second", String(format: "%.0f", Double(count) / seconds)),
            ]
        )
    }

    /// A token of the service's shape: 64 hex digits for APNs, 152 URL-safe characters for FCM.
    static func pushToken(_ n: Int, platform: Platform) -> String {
        let hex = String(format: "%016llx", UInt64(n))
        return platform == .android ? "bench-fcm-" + String(repeating: hex, count: 9) : String(repeating: hex, count: 4)
    }
}
