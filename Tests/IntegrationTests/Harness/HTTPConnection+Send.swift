import LoadApp
import NIOCore

extension HTTPConnection {
    /// `POST /v1/notifications` to `groupIds` with a bearer token: the send most process tests make.
    func sendToGroups(_ groupIds: [String] = ["all"], token: String) async throws -> Response {
        let groups = groupIds.map { "\"\($0)\"" }.joined(separator: ",")
        return try await request(
            .POST,
            "/v1/notifications",
            headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")],
            body: Array(#"{"title":"t","body":"b","groupIds":[\#(groups)]}"#.utf8)
        )
    }
}
