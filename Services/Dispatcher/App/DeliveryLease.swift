public import AMQP

/// Whether a delivery the dispatcher is working on is still its own.
///
/// The broker takes a delivery back when its connection closes, and gives it to another
/// dispatcher. A connection closed by a crash or a restart is known at once. A link that went
/// silent (a cable pulled, a route gone) is not: the broker counts it lost after missed heartbeats,
/// this side a little later, and if the link returns in between, this side's publishing connection
/// may reconnect while its consuming one still looks open. Publishing again then would repeat what
/// the other dispatcher is doing. So after any trouble the work goes on only once the broker has
/// answered on the delivery's connection a question asked after the trouble cleared, or stops once
/// that connection is known to be gone.
public struct DeliveryLease: Sendable {
    /// Whether the delivery came through the connection open now.
    let isCurrent: @Sendable () -> Bool
    /// How long the broker has sent nothing on that connection; nil once it is not current.
    let silence: @Sendable () -> Duration?
    /// Asks the broker something it answers at once on that connection.
    let ping: @Sendable () -> Void

    public init(
        isCurrent: @escaping @Sendable () -> Bool,
        silence: @escaping @Sendable () -> Duration?,
        ping: @escaping @Sendable () -> Void
    ) {
        self.isCurrent = isCurrent
        self.silence = silence
        self.ping = ping
    }

    /// The lease of `delivery` from `source`.
    public init(_ delivery: Delivery, from source: any RequestSource) {
        self.init(isCurrent: { source.isCurrent(delivery) }, silence: { source.silence(of: delivery) }, ping: { source.ping() })
    }

    /// A lease that always holds, for work whose delivery cannot be taken back.
    public static let unconditional = DeliveryLease(isCurrent: { true }, silence: { .zero }, ping: {})

    /// The broker took the delivery back; see `ProcessingOutcome.abandon`.
    struct TakenBack: Error {}

    /// Whether the delivery is still this dispatcher's, as `confirm()` finds out; false also when
    /// the wait is cancelled.
    func isConfirmed() async -> Bool {
        do {
            try await confirm()
            return true
        } catch {
            return false
        }
    }

    /// Returns once the broker has been heard from on the delivery's connection after this call
    /// began (it is asked a question, and answers at once if it is there); throws `TakenBack` as
    /// soon as that connection is known to be gone. A link that stays silent is counted lost after
    /// two missed heartbeats, so the wait is bounded.
    func confirm() async throws {
        let asked = ContinuousClock.now
        var lastPing = asked
        ping()
        while true {
            guard let silence = silence() else { throw TakenBack() }
            // The kernel counts in ticks of up to 10 ms: what it heard must be clearly after `asked`.
            let now = ContinuousClock.now
            if now - silence > asked + .milliseconds(10) { return }
            if now - lastPing > .seconds(1) {
                lastPing = now
                ping()
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}
