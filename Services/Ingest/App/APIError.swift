import AMQP
public import Hummingbird
import HTTPTypes
import NIOCore
import Foundation
public import HeraldCore

/// An answer other than success. Its text is safe to return: it names the field or
/// permission at fault and never carries internal detail.
public struct APIError: Error, Sendable {
    public var status: HTTPResponse.Status
    /// A stable short code, also the metrics label (`validation`, `unauthorized`…).
    public var code: String
    public var detail: String
    public var field: String?
    public var permission: String?
    public var retryAfterSeconds: Int?
    /// The fact behind the error, for surfaces that word it themselves (the console's languages).
    public var cause: Cause?

    /// What exactly was refused.
    public enum Cause: Sendable, Equatable {
        case rule(RuleViolation.Rule)
        case ineligible(SkipReason)
        case unknownGroups([String])
        case unknownDevice
    }

    public init(_ status: HTTPResponse.Status, code: String, detail: String, field: String? = nil, permission: String? = nil, retryAfterSeconds: Int? = nil) {
        self.status = status; self.code = code; self.detail = detail; self.field = field
        self.permission = permission; self.retryAfterSeconds = retryAfterSeconds
    }

    static func unauthorized(_ detail: String) -> APIError { APIError(.unauthorized, code: "unauthorized", detail: detail) }
    static func forbidden(_ permission: String) -> APIError {
        APIError(.forbidden, code: "forbidden", detail: "the caller lacks the permission \(permission)", permission: permission)
    }
    static func badRequest(_ detail: String, field: String? = nil) -> APIError {
        APIError(.badRequest, code: "malformed", detail: field.map { "\($0): \(detail)" } ?? detail, field: field)
    }
    static func unprocessable(_ detail: String, field: String, cause: Cause? = nil) -> APIError {
        var error = APIError(.unprocessableContent, code: "validation", detail: "\(field): \(detail)", field: field)
        error.cause = cause
        return error
    }
    static func unprocessable(_ violation: RuleViolation) -> APIError {
        unprocessable(violation.message, field: violation.field, cause: .rule(violation.rule))
    }
    static func notFound(_ detail: String, field: String? = nil) -> APIError {
        APIError(.notFound, code: "not_found", detail: detail, field: field)
    }
    /// The publish failed. Whether the broker kept the request depends on how: refused or never
    /// sent means it did not; a confirm that never came, or a connection lost after the publish,
    /// means it may have, and only a retry with the same `Idempotency-Key` is then sure to send once.
    static func brokerUnavailable(_ error: any Error) -> APIError {
        if (error as? AMQPError)?.mayHaveReachedBroker == true {
            APIError(.serviceUnavailable, code: "broker_unconfirmed",
                     detail: "the message broker did not confirm the request in time, so it may still be delivered; "
                        + "retry with the same Idempotency-Key to have it sent exactly once", retryAfterSeconds: 1)
        } else {
            APIError(.serviceUnavailable, code: "broker_unavailable",
                     detail: "the message broker is unavailable; nothing was accepted, retry later", retryAfterSeconds: 1)
        }
    }
    static func storeUnavailable() -> APIError {
        APIError(.serviceUnavailable, code: "store_unavailable",
                 detail: "the database is unavailable; nothing was accepted, retry later", retryAfterSeconds: 1)
    }

    /// How an error body is shaped.
    public enum Style: Sendable {
        /// RFC 9457 `application/problem+json` (the `/v1` routes).
        case problem
        /// Microsoft Graph's `{"error":{…}}` (the `/deviceManagement` routes).
        case graph
    }

    /// The HTTP response for this error.
    public func response(style: Style, requestId: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = style == .problem ? "application/problem+json" : "application/json"
        headers[.requestId] = requestId
        if let retryAfterSeconds { headers[.retryAfter] = String(retryAfterSeconds) }
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        var object: [String: Any]
        switch style {
        case .problem:
            object = ["type": "urn:herald:problem:\(code)", "title": status.reasonPhrase, "status": status.code,
                      "detail": detail, "requestId": requestId]
            if let field { object["field"] = field }
            if let permission { object["permission"] = permission }
        case .graph:
            object = ["error": ["code": graphCode, "message": detail,
                                "innerError": ["request-id": requestId, "date": Timestamp.isoSeconds(Date())]]]
        }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data()
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

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
        default: "InternalServerError"
        }
    }
}

enum Timestamp {
    static func isoSeconds(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(timeZone: .gmt))
    }
}
