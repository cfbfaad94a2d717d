import AMQP
public import ArgumentParser
import Auth
import Foundation
import HeraldCommandLine
import HeraldCore
import HeraldRuntime
import Store

/// heraldctl: Herald's admin CLI. Reads the same environment as the services.
public struct HeraldCtl: AsyncParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "heraldctl",
        abstract: "Administer Herald: directory, tokens, notification status and audit trail, queues.",
        subcommands: [
            DirectoryCommand.self, GroupCommand.self, TokenCommand.self, StatusCommand.self, QueuesCommand.self,
            DeadLettersCommand.self, PushCommand.self, BrokerCommand.self, AuditCommand.self,
        ]
    )
}

struct DirectoryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "directory",
        abstract: "Import directory files.",
        subcommands: [Import.self]
    )

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Upsert a directory file (tenants, users, devices, groups, roles, principals); a bad file changes nothing."
        )
        @OptionGroup var database: DatabaseOptions
        @Argument(help: "The JSON file (the format is in docs/contracts.md).") var file: String

        func run() async throws {
            let data: Data
            do { data = try Data(contentsOf: URL(fileURLWithPath: file)) } catch { throw CLIError("cannot read \(file)") }
            do {
                let parsed = try DirectoryFile.parse(data)
                let summary = try await database.open().writer.importFile(parsed)
                print("imported \(summary)")
            } catch let error as DirectoryFileError {
                throw CLIError("\(file): \(error)")
            }
        }
    }
}

struct GroupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "group",
        abstract: "Change group membership live.",
        subcommands: [AddMember.self, RemoveMember.self]
    )

    /// `--tenant T --group G (--user U | --device D | --group G2)` as docs/contracts.md names them:
    /// the first `--group` is the group changed, a second one is the nested group member
    /// (`--member-group G2` says the same more plainly).
    struct MemberOptions: ParsableArguments {
        @Option(help: "Tenant id.") var tenant: String
        @Option(name: .customLong("group"), help: "The group to change; given twice, the second is a nested group member.")
        var groups: [String] = []
        @Option(name: .customLong("user"), help: "A user to add or remove.") var user: String?
        @Option(name: .customLong("device"), help: "A device to add or remove.") var device: String?
        @Option(name: .customLong("member-group"), help: "A nested group to add or remove.") var memberGroup: String?

        var group: String { groups.first ?? "" }

        func validate() throws {
            guard (1...2).contains(groups.count) else {
                throw ValidationError("give --group once (the group to change), or twice (then a nested group member)")
            }
        }

        func member() throws -> GroupMember {
            let nested = memberGroup ?? (groups.count == 2 ? groups[1] : nil)
            let given = [(MemberKind.user, user), (.device, device), (.group, nested)].compactMap { kind, id in
                id.map { GroupMember(type: kind, id: $0) }
            }
            guard given.count == 1 else { throw CLIError("give exactly one member: --user U, --device D or a second --group G2") }
            return given[0]
        }
    }

    struct AddMember: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "add-member", abstract: "Add a user, device or group to a group.")
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var options: MemberOptions
        func run() async throws {
            let member = try options.member()
            do {
                try await database.open().writer.addMember(
                    tenantId: options.tenant,
                    groupId: options.group,
                    member: member
                )
            } catch let error as DirectoryFileError { throw CLIError(error.description) }
            print("added \(member.type.rawValue) \(member.id) to \(options.group)")
        }
    }

    struct RemoveMember: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "remove-member",
            abstract: "Remove a user, device or group from a group."
        )
        @OptionGroup var database: DatabaseOptions
        @OptionGroup var options: MemberOptions
        func run() async throws {
            let member = try options.member()
            do {
                try await database.open().writer.removeMember(
                    tenantId: options.tenant,
                    groupId: options.group,
                    member: member
                )
            } catch let error as DirectoryFileError { throw CLIError(error.description) }
            print("removed \(member.type.rawValue) \(member.id) from \(options.group)")
        }
    }
}

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "token", abstract: "Mint bearer tokens.", subcommands: [Issue.self])

    struct Issue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print an HS256 bearer token signed with $HERALD_JWT_SECRET.")
        @Option(help: "Tenant id (the tid claim).") var tenant: String
        @Option(help: "Principal id (the sub claim).") var principal: String
        @Option(help: "Seconds the token is valid.") var ttl: Int = 3600

        func run() async throws {
            guard ttl > 0 else { throw CLIError("--ttl must be positive") }
            let settings: TokenSettings
            do { settings = try TokenSettings.fromEnvironment(EnvironmentReader.process()) } catch { throw CLIError("\(error)") }
            let service = await TokenService(settings: settings)
            print(try await service.issue(tenantId: tenant, principalId: principal, ttl: TimeInterval(ttl)))
        }
    }
}

struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "status", abstract: "Print a notification's status record.")
    @OptionGroup var database: DatabaseOptions
    @Argument(help: "Notification id.") var id: String

    func run() async throws {
        guard let status = try await database.open().statuses.statusForOperator(id: id) else {
            throw CLIError("no notification \(id)")
        }
        let encoder = HeraldJSON.encoder
        encoder.outputFormatting.insert(.prettyPrinted)
        print(String(decoding: try encoder.encode(status), as: UTF8.self))
    }
}

struct QueuesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "queues", abstract: "Depth and consumers of every Herald queue.")
    @OptionGroup var broker: BrokerOptions

    func run() async throws {
        let admin = try broker.admin()
        let queues = Topology().allQueues
        let width = (queues.map(\.count).max() ?? 0) + 2
        print("queue".padding(toLength: width, withPad: " ", startingAt: 0) + "messages  consumers")
        for queue in queues {
            let counts = try await admin.counts(queue: queue)
            print(
                queue.padding(toLength: width, withPad: " ", startingAt: 0)
                    + String(counts.messages).leftPadded(8) + "  " + String(counts.consumers).leftPadded(9)
            )
        }
    }
}

struct PushCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "push",
        abstract: "Inspect the push queues.",
        subcommands: [Take.self, PushDeadCommand.self]
    )

    struct Take: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Take envelopes off herald.push.ios and herald.push.android and print them (they are removed)."
        )
        @OptionGroup var broker: BrokerOptions
        @Option(help: "Most envelopes to take per queue.") var max: Int = 50
        @Flag(help: "Print push tokens instead of masking them.") var showTokens = false

        func run() async throws {
            let admin = try broker.admin()
            for queue in [Topology.pushIOS, Topology.pushAndroid] {
                let deliveries = try await admin.take(queue: queue, max: max)
                print("\(queue): \(deliveries.count) envelope(s)")
                for delivery in deliveries {
                    var text = String(decoding: delivery.body, as: UTF8.self)
                    if !showTokens, let object = try? JSONSerialization.jsonObject(with: Data(delivery.body)) as? [String: Any],
                        let token = object["pushToken"] as? String, !token.isEmpty
                    {
                        text = text.replacingOccurrences(of: "\"\(token)\"", with: "\"…\(token.suffix(4))\"")
                    }
                    print("  " + text)
                }
            }
        }
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: " ", count: width - count) + self }
}
