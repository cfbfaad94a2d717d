import AMQP
import ArgumentParser
import Crypto
import Foundation
import HeraldCommandLine
import HeraldCore

/// `heraldctl broker definitions`: Herald's topology as a RabbitMQ definitions file.
struct BrokerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker",
        abstract: "Broker setup for deployments.",
        subcommands: [Definitions.self]
    )

    struct Definitions: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print RabbitMQ definitions (queues, exchange, bindings, one user) matching what the services declare.",
            discussion: "deploy/rabbitmq/definitions.json is this command's output with --salt 48657261 (a test keeps them equal)."
        )
        @Option(help: "The user the services log in as.") var user = "herald"
        @Option(help: "Its password (change it for anything but a local trial).") var password = "herald"
        @Option(help: "4-byte salt in hex; random when not given.") var salt: String?

        func run() async throws {
            var saltBytes = (0..<4).map { _ in UInt8.random(in: 0...255) }
            if let salt {
                guard salt.count == 8, let value = UInt32(salt, radix: 16) else { throw CLIError("--salt must be 8 hex digits") }
                saltBytes = withUnsafeBytes(of: value.bigEndian, Array.init)
            }
            let digest = SHA256.hash(data: saltBytes + Array(password.utf8))
            let hash = Data(saltBytes + Array(digest)).base64EncodedString()
            print(Topology().definitionsJSON(user: .init(name: user, passwordHash: hash)), terminator: "")
        }
    }
}
