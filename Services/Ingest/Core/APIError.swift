import AMQP
import Foundation
public import HeraldCore
public import Hummingbird
import NIOCore

/// An answer other than success, thrown by any ingest handler and rendered by `ErrorMiddleware`
/// in the shape of the route family it happened on. Its text is safe to return: it names the
/// field or permission at fault and never carries internal detail.
public struct APIError: HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var code: Code
    public var detail: String
    public var field: String?
    public var permission: String?
    public var retryAfterSeconds: Int?
    /// The fact behind the error, for surfaces that word it themselves (the console's languages).
    public var cause: Cause?

    /// What went wrong, as a stable code: the last part of the problem type
    /// (`urn:herald:problem:<code>`) and the `outcome` label of `herald_ingest_requests_total`.
    public enum Code: Sendable, Hashable, CustomStringConvertible {
        case malformed
        case unsupportedMediaType
        case tooLarge
        case unauthorized
        case forbidden
        case validation
        case notFound
        case idempotencyConflict
        case idempotencyInProgress
        case brokerUnavailable
        case brokerUnconfirmed
        case storeUnavailable
        case identityProviderUnavailable
        /// The caller went past `HERALD_INGEST_RATE`.
        case rateLimited
        /// The console's templates could not be read.
        case consoleUnavailable
        /// No route has this method and path.
        case noRoute
        /// Another answer Hummingbird made on its own, by its status.
        case http(Int)
        /// Anything unexpected: a plain 500 that leaks nothing.
        case `internal`

        public var description: String {
            switch self {
            case .malformed: "malformed"
            case .unsupportedMediaType: "unsupported_media_type"
            case .tooLarge: "too_large"
            case .unauthorized: "unauthorized"
            case .forbidden: "forbidden"
            case .validation: "validation"
            case .notFound: "not_found"
            case .idempotencyConflict: "idempotency_conflict"
            case .idempotencyInProgress: "idempotency_in_progress"
            case .brokerUnavailable: "broker_unavailable"
            case .brokerUnconfirmed: "broker_unconfirmed"
            case .storeUnavailable: "store_unavailable"
            case .identityProviderUnavailable: "identity_provider_unavailable"
            case .rateLimited: "rate_limited"
            case .consoleUnavailable: "console_unavailable"
            case .noRoute: "no_route"
            case .http(let status): "http_\(status)"
            case .internal: "internal"
            }
        }
    }

    /// What exactly was refused.
    public enum Cause: Sendable, Equatable {
        case rule(RuleViolation.Rule)
        case ineligible(SkipReason)
        case unknownGroups([String])
        case unknownDevice
    }

    public init(
        _ status: HTTPResponse.Status,
        code: Code,
        detail: String,
        field: String? = nil,
        permission: String? = nil,
        retryAfterSeconds: Int? = nil,
        cause: Cause? = nil
    ) {
        self.status = status
        self.code = code
        self.detail = detail
        self.field = field
        self.permission = permission
        self.retryAfterSeconds = retryAfterSeconds
        self.cause = cause
    }

    /// The response Hummingbird makes if this error ever escapes `ErrorMiddleware`.
    public func response(from request: Request, context: some RequestContext) throws -> Response {
        response(shape: ErrorShape(path: request.uri.path), requestId: RequestID.of(request))
    }

    /// The HTTP response for this error in `shape`.
    func response(shape: ErrorShape, requestId: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = shape == .problem ? "application/problem+json" : "application/json"
        headers[.requestId] = requestId
        if let retryAfterSeconds { headers[.retryAfter] = String(retryAfterSeconds) }
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        let object: [String: Any]
        switch shape {
        case .problem:
            var problem: [String: Any] = [
                "type": "urn:herald:problem:\(code)", "title": status.reasonPhrase, "status": status.code,
                "detail": detail, "requestId": requestId,
            ]
            if let field { problem["field"] = field }
            if let permission { problem["permission"] = permission }
            object = problem
        case .graph:
            let date = Date().formatted(Date.ISO8601FormatStyle(timeZone: .gmt))
            object = ["error": ["code": graphCode, "message": detail, "innerError": ["request-id": requestId, "date": date]]]
        }
        let options: JSONSerialization.WritingOptions = [.sortedKeys, .withoutEscapingSlashes]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: options)) ?? Data()
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// Graph's error code for this status.
    private var graphCode: String {
        switch status {
        case .badRequest: "BadRequest"
        case .unauthorized: "Unauthorized"
        case .forbidden: "Forbidden"
        case .notFound: "NotFound"
        case .conflict: "Conflict"
        case .contentTooLarge: "RequestEntityTooLarge"
        case .unsupportedMediaType: "UnsupportedMediaType"
        case .unprocessableContent: "BadRequest"
        case .serviceUnavailable: "ServiceUnavailable"
        case .tooManyRequests: "TooManyRequests"
        default: "InternalServerError"
        }
    }
}

