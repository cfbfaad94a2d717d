public import AMQP
public import ArgumentParser
import HeraldRuntime

/// Options for commands that talk to the broker.
public struct BrokerOptions: ParsableArguments {
    public init() {}

    @Option(name: .customLong("amqp-url"), help: "Broker URL (default: $HERALD_AMQP_URL or amqp://guest:guest@127.0.0.1:5672/%2f).")
    public var url: String?

    public func admin() throws -> AMQPAdmin {
        let configuration = try EnvironmentReader.process().amqp(url: url)
        return AMQPAdmin(configuration: configuration, topology: Topology())
    }
}
