import AMQP
import ArgumentParser
import Foundation
import HeraldCommandLine
import HeraldCore
import Store

/// `heraldctl dead-letters list|requeue`: what landed on `herald.dead`, and putting it back.
struct DeadLettersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dead-letters",
        abstract: "Inspect and requeue requests on herald.dead.",
        subcommands: [List.self, Requeue.self]
    )

    /// Headers the dead-lettering added; a requeued request starts clean.
    static let deathHeaders: Set<String> = [
        Topology.reasonHeader, Topology.deadAtHeader, "x-death", "x-first-death-reason", "x-first-death-queue",
        "x-first-death-exchange", "x-last-death-reason", "x-last-death-queue", "x-last-death-exchange", "x-delivery-count",
    ]

    /// One line about a dead letter: ids, kind, when and why, never its title or body.
    static func describe(_ delivery: Delivery) -> String {
        func header(_ name: String) -> String? {
            switch delivery.headers[name] {
            case .string(let text): text
            case .int(let n): String(n)
            case nil: nil
            }
        }
        let reason = header(Topology.reasonHeader) ?? header("x-first-death-reason").map { "broker: \($0)" } ?? "unknown"
        let request = try? NotificationRequest.decode(Data(delivery.body))
        let kind =
            switch request?.target {
            case .groups(let groups): "groups(\(groups.count))"
            case .device: "device"
            case nil: "undecodable"
            }
        return [delivery.messageId ?? "(no id)", request?.tenantId ?? "-", kind, header(Topology.deadAtHeader) ?? "-", reason]
            .joined(separator: "  ")
    }

    /// Prints what is on a dead-letter queue, a line each, leaving it there.
    static func list(
        _ queue: String,
        broker: BrokerOptions,
        max: Int,
        noun: String,
        columns: String,
        describe: (Delivery) -> String
    ) async throws {
        let admin = try broker.admin()
        let total = try await admin.counts(queue: queue).messages
        let letters = try await admin.peek(queue: queue, max: max)
        print("\(queue): \(total) \(noun)" + (total > letters.count ? ", showing \(letters.count)" : ""))
        if !letters.isEmpty { print(columns) }
        for letter in letters { print(describe(letter)) }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the requests on herald.dead (id, tenant, kind, when, why); they stay on the queue."
        )
        @OptionGroup var broker: BrokerOptions
        @Option(help: "Most requests to print.") var max = 100

        func run() async throws {
            try await DeadLettersCommand.list(
                Topology.dead,
                broker: broker,
                max: max,
                noun: "request(s)",
                columns: "id  tenant  kind  dead-at  reason",
                describe: DeadLettersCommand.describe
            )
        }
    }

    struct Requeue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move requests from herald.dead back to herald.requests, so the dispatcher tries them again.",
            discussion: """
                Each request is copied with a broker confirm before it is removed from herald.dead, and its
                status goes from failed back to accepted first, so the dispatcher does not drop it as finished.
                Fix the cause (see `list`) before requeueing, or the request returns to herald.dead.
                """
        )
        @OptionGroup var broker: BrokerOptions
        @OptionGroup var database: DatabaseOptions
        @Option(name: .customLong("id"), help: "A notification id to requeue (repeat for several).") var ids: [String] = []
        @Flag(help: "Requeue every request on herald.dead.") var all = false
        @Option(help: "Most requests to look at.") var max = 10_000

        func validate() throws {
            if ids.isEmpty == !all { throw ValidationError("give --id (one or more) or --all") }
        }

        func run() async throws {
            let admin = try broker.admin()
            // Only what is on herald.dead now has its status reopened: a wrong id changes nothing.
            let present = Set(try await admin.peek(queue: Topology.dead, max: max).compactMap(\.messageId))
            let wanted: Set<String> = all ? present : Set(ids).intersection(present)
            let statuses = try await database.open().statuses
            for id in wanted { try await statuses.reopenFailed(id: id) }
            let moved = try await admin.move(
                from: Topology.dead,
                to: Topology.requests,
                scan: max,
                dropping: DeadLettersCommand.deathHeaders
            ) { delivery in wanted.contains(delivery.messageId ?? "") }
            for letter in moved { print("requeued " + DeadLettersCommand.describe(letter)) }
            let missing = Set(ids).subtracting(moved.compactMap(\.messageId))
            if !all, !missing.isEmpty {
                throw CLIError("not on \(Topology.dead): \(missing.sorted().joined(separator: ", "))")
            }
            print("\(moved.count) request(s) moved to \(Topology.requests)")
        }
    }
}
