import Synchronization

/// Set when graceful shutdown starts, so readiness turns unhealthy before the listener closes.
public final class ShutdownFlag: Sendable {
    private let state = Atomic<Bool>(false)

    public init() {}

    public var isSet: Bool { state.load(ordering: .acquiring) }

    public func set() { state.store(true, ordering: .releasing) }
}
