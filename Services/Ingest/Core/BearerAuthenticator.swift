package import Hummingbird
import HummingbirdAuth

/// Bearer authentication on the API's route groups, in hummingbird-auth's shape: a request
/// without an `Authorization` header passes on without an identity (the handler's
/// `requireCaller` answers 401); a malformed or invalid token is a 401 here. The directory is
/// read by the handler, so that a device send reads the principal and the device together.
package struct BearerAuthenticator: AuthenticatorMiddleware {
    package typealias Context = IngestRequestContext
    let authenticator: Authenticator

    package init(authenticator: Authenticator) {
        self.authenticator = authenticator
    }

    package func authenticate(request: Request, context: Context) async throws -> BearerIdentity? {
        guard let header = request.headers.value(of: .authorization) else { return nil }
        guard let token = Self.token(inAuthorization: header) else {
            throw APIError.unauthorized("the Authorization header must be \"Bearer <token>\"")
        }
        return try await authenticator.identity(token: token)
    }

    /// The token of an `Authorization` value `Bearer <token>`: the scheme in any ASCII case, one
    /// space, then the token without the spaces and tabs around it (RFC 9110, 11.4 and 5.6.3).
    /// Nil when the value does not start so or has nothing after the scheme's space. Read as bytes:
    /// counting and lowercasing the header's characters cost ~8,000 instructions per send, for a
    /// value whose meaningful parts are ASCII.
    package static func token(inAuthorization header: String) -> String? {
        header.utf8.withContiguousStorageIfAvailable(token(inAuthorization:))
            ?? Array(header.utf8).withUnsafeBufferPointer(token(inAuthorization:))
    }

    private static func token(inAuthorization value: UnsafeBufferPointer<UInt8>) -> String? {
        let scheme = "bearer ".utf8
        guard value.count > scheme.count, zip(value, scheme).allSatisfy({ $0.lowercasedASCII == $1 }) else { return nil }
        // Cut only at ASCII bytes of valid UTF-8, so the token's bytes decode exactly.
        return String(decoding: value[scheme.count...].trimmingOptionalWhitespace(), as: UTF8.self)
    }
}
