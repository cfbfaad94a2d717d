/// How an error body is shaped. The one place that knows which route family uses which.
package enum ErrorShape: Sendable {
    /// RFC 9457 `application/problem+json`: `/v1`, the operations routes and the console's JSON answers.
    case problem
    /// Microsoft Graph's `{"error":{…}}`: the `/deviceManagement` routes.
    case graph

    /// The shape of the route family `path` belongs to.
    package init(path: String) {
        self = path.hasPrefix("/deviceManagement") ? .graph : .problem
    }
}
