import HTTPTypes
package import Hummingbird
import Logging

/// The one frame around every ingest request. It gives the request its id, renders every error
/// in its route family's shape (`ErrorShape`), turns anything unexpected into a plain 500 that
/// leaks nothing, and counts the outcome in `herald_ingest_requests_total`: the send's outcome
/// when a handler recorded one, else the code of the `APIError` a handler threw.
package struct ErrorMiddleware: RouterMiddleware {
    package typealias Context = IngestRequestContext

    package init() {}

    @concurrent package func handle(
        _ request: Request,
        context: Context,
        next: @concurrent (Request, Context) async throws -> Response
    ) async throws -> Response {
        var context = context
        let requestId = RequestID.of(request)
        context.requestId = requestId
        context.logger[metadataKey: "request.id"] = "\(requestId)"
        let shape = ErrorShape(path: request.uri.path)
        do {
            var response = try await next(request, context)
            if let outcome = context.outcome.value { IngestMetrics.request(outcome: outcome) }
            response.headers[.requestId] = requestId
            return response
        } catch let error as APIError {
            IngestMetrics.request(outcome: context.outcome.value ?? error.code.description)
            let metadata: Logger.Metadata = ["http.status": "\(error.status.code)", "error.code": "\(error.code)"]
            if error.status.code >= 500 {
                context.logger.warning("request failed", metadata: metadata)
            } else {
                context.logger.debug("request refused", metadata: metadata)
            }
            return error.response(shape: shape, requestId: requestId)
        } catch let error as any HTTPResponseError {
            // Hummingbird's own answers: an unknown route, a body it could not read.
            let status = error.status
            let refusal =
                status == .notFound
                ? APIError(status, code: .noRoute, detail: "no such route: \(request.method.rawValue) \(request.uri.path)")
                : APIError(status, code: .http(status.code), detail: status.reasonPhrase)
            return refusal.response(shape: shape, requestId: requestId)
        } catch {
            context.logger.error(
                "unexpected error",
                metadata: ["error.type": "\(type(of: error))", "http.path": "\(request.uri.path)"]
            )
            return APIError(.internalServerError, code: .internal, detail: "the request could not be processed")
                .response(shape: shape, requestId: requestId)
        }
    }
}
