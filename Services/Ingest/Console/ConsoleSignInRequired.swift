import Hummingbird

/// Sends visitors without a session to the sign-in page (hummingbird-auth's
/// `IsAuthenticatedMiddleware`, answered with a redirect a browser follows).
struct ConsoleSignInRequired: RouterMiddleware {
    typealias Context = ConsoleRequestContext

    @concurrent func handle(
        _ request: Request,
        context: Context,
        next: @concurrent (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard context.identity != nil else { return ConsoleVisit.redirect("/console/sign-in") }
        return try await next(request, context)
    }
}
