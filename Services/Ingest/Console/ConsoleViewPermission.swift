import HeraldCore
import Hummingbird

/// The console's pages are for administrators who may send to groups or to devices: anyone
/// else signed in sees a 403 page naming both permissions.
struct ConsoleViewPermission: RouterMiddleware {
    typealias Context = ConsoleRequestContext

    @concurrent func handle(
        _ request: Request,
        context: Context,
        next: @concurrent (Request, Context) async throws -> Response
    ) async throws -> Response {
        guard let signedIn = context.identity else { return ConsoleVisit.redirect("/console/sign-in") }
        guard signedIn.canView else {
            let permissions = "\(Permission.organizationUpdate.rawValue) / \(Permission.sendCustomNotifications.rawValue)"
            return context.visit.problem(
                .forbidden,
                message: context.visit.language.format("error_forbidden", ["permission": permissions])
            )
        }
        return try await next(request, context)
    }
}
