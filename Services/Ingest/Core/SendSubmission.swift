import Crypto
import Foundation
package import HeraldCore
package import Hummingbird
import NIOCore

/// A send route's request as read, in the order its refusals are documented: the JSON body within
/// limits (415, 413), decoded strictly as `Body` (400 naming the field), then the
/// `Idempotency-Key` (400 when malformed) with the hash of what it must always come with.
package struct SendSubmission<Body: StrictBody> {
    package var body: Body
    /// `Idempotency-Key`, if the caller sent one.
    package var idempotencyKey: String?
    /// A hash of the method, path and body, when a key was given (most requests skip it).
    package var requestHash: String?

    package static func read(_ request: Request) async throws(APIError) -> SendSubmission {
        let data = try await jsonData(request)
        let body = try StrictJSON.decode(Body.self, from: data)
        let key = try idempotencyKey(request)
        return SendSubmission(body: body, idempotencyKey: key, requestHash: key.map { _ in hash(request, body: data) })
    }

    /// The command this submission asks for.
    package func command(
        title: String,
        body text: String,
        target: NotificationTarget,
        fieldNames: SendCommand.FieldNames
    ) -> SendCommand {
        SendCommand(
            title: title,
            body: text,
            target: target,
            idempotencyKey: idempotencyKey,
            requestHash: requestHash,
            fieldNames: fieldNames
        )
    }

    /// The body of a JSON request, at most `Limits.httpBodyMaxBytes`.
    static func jsonData(_ request: Request) async throws(APIError) -> Data {
        guard let contentType = request.headers.value(of: .contentType), MediaType.namesJSON(contentType) else {
            throw APIError(.unsupportedMediaType, code: .unsupportedMediaType, detail: "the body must be application/json")
        }
        if let length = request.headers.value(of: .contentLength).flatMap({ Int($0) }), length > Limits.httpBodyMaxBytes {
            throw tooLarge()
        }
        var request = request
        do {
            return Data(buffer: try await request.collectBody(upTo: Limits.httpBodyMaxBytes))
        } catch is NIOTooManyBytesError {
            throw tooLarge()
        } catch {
            throw APIError.badRequest("the body could not be read")
        }
    }

    private static func tooLarge() -> APIError {
        APIError(.contentTooLarge, code: .tooLarge, detail: "the body must be at most \(Limits.httpBodyMaxBytes) bytes")
    }

    /// A valid `Idempotency-Key` header, if present.
    static func idempotencyKey(_ request: Request) throws(APIError) -> String? {
        guard let key = request.headers.value(of: .idempotencyKey) else { return nil }
        // Visible ASCII has one byte per character: the byte count is the length it is held to.
        guard (1...255).contains(key.utf8.count), key.unicodeScalars.allSatisfy({ $0.value >= 0x21 && $0.value <= 0x7E }) else {
            throw APIError.badRequest("must be 1 to 255 visible ASCII characters", field: "Idempotency-Key")
        }
        return key
    }

    /// What an idempotency key must always come with: method, path and body.
    static func hash(_ request: Request, body: Data) -> String {
        var hasher = SHA256()
        hasher.update(data: Array("\(request.method.rawValue) \(request.uri.path)\n".utf8))
        hasher.update(data: body)
        return Hex.string(hasher.finalize())
    }
}

/// Request bodies' media types.
package enum MediaType {
    /// True when a `Content-Type` value names JSON: `application/json` or `application/<x>+json`
    /// in any ASCII case, with any parameters after a `;`. Compared as bytes: splitting,
    /// lowercasing and comparing the value as characters cost ~10,000 instructions per send.
    package static func namesJSON(_ contentType: String) -> Bool {
        let mediaType = contentType.utf8.prefix { $0 != UInt8(ascii: ";") }.trimmingOptionalWhitespace().map(\.lowercasedASCII)
        let application = "application/".utf8
        return mediaType.elementsEqual("application/json".utf8)
            || (mediaType.count >= application.count + 5 && mediaType.starts(with: application)
                && mediaType.suffix(5).elementsEqual("+json".utf8))
    }
}
