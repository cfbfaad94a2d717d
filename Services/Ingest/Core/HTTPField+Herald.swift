import HTTPTypes

extension HTTPField.Name {
    /// `X-Request-Id`: echoed, or made up, on every API response.
    static let requestId = HTTPField.Name("X-Request-Id")!
    /// `Idempotency-Key`: a retried send with the same key and body is accepted once.
    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
}
