import Crypto
import Foundation
import HeraldCore
import Hummingbird
import HTTPTypes
import NIOCore
import Logging


/// The frame around every API handler: a request id, the body read within limits,
/// and every failure answered in the route family's error shape — never a 500 from input.
struct HTTPExchange: Sendable {
    let logger: Logger

    /// Runs `handler`, turning any `APIError` into its response and counting the outcome.
    func run(
        _ request: Request, style: APIError.Style,
        _ handler: (_ logger: Logger) async throws(APIError) -> Response
    ) async -> Response {
        let requestId = Self.requestId(request)
        var log = logger
        log[metadataKey: "request.id"] = "\(requestId)"
        do {
            var response = try await handler(log)
            response.headers[.requestId] = requestId
            return response
        } catch {
            IngestMetrics.request(outcome: error.code)
            if error.status.code >= 500 {
                log.warning("request failed", metadata: ["http.status": "\(error.status.code)", "error.code": "\(error.code)"])
            } else {
                log.debug("request refused", metadata: ["http.status": "\(error.status.code)", "error.code": "\(error.code)"])
            }
            return error.response(style: style, requestId: requestId)
        }
    }

    /// The body of a JSON request, at most `Limits.httpBodyMaxBytes`.
    static func jsonBody(_ request: Request) async throws(APIError) -> Data {
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        let mediaType = contentType.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        guard mediaType == "application/json" || (mediaType.hasPrefix("application/") && mediaType.hasSuffix("+json")) else {
            throw APIError(.unsupportedMediaType, code: "unsupported_media_type", detail: "the body must be application/json")
        }
        let tooLarge = APIError(.contentTooLarge, code: "too_large", detail: "the body must be at most \(Limits.httpBodyMaxBytes) bytes")
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > Limits.httpBodyMaxBytes { throw tooLarge }
        var request = request
        do {
            let buffer = try await request.collectBody(upTo: Limits.httpBodyMaxBytes)
            return Data(buffer: buffer)
        } catch is NIOTooManyBytesError {
            throw tooLarge
        } catch {
            throw APIError.badRequest("the body could not be read")
        }
    }

    /// A valid `Idempotency-Key` header, if present.
    static func idempotencyKey(_ request: Request) throws(APIError) -> String? {
        guard let key = request.headers[.idempotencyKey] else { return nil }
        guard (1...255).contains(key.count), key.unicodeScalars.allSatisfy({ $0.value >= 0x21 && $0.value <= 0x7E }) else {
            throw APIError.badRequest("must be 1 to 255 visible ASCII characters", field: "Idempotency-Key")
        }
        return key
    }

    /// What an idempotency key must always come with: method, path and body.
    static func requestHash(_ request: Request, body: Data) -> String {
        var hasher = SHA256()
        hasher.update(data: Array("\(request.method.rawValue) \(request.uri.path)\n".utf8))
        hasher.update(data: body)
        return Hex.string(hasher.finalize())
    }

    /// A JSON response.
    static func json(_ status: HTTPResponse.Status, _ data: Data, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// The caller's `X-Request-Id` when it is sane, else a new one.
    static func requestId(_ request: Request) -> String {
        if let given = request.headers[.requestId], (1...64).contains(given.count),
           given.unicodeScalars.allSatisfy({ CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0) }),
           given.allSatisfy({ $0.isASCII }) {
            return given
        }
        return UUID().uuidString.lowercased()
    }
}
