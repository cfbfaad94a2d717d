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
        guard let header = request.headers[.authorization] else { return nil }
        let prefix = "bearer "
        guard header.count > prefix.count, header.prefix(prefix.count).lowercased() == prefix else {
            throw APIError.unauthorized("the Authorization header must be \"Bearer <token>\"")
        }
        let token = String(header.dropFirst(prefix.count).trimmingOptionalWhitespace())
        return try await authenticator.identity(token: token)
    }
}
