import ArgumentParser
import Foundation
import HeraldCommandLine
import HeraldCore

/// `heraldctl audit --tenant T --since WHEN`: who sent what, when and how — never the text.
struct AuditCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "List a tenant's audit trail: every accepted send, who made it, through which route, to which groups or device.",
        discussion: """
            WHEN is a time (2026-12-01T09:00:00Z), a day (2026-12-01, UTC) or an age (30m, 24h, 7d). Records are kept \
            HERALD_AUDIT_RETENTION_DAYS (90) days. Titles and bodies are never stored, so never shown.
            """
    )
    @OptionGroup var database: DatabaseOptions
    @Option(help: "Tenant id.") var tenant: String
    @Option(help: "The oldest send listed (a time, a day or an age).") var since: String
    @Option(help: "List sends before this (a time, a day or an age); default: now.") var until: String?
    @Option(help: "Most sends listed.") var limit: Int = 1000
    @Flag(help: "One JSON object per line instead of a table.") var json = false

    func validate() throws {
        guard Self.when(since) != nil else { throw ValidationError("--since: not a time, a day or an age: \(since)") }
        if let until, Self.when(until) == nil { throw ValidationError("--until: not a time, a day or an age: \(until)") }
        guard (1...1_000_000).contains(limit) else { throw ValidationError("--limit: from 1 to 1000000") }
    }

    func run() async throws {
        let from = Self.when(since) ?? Date()
        let to = until.flatMap { Self.when($0) }
        let trail = try await database.open().statuses.trail(tenantId: tenant, since: from, until: to, limit: limit)
        if json {
            for status in trail { print(Self.jsonLine(status, tenant: tenant)) }
            return
        }
        print(["accepted (UTC)", "notification", "route", "principal", "token id", "status", "targets"].joined(separator: "\t"))
        for status in trail {
            let initiator = status.initiator
            print(
                [
                    Timestamp.string(status.acceptedAt), status.id, initiator?.route.rawValue ?? "-", initiator?.principalId ?? "-",
                    initiator?.tokenId ?? "-", status.status.rawValue, Self.targets(status),
                ].joined(separator: "\t")
            )
        }
    }

    /// `groups: a, b` or `device: d`.
    static func targets(_ status: NotificationStatus) -> String {
        guard let targets = status.targets else { return "-" }
        return (targets.kind == .group ? "groups: " : "device: ") + targets.ids.joined(separator: ", ")
    }

    static func jsonLine(_ status: NotificationStatus, tenant: String) -> String {
        var object: [String: Any] = [
            "acceptedAt": Timestamp.string(status.acceptedAt), "id": status.id, "tenantId": tenant, "kind": status.kind.rawValue,
            "status": status.status.rawValue,
        ]
        if let initiator = status.initiator {
            object["principalId"] = initiator.principalId
            object["route"] = initiator.route.rawValue
            if let tokenId = initiator.tokenId { object["tokenId"] = tokenId }
        }
        switch status.targets {
        case .groups(let ids): object["groupIds"] = ids
        case .device(let id): object["deviceId"] = id
        case nil: break
        }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    /// A time, a day (UTC midnight) or an age before `now`.
    static func when(_ text: String, now: Date = Date()) -> Date? {
        if let date = Timestamp.date(text) { return date }
        if let day = try? Date.ISO8601FormatStyle(timeZone: .gmt).year().month().day().parse(text) { return day }
        guard let unit = text.last, let amount = Double(text.dropLast()), amount >= 0 else { return nil }
        let seconds: Double
        switch unit {
        case "s": seconds = 1
        case "m": seconds = 60
        case "h": seconds = 3600
        case "d": seconds = 86_400
        default: return nil
        }
        return now.addingTimeInterval(-amount * seconds)
    }
}
