import Hummingbird
import IngestCore
import Store

/// The start of every console page: the visitor's language, the page's address, and the
/// administrator whose session cookie this is. A session whose principal is gone from the
/// directory counts for nothing; a store that does not answer is a 503 page.
///
/// Like hummingbird-auth's session authenticator, but sessions live in Herald's own store,
/// keyed by a hash of the cookie, with the CSRF token beside them.
struct ConsoleVisitMiddleware: RouterMiddleware {
    typealias Context = ConsoleRequestContext
    let sessions: any ConsoleSessionStore
    let authenticator: Authenticator

    @concurrent func handle(
        _ request: Request,
        context: Context,
        next: @concurrent (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        let cookies = request.cookies
        let resources = context.visit.resources
        let code = ConsoleLanguage.negotiate(
            cookie: cookies[ConsoleCookie.language]?.value,
            acceptLanguage: request.headers[.acceptLanguage]
        )
        let path = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
        context.visit = ConsoleVisit(resources: resources, language: resources.language(code), path: path)
        if let secret = cookies[ConsoleCookie.session]?.value {
            let idHash = ConsoleSecurity.hash(secret)
            do {
                if let session = try await sessions.session(idHash: idHash) {
                    let caller = try await authenticator.caller(tenantId: session.tenantId, principalId: session.principalId)
                    context.identity = .init(session: session, caller: caller, idHash: idHash)
                }
            } catch let error as APIError where error.code == .storeUnavailable {
                return context.visit.problem(.serviceUnavailable, message: context.visit.language["error_storeUnavailable"])
            } catch {
                // The principal is gone from the directory: the session is worth nothing.
            }
        }
        return try await next(request, context)
    }
}
