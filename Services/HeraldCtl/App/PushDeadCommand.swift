import AMQP
import ArgumentParser
import Foundation
import HeraldCommandLine
import HeraldCore
import Store

/// `heraldctl push dead list|requeue`: the envelopes herald-gateway gave up on
/// (`herald.push.dead`), and putting them back on their platform's queue.
struct PushDeadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dead",
        abstract: "Inspect and requeue envelopes on herald.push.dead.",
        subcommands: [List.self, Requeue.self]
    )

    /// What a line about a dead envelope shows: ids, platform and why, never its token or text.
    struct Summary: Decodable {
        var envelopeId: String?
        var notificationId: String?
        var tenantId: String?
        var platform: String?

        init(_ delivery: Delivery) { self = (try? JSONDecoder().decode(Summary.self, from: Data(delivery.body))) ?? Summary() }
        init() {}

        /// The platform queue it came from, or nil for an envelope that cannot be read.
        var queue: String? {
            switch platform {
            case PushRoute.ios.rawValue: Topology.pushIOS
            case PushRoute.android.rawValue: Topology.pushAndroid
            default: nil
            }
        }
    }

    static func reason(_ delivery: Delivery) -> String? {
        if case .string(let reason) = delivery.headers[Topology.reasonHeader] { return reason }
        return nil
    }

    static func describe(_ delivery: Delivery) -> String {
        let summary = Summary(delivery)
        var attempts = "-"
        if case .int(let n) = delivery.headers[Topology.pushAttemptsHeader] { attempts = String(n) }
        return [
            delivery.messageId ?? "(no id)", summary.notificationId ?? "-", summary.tenantId ?? "-", summary.platform ?? "undecodable",
            attempts, reason(delivery) ?? "unknown",
        ].joined(separator: "  ")
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Print the envelopes on herald.push.dead (envelope, notification, tenant, platform, attempts, why); they stay on the queue."
        )
        @OptionGroup var broker: BrokerOptions
        @Option(help: "Most envelopes to print.") var max = 100

        func run() async throws {
            try await DeadLettersCommand.list(
                Topology.pushDead,
                broker: broker,
                max: max,
                noun: "envelope(s)",
                columns: "envelope  notification  tenant  platform  attempts  reason",
                describe: PushDeadCommand.describe
            )
        }
    }

    struct Requeue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Move envelopes from herald.push.dead back to herald.push.ios or herald.push.android, so the gateway pushes them again.",
            discussion: """
                Each envelope is copied with a broker confirm before it is removed from herald.push.dead, and
                its failure is taken off its notification's delivery counts, so that a push that now succeeds
                is counted once. An envelope already sent (a copy) is dropped by the gateway, not pushed twice.
                Fix the cause (see `list`) before requeueing, or the envelope comes back here.
                """
        )
        @OptionGroup var broker: BrokerOptions
        @OptionGroup var database: DatabaseOptions
        @Option(name: .customLong("id"), help: "An envelope id to requeue (repeat for several).") var ids: [String] = []
        @Flag(help: "Requeue every envelope on herald.push.dead.") var all = false
        @Option(help: "Most envelopes to look at.") var max = 10_000

        func validate() throws {
            if ids.isEmpty == !all { throw ValidationError("give --id (one or more) or --all") }
        }

        func run() async throws {
            let admin = try broker.admin()
            let wanted = Set(ids)
            let all = all
            var moved: [Delivery] = []
            for queue in [Topology.pushIOS, Topology.pushAndroid] {
                moved += try await admin.move(
                    from: Topology.pushDead,
                    to: queue,
                    scan: max,
                    dropping: [Topology.reasonHeader, Topology.pushAttemptsHeader]
                ) { delivery in
                    Summary(delivery).queue == queue && (all || wanted.contains(delivery.messageId ?? ""))
                }
            }
            // The gateway counted each as failed when it dead-lettered it.
            var taken: [String: DeliveryTally] = [:]
            for letter in moved {
                guard let notification = Summary(letter).notificationId, let reason = PushDeadCommand.reason(letter) else { continue }
                taken[notification, default: DeliveryTally()].failed[reason, default: 0] -= 1
            }
            if !taken.isEmpty { try await database.open().pushLedger.addDelivery(taken) }
            for letter in moved { print("requeued " + PushDeadCommand.describe(letter)) }
            let missing = wanted.subtracting(moved.compactMap(\.messageId))
            if !all, !missing.isEmpty {
                throw CLIError("not on \(Topology.pushDead) (or unreadable): \(missing.sorted().joined(separator: ", "))")
            }
            print("\(moved.count) envelope(s) moved back to their platform's queue")
        }
    }
}
