package import Hummingbird

/// A request context a send can happen in (the API's and the console's): it carries the
/// request's logger and the place to record how the send ended.
package protocol SendingRequestContext: RequestContext {
    var outcome: RequestOutcome { get }
}

extension IngestRequestContext: SendingRequestContext {}
