import Hummingbird

/// A posted form of a signed-in administrator: read within limits (415, 413, 400 pages), and
/// refused unless it comes from this console's own page (same origin, the session's CSRF token).
struct ConsoleFormGuard: RouterMiddleware {
    typealias Context = ConsoleRequestContext

    @concurrent func handle(
        _ request: Request,
        context: Context,
        next: @concurrent (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        guard let signedIn = context.identity else { return ConsoleVisit.redirect("/console/sign-in") }
        switch await ConsoleSecurity.readForm(request) {
        case .success(let form): context.form = form
        case .failure(let refusal): return context.visit.problem(refusal.status, message: context.visit.language["error_badForm"])
        }
        guard ConsoleSecurity.sameOrigin(request),
            ConsoleSecurity.constantTimeEqual(context.form["csrf"] ?? "", signedIn.session.csrf)
        else {
            return context.visit.problem(.forbidden, message: context.visit.language["error_csrf"])
        }
        return try await next(request, context)
    }
}
