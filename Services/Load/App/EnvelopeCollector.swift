public import AMQP
import Dispatch
public import HeraldCore
public import Logging
import NIOConcurrencyHelpers

/// Takes envelopes off `herald.push.ios` and `herald.push.android`, standing in for the push
/// gateways, and remembers when each envelope id first arrived and how often.
public final class EnvelopeCollector: Sendable {
    /// What arrived for one envelope id.
    public struct Arrival: Sendable {
        /// Monotonic nanoseconds (`DispatchTime.uptimeNanoseconds`) of the first copy.
        public var firstAt: UInt64
        public var copies: Int
        /// Copies not flagged `redelivered`: each was published by Herald (more than one means
        /// Herald sent the envelope again; a redelivered copy is the broker's, after a dropped
        /// consumer connection).
        public var freshCopies: Int
        /// The queue of the first copy.
        public var route: PushRoute
    }

    private let consumers: [(consumer: AMQPConsumer, route: PushRoute)]
    /// The broker it consumes from, also asked for queue depths at the end of a run.
    let configuration: AMQPConfiguration
    private struct State {
        var arrivals: [String: Arrival] = [:]
        var total = 0
        var withoutId = 0
    }
    private let state = NIOLockedValueBox(State())
    /// Per consumer, the last delivery taken but not yet acknowledged.
    private let unacked = NIOLockedValueBox<[Int: Delivery]>([:])
    /// Deliveries are acknowledged in batches of this many (one `multiple` ack), as a gateway
    /// would, so the stand-in gateway costs the shared broker as little as it can.
    static let ackBatch: UInt64 = 32

    public init(configuration: AMQPConfiguration, logger: Logger) throws {
        self.configuration = configuration
        consumers = [
            (
                try AMQPConsumer(
                    configuration: configuration,
                    topology: Topology(),
                    queue: Topology.pushIOS,
                    prefetch: 2000,
                    name: "load-ios",
                    logger: logger
                ), .ios
            ),
            (
                try AMQPConsumer(
                    configuration: configuration,
                    topology: Topology(),
                    queue: Topology.pushAndroid,
                    prefetch: 2000,
                    name: "load-android",
                    logger: logger
                ), .android
            ),
        ]
    }

    /// Messages waiting on each of Herald's queues other than the push queues this collector
    /// empties (requests not yet dispatched, deferred, throttled, dead-lettered); the delay
    /// queues are summed as `herald.requests.delay.*`. Empty when the broker cannot be asked.
    func depths() async -> [String: Int] {
        let admin = AMQPAdmin(configuration: configuration)
        var depths: [String: Int] = [:]
        for queue in [Topology.requests, Topology.throttled, Topology.dead] {
            guard let counts = try? await admin.counts(queue: queue) else { return [:] }
            depths[queue] = counts.messages
        }
        var delayed = 0
        for queue in Topology().delayQueues {
            delayed += (try? await admin.counts(queue: queue).messages) ?? 0
        }
        depths["herald.requests.delay.*"] = delayed
        return depths
    }

    /// Consumes both queues until `stop()`; run it in a child task.
    public func run() async {
        await withTaskGroup(of: Void.self) { group in
            for (index, (consumer, route)) in consumers.enumerated() {
                consumer.start()
                group.addTask { [state, unacked] in
                    for await delivery in consumer.deliveries {
                        let now = DispatchTime.now().uptimeNanoseconds
                        state.withLockedValue { state in
                            state.total += 1
                            guard let id = delivery.messageId else {
                                state.withoutId += 1
                                return
                            }
                            let fresh = delivery.redelivered ? 0 : 1
                            if state.arrivals[id] == nil {
                                state.arrivals[id] = Arrival(firstAt: now, copies: 1, freshCopies: fresh, route: route)
                            } else {
                                state.arrivals[id]!.copies += 1
                                state.arrivals[id]!.freshCopies += fresh
                            }
                        }
                        // Deliveries come in order, so one ack covers every earlier one.
                        if delivery.deliveryTag % Self.ackBatch == 0 {
                            consumer.ack(delivery, multiple: true)
                            unacked.withLockedValue { $0[index] = nil }
                        } else {
                            unacked.withLockedValue { $0[index] = delivery }
                        }
                    }
                }
            }
        }
    }

    /// Whether both consumers are connected.
    public var isConnected: Bool { consumers.allSatisfy { $0.consumer.isConnected } }

    /// Ends `run()` and closes the connections.
    public func stop() {
        for (index, (consumer, _)) in consumers.enumerated() {
            // The rest of the last batch, before the connection closes and would requeue it.
            if let last = unacked.withLockedValue({ $0.removeValue(forKey: index) }) { consumer.ack(last, multiple: true) }
            consumer.shutdown()
        }
    }

    /// Envelopes received so far, copies included.
    public var received: Int { state.withLockedValue { $0.total } }

    /// A copy of what arrived, and how many messages carried no id at all.
    public func snapshot() -> (arrivals: [String: Arrival], withoutId: Int) {
        state.withLockedValue { ($0.arrivals, $0.withoutId) }
    }

    /// How many of `ids` have arrived.
    public func arrivedCount(of ids: some Sequence<String>) -> Int {
        state.withLockedValue { state in ids.reduce(0) { state.arrivals[$1] == nil ? $0 : $0 + 1 } }
    }
}
