import Foundation
import Hummingbird
import HTTPTypes
import Logging

/// Gives every answer Hummingbird makes on its own (unknown route, a body it cannot read)
/// the documented error shape, and turns anything unexpected into a plain 500 that leaks
/// nothing. Route handlers answer their own errors before this sees them.
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let style: APIError.Style = request.uri.path.hasPrefix("/deviceManagement") ? .graph : .problem
        do {
            return try await next(request, context)
        } catch let error as any HTTPResponseError {
            let status = error.status
            let detail = status == .notFound ? "no such route: \(request.method.rawValue) \(request.uri.path)" : status.reasonPhrase
            return APIError(status, code: status == .notFound ? "no_route" : "http_\(status.code)", detail: detail)
                .response(style: style, requestId: HTTPExchange.requestId(request))
        } catch {
            logger.error("unexpected error", metadata: ["error.type": "\(type(of: error))", "http.path": "\(request.uri.path)"])
            return APIError(.internalServerError, code: "internal", detail: "the request could not be processed")
                .response(style: style, requestId: HTTPExchange.requestId(request))
        }
    }
}
