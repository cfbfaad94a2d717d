import AMQP
public import ArgumentParser
import Foundation
import HeraldCommandLine
import HeraldCore
import HeraldRuntime
import Logging
import Store

/// herald-load: measures Herald and the broker it runs on.
public struct HeraldLoad: AsyncParsableCommand {
    public init() {}

    public static let configuration = CommandConfiguration(
        commandName: "herald-load",
        abstract: "Load generator and benchmark driver for Herald.",
        subcommands: [Seed.self, Run.self, BrokerCeiling.self, FanOut.self, Envelopes.self, WrkScript.self]
    )
}

/// Options shared by the subcommands.
struct CommonOptions: ParsableArguments {
    @Option(name: .customLong("amqp-url"), help: "Broker (default: $HERALD_AMQP_URL).") var amqpURL: String?
    @Flag(help: "Print one JSON object instead of text.") var json = false

    func amqp() throws -> AMQPConfiguration {
        try EnvironmentReader.process().amqp(url: amqpURL)
    }

    func report(_ title: String, _ rows: [(String, String)]) { printReport(title, rows, json: json) }
}

/// Prints named figures as one JSON object, or as a title and aligned rows.
func printReport(_ title: String, _ rows: [(String, String)], json: Bool) {
    if json {
        let object = Dictionary(uniqueKeysWithValues: rows)
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        print(String(decoding: data, as: UTF8.self))
    } else {
        print(title)
        for (key, value) in rows { print("  " + key.padding(toLength: 30, withPad: " ", startingAt: 0) + value) }
    }
}

/// A started publisher, connected to the broker (or a thrown "broker not reachable"); the caller
/// shuts it down.
func connectedPublisher(_ configuration: AMQPConfiguration, topology: Topology?, name: String) async throws -> AMQPPublisher {
    let publisher = try AMQPPublisher(
        configuration: configuration,
        topology: topology,
        confirmTimeout: .seconds(30),
        name: name,
        logger: silentLogger()
    )
    publisher.start()
    guard await publisher.waitUntilConnected(timeout: .seconds(10)) else {
        publisher.shutdown()
        throw ValidationError("broker not reachable")
    }
    return publisher
}

func silentLogger() -> Logger {
    var logger = Logger(label: "herald-load")
    logger.logLevel = .error
    return logger
}
