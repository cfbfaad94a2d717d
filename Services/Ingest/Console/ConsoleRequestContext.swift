import Hummingbird
import HummingbirdAuth
import IngestCore

/// A console request as it passes through the console's middleware: its visit (language,
/// page, signed-in administrator) and, on a posted form, the form after its CSRF check.
/// It is made from ingest's context, so the request id and outcome carry over.
struct ConsoleRequestContext: ChildRequestContext, AuthRequestContext, SendingRequestContext {
    var coreContext: CoreRequestContextStorage
    let outcome: RequestOutcome
    /// Set by `ConsoleVisitMiddleware`.
    var visit: ConsoleVisit
    /// Set by `ConsoleFormGuard` on the routes that take a form.
    var form = FormData()

    /// The signed-in administrator, in hummingbird-auth's terms.
    var identity: ConsoleVisit.SignedIn? {
        get { visit.signedIn }
        set { visit.signedIn = newValue }
    }

    init(context: IngestRequestContext) throws {
        guard case .success(let resources) = ConsoleResources.bundled else {
            throw APIError(
                .serviceUnavailable,
                code: .consoleUnavailable,
                detail: "the console is unavailable: its templates could not be read"
            )
        }
        coreContext = context.coreContext
        outcome = context.outcome
        visit = ConsoleVisit(resources: resources, language: resources.language("en"), path: "/console/")
    }
}
