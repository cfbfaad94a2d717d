import Synchronization

/// How a request that tried to send ended: `accepted`, `replayed`, or the code of its refusal.
/// Handlers record it as they send; `ErrorMiddleware` counts it, once per request.
package final class RequestOutcome: Sendable {
    private let recorded = Mutex<String?>(nil)

    package init() {}

    /// The outcome recorded so far, if any.
    package var value: String? { recorded.withLock { $0 } }

    /// Runs `send` and records how it ended, then returns or rethrows what it did.
    package func recording(_ send: () async throws(APIError) -> SendReceipt) async throws(APIError) -> SendReceipt {
        do {
            let receipt = try await send()
            recorded.withLock { $0 = receipt.replayed ? "replayed" : "accepted" }
            return receipt
        } catch {
            recorded.withLock { $0 = error.code.description }
            throw error
        }
    }
}