extension APIError {
    package static func unauthorized(_ detail: String) -> APIError {
        APIError(.unauthorized, code: .unauthorized, detail: detail)
    }

    package static func forbidden(_ permission: String) -> APIError {
        APIError(.forbidden, code: .forbidden, detail: "the caller lacks the permission \(permission)", permission: permission)
    }

    package static func badRequest(_ detail: String, field: String? = nil) -> APIError {
        APIError(.badRequest, code: .malformed, detail: field.map { "\($0): \(detail)" } ?? detail, field: field)
    }

    package static func unprocessable(_ detail: String, field: String, cause: Cause? = nil) -> APIError {
        APIError(.unprocessableContent, code: .validation, detail: "\(field): \(detail)", field: field, cause: cause)
    }

    package static func unprocessable(_ violation: RuleViolation) -> APIError {
        unprocessable(violation.message, field: violation.field, cause: .rule(violation.rule))
    }

    package static func notFound(_ detail: String, field: String? = nil, cause: Cause? = nil) -> APIError {
        APIError(.notFound, code: .notFound, detail: detail, field: field, cause: cause)
    }

    /// The publish failed. Whether the broker kept the request depends on how: refused or never
    /// sent means it did not; a confirm that never came, or a connection lost after the publish,
    /// means it may have, and only a retry with the same `Idempotency-Key` is then sure to send once.
    package static func brokerUnavailable(_ error: any Error) -> APIError {
        if (error as? AMQPError)?.mayHaveReachedBroker == true {
            APIError(
                .serviceUnavailable,
                code: .brokerUnconfirmed,
                detail: "the message broker did not confirm the request in time, so it may still be delivered; "
                    + "retry with the same Idempotency-Key to have it sent exactly once",
                retryAfterSeconds: 1
            )
        } else {
            APIError(
                .serviceUnavailable,
                code: .brokerUnavailable,
                detail: "the message broker is unavailable; nothing was accepted, retry later",
                retryAfterSeconds: 1
            )
        }
    }

    package static func rateLimited(retryAfter seconds: Int, limit: CallerRateLimit) -> APIError {
        APIError(
            .tooManyRequests,
            code: .rateLimited,
            detail: "this caller sent more than \(limit.formatted) sends; nothing was accepted, retry after \(seconds) s",
            retryAfterSeconds: seconds
        )
    }

    /// The token needs a key of the identity provider that could not be fetched: the token may
    /// be good, so not 401.
    package static func identityProviderUnavailable(_ detail: String) -> APIError {
        APIError(.serviceUnavailable, code: .identityProviderUnavailable, detail: detail, retryAfterSeconds: 5)
    }

    package static func storeUnavailable() -> APIError {
        APIError(
            .serviceUnavailable,
            code: .storeUnavailable,
            detail: "the database is unavailable; nothing was accepted, retry later",
            retryAfterSeconds: 1
        )
    }
}
