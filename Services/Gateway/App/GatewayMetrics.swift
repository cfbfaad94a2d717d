import HeraldCore
import HeraldRuntime
import Metrics

/// herald-gateway's metrics, named in one place (documented in the README's metrics table).
enum GatewayMetrics {
    /// `herald_gateway_pushes_total{platform,outcome}`: sent, token_gone, retry, credentials_refused,
    /// failed, expired (dropped before a push), duplicate (sent before: dropped).
    static func push(_ route: PushRoute, _ outcome: String) {
        Counter(label: "herald_gateway_pushes_total", dimensions: [("platform", route.rawValue), ("outcome", outcome)]).increment()
    }

    /// `herald_gateway_push_seconds{platform}`: one push, from the request to the answer.
    static func latency(_ route: PushRoute, since start: ContinuousClock.Instant) {
        Timer(label: "herald_gateway_push_seconds", dimensions: [("platform", route.rawValue)]).record(
            duration: ContinuousClock.now - start
        )
    }

    /// `herald_gateway_in_flight{platform}`: pushes waiting for their answer now (HTTP/2 streams).
    static func inFlight(_ route: PushRoute, _ value: Int) {
        Gauge(label: "herald_gateway_in_flight", dimensions: [("platform", route.rawValue)]).record(value)
    }

    /// `herald_gateway_credentials_made{platform}`: APNs provider tokens signed, FCM access tokens
    /// fetched, since start (a renewal adds one).
    static func credentialsMade(_ route: PushRoute, _ total: Int) {
        Gauge(label: "herald_gateway_credentials_made", dimensions: [("platform", route.rawValue)]).record(total)
    }

    /// `herald_gateway_halted{platform}`: 1 while pushes of a platform are stopped because its
    /// service refused the gateway's credentials.
    static func halted(_ route: PushRoute, _ halted: Bool) {
        Gauge(label: "herald_gateway_halted", dimensions: [("platform", route.rawValue)]).record(halted ? 1 : 0)
    }
}

extension PushOutcome {
    /// The `outcome` label of `herald_gateway_pushes_total`.
    var metricName: String {
        switch self {
        case .sent: "sent"
        case .tokenGone: "token_gone"
        case .retry: "retry"
        case .credentialsRefused: "credentials_refused"
        case .failed: "failed"
        }
    }
}
