import Foundation
import HTTPTypes
import HeraldCore
import IngestCore
import TestSupport
import Testing

/// One body for `POST /v1/notifications` and the answer it must get.
struct GroupSendCase: Sendable, CustomTestStringConvertible {
    var name: String
    var body: String
    var status: Int
    var field: String?

    init(_ name: String, _ body: String, _ status: Int, _ field: String?) {
        self.name = name
        self.body = body
        self.status = status
        self.field = field
    }

    var testDescription: String { name }
}

@Suite struct RequestRuleTests {
    static let groupCases: [GroupSendCase] = [
        GroupSendCase("valid", #"{"title":"Hi","body":"There","groupIds":["g-top"]}"#, 202, nil),
        GroupSendCase(
            "25 distinct after duplicates, unknown ones",
            #"{"title":"Hi","body":"There","groupIds":[\#((1...24).map { "\"g-top\",\"g\($0)\"" }.joined(separator: ","))]}"#,
            404,
            "groupIds"
        ),
        GroupSendCase("title of 51", #"{"title":"\#(String(repeating: "x", count: 51))","body":"b","groupIds":["g-top"]}"#, 422, "title"),
        GroupSendCase("title of 50 emoji", #"{"title":"\#(String(repeating: "🇸🇪", count: 50))","body":"b","groupIds":["g-top"]}"#, 202, nil),
        GroupSendCase("body of 501", #"{"title":"t","body":"\#(String(repeating: "y", count: 501))","groupIds":["g-top"]}"#, 422, "body"),
        GroupSendCase("blank title", #"{"title":"   ","body":"b","groupIds":["g-top"]}"#, 422, "title"),
        GroupSendCase("empty body", #"{"title":"t","body":"","groupIds":["g-top"]}"#, 422, "body"),
        GroupSendCase("control character", #"{"title":"a\u0007b","body":"b","groupIds":["g-top"]}"#, 422, "title"),
        GroupSendCase("newline in body", #"{"title":"t","body":"a\nb","groupIds":["g-top"]}"#, 202, nil),
        GroupSendCase("no groups", #"{"title":"t","body":"b","groupIds":[]}"#, 422, "groupIds"),
        GroupSendCase(
            "26 groups",
            #"{"title":"t","body":"b","groupIds":[\#((1...26).map { "\"g\($0)\"" }.joined(separator: ","))]}"#,
            422,
            "groupIds"
        ),
        GroupSendCase("unknown field", #"{"title":"t","body":"b","groupIds":["g-top"],"priority":"high"}"#, 400, "priority"),
        GroupSendCase("wrong type", #"{"title":"t","body":5,"groupIds":["g-top"]}"#, 400, "body"),
        GroupSendCase("null", #"{"title":null,"body":"b","groupIds":["g-top"]}"#, 400, "title"),
        GroupSendCase("missing field", #"{"title":"t","groupIds":["g-top"]}"#, 400, "body"),
        GroupSendCase("ids not strings", #"{"title":"t","body":"b","groupIds":[1]}"#, 400, "groupIds[0]"),
        GroupSendCase("not JSON", #"{"title":"t","#, 400, nil),
        GroupSendCase("array", #"["title"]"#, 400, nil),
        GroupSendCase("unknown group", #"{"title":"t","body":"b","groupIds":["g-top","nope"]}"#, 404, "groupIds"),
        GroupSendCase("another tenant's group", #"{"title":"t","body":"b","groupIds":["g-only-in-b"]}"#, 404, "groupIds"),
    ]

    @Test(arguments: groupCases)
    func everyGroupSendRuleAnswersItsStatus(_ c: GroupSendCase) async throws {
        let publisher = RecordingPublisher()
        let harness = try await IngestHarness(publisher: publisher)
        let token = try await harness.token()
        try await harness.run { client in
            let answer = try await client.send(.post, "/v1/notifications", token: token, body: c.body)
            #expect(answer.status == c.status, "\(answer.text)")
            if c.status != 202 {
                #expect(answer.headers["Content-Type"] == "application/problem+json")
                #expect(answer.field("status") == String(c.status))
                #expect(answer.field("field") == c.field)
            }
        }
        #expect(publisher.published.count == (c.status == 202 ? 1 : 0), "only an accepted send is published")
    }

    @Test func twentyFiveDistinctGroupsAfterDuplicatesAreAccepted() async throws {
        var directory = sampleDirectory()
        directory.groups += (1...25).map { Group(id: "g\($0)", tenantId: "a", displayName: "G\($0)", members: []) }
        let publisher = RecordingPublisher()
        let harness = try await IngestHarness(publisher: publisher, directory: directory)
        let token = try await harness.token()
        let ids = (1...25).map { "\"g\($0)\"" }.joined(separator: ",")
        try await harness.run { client in
            let answer = try await client.send(
                .post,
                "/v1/notifications",
                token: token,
                body: #"{"title":"t","body":"b","groupIds":[\#(ids),\#(ids)]}"#
            )
            #expect(answer.status == 202)
        }
        #expect(publisher.published.first?.target == .groups((1...25).map { "g\($0)" }))
    }

    @Test func anotherTenantsIdIsIndistinguishableFromAnUnknownOne() async throws {
        let harness = try await IngestHarness(publisher: RecordingPublisher())
        let token = try await harness.token()
        try await harness.run { client in
            for (foreign, unknown) in [("d-ios-only-in-b", "d-nowhere")] {
                let a = try await client.send(.post, "/v1/devices/\(foreign)/notifications", token: token, body: deviceSend)
                let b = try await client.send(.post, "/v1/devices/\(unknown)/notifications", token: token, body: deviceSend)
                #expect(a.status == 404)
                #expect(b.status == 404)
                #expect(
                    a.text.replacingOccurrences(of: foreign, with: "X").replacingOccurrences(of: a.field("requestId")!, with: "R")
                        == b.text.replacingOccurrences(of: unknown, with: "X").replacingOccurrences(of: b.field("requestId")!, with: "R")
                )
            }
        }
    }

    @Test func devicesThatCannotReceiveAreRefusedWithTheReason() async throws {
        let harness = try await IngestHarness(publisher: RecordingPublisher())
        let token = try await harness.token()
        try await harness.run { client in
            let mac = try await client.send(.post, "/v1/devices/d-macos/notifications", token: token, body: deviceSend)
            #expect(mac.status == 422)
            #expect(mac.field("detail")?.contains("not supported on macOS") == true)
            let windows = try await client.send(.post, "/v1/devices/d-windows/notifications", token: token, body: deviceSend)
            #expect(windows.status == 422)
            #expect(windows.field("detail")?.contains("not supported on Windows") == true)
            let unenrolled = try await client.send(.post, "/v1/devices/d-ios-unenrolled/notifications", token: token, body: deviceSend)
            #expect(unenrolled.status == 422)
            #expect(unenrolled.field("detail")?.contains("not enrolled") == true)
            let status1 = try await client.send(.post, "/v1/devices/d-android-gms/notifications", token: token, body: deviceSend).status
            #expect(status1 == 202)
        }
    }

    @Test func contentTypeAndSizeAreChecked() async throws {
        let harness = try await IngestHarness(publisher: RecordingPublisher())
        let token = try await harness.token()
        try await harness.run { client in
            let status2 = try await client.send(
                .post,
                "/v1/devices/d-phone/notifications",
                token: token,
                body: deviceSend,
                contentType: "text/plain"
            ).status
            #expect(status2 == 415)
            let status3 = try await client.send(
                .post,
                "/v1/devices/d-phone/notifications",
                token: token,
                body: deviceSend,
                contentType: nil
            )
            .status
            #expect(status3 == 415)
            let status4 = try await client.send(
                .post,
                "/v1/devices/d-phone/notifications",
                token: token,
                body: deviceSend,
                contentType: "application/json; charset=utf-8"
            ).status
            #expect(status4 == 202)
            let huge = #"{"title":"t","body":"\#(String(repeating: "z", count: 70_000))"}"#
            let status5 = try await client.send(.post, "/v1/devices/d-phone/notifications", token: token, body: huge).status
            #expect(status5 == 413)
        }
    }

    @Test func aJSONMediaTypeIsRecognizedInAnyCaseWithParameters() {
        let json = [
            "application/json", "Application/JSON", " \tapplication/json \t", "application/json; charset=utf-8",
            "application/json;charset=UTF-8", "application/merge-patch+json", "APPLICATION/VND.HERALD+JSON ; q=1",
            "application/+json",
        ]
        for value in json { #expect(MediaType.namesJSON(value), "\(value)") }
        let other = [
            "", ";", "text/plain", "application/jsonx", "application/json5", "application/xml", "text/json",
            "application/x+jsonl", "application+json", "application/json\n", "\u{00A0}application/json",
            "applicationjson", "json", "+json", "application/ json", "application/j son",
        ]
        for value in other { #expect(!MediaType.namesJSON(value), "\(value)") }
    }

    @Test func aFieldIsReadAsHTTPTypesJoinsIt() {
        var fields: HTTPFields = [.contentType: "application/json"]
        #expect(fields.value(of: .contentType) == "application/json")
        #expect(fields.value(of: .authorization) == nil)
        fields.append(HTTPField(name: .accept, value: "a"))
        fields.append(HTTPField(name: .accept, value: "b"))
        fields.append(HTTPField(name: .cookie, value: "x=1"))
        fields.append(HTTPField(name: .cookie, value: "y=2"))
        for name in [HTTPField.Name.contentType, .accept, .cookie, .authorization] {
            #expect(fields.value(of: name) == fields[name], "\(name)")
        }
        #expect(fields.value(of: .accept) == "a, b")
    }

    @Test func theBearerSchemeIsMatchedInAnyCaseAndTheTokenTrimmed() {
        let cases: [(String, String?)] = [
            ("Bearer abc.def", "abc.def"),
            ("bEaReR  \t abc \t", "abc"),
            ("BEARER é", "é"),
            ("Bearer abc\n", "abc\n"),
            ("Bearer  ", ""),
            ("Bearer ", nil),
            ("Bearer", nil),
            ("Bearer\tabc", nil),
            ("Bearerabc", nil),
            ("Basic dTpw", nil),
            ("Ｂearer abc", nil),
            ("", nil),
        ]
        for (header, token) in cases {
            #expect(BearerAuthenticator.token(inAuthorization: header) == token, "\(header)")
        }
    }

    @Test func aBearerTokenAfterSeveralSpacesIsAccepted() async throws {
        let harness = try await IngestHarness(publisher: RecordingPublisher())
        let token = try await harness.token()
        try await harness.run { client in
            let answer = try await client.send(
                .post,
                "/v1/devices/d-phone/notifications",
                body: #"{"title":"t","body":"b"}"#,
                headers: ["Authorization": "Bearer  \t \(token)"]
            )
            #expect(answer.status == 202)
        }
    }

    @Test func acceptedRequestsCarryTheirContractFields() async throws {
        let publisher = RecordingPublisher()
        let harness = try await IngestHarness(publisher: publisher)
        let token = try await harness.token()
        try await harness.run { client in
            let answer = try await client.send(
                .post,
                "/v1/notifications",
                token: token,
                body: #"{"title":"Hi","body":"There","groupIds":["g-top","g-mid","g-top"]}"#
            )
            #expect(answer.status == 202)
            let id = try #require(answer.field("id"))
            #expect(answer.field("status") == "accepted")
            #expect(answer.headers["Location"] == "/v1/notifications/\(id)")
            let request = try #require(publisher.published.first)
            #expect(request.id == id)
            #expect(NotificationID.isWellFormed(id))
            #expect(request.schemaVersion == 1)
            #expect(request.tenantId == "a")
            #expect(request.principalId == "p-admin")
            #expect(request.target == .groups(["g-top", "g-mid"]))
            #expect(request.title == "Hi")
            #expect(request.body == "There")
            // The status answers at once, and only to the same tenant.
            let status = try await client.send(.get, "/v1/notifications/\(id)", token: token)
            #expect(status.status == 200)
            #expect(status.field("status") == "accepted")
            #expect(status.field("kind") == "group")
            let other = try await harness.token("b", "p-admin")
            let status6 = try await client.send(.get, "/v1/notifications/\(id)", token: other).status
            #expect(status6 == 404)
        }
    }

    @Test func graphRoutesAnswerInGraphShape() async throws {
        let publisher = RecordingPublisher()
        let harness = try await IngestHarness(publisher: publisher)
        let token = try await harness.token()
        try await harness.run { client in
            let ok = try await client.send(
                .post,
                "/deviceManagement/sendCustomNotificationToCompanyPortal",
                token: token,
                body: #"{"notificationTitle":"Hi","notificationBody":"There","groupsToNotify":["g-top"]}"#
            )
            #expect(ok.status == 204)
            let device = try await client.send(
                .post,
                "/deviceManagement/managedDevices/d-phone/sendCustomNotificationToCompanyPortal",
                token: token,
                body: #"{"notificationTitle":"Hi","notificationBody":"There"}"#
            )
            #expect(device.status == 204)
            let bad = try await client.send(
                .post,
                "/deviceManagement/sendCustomNotificationToCompanyPortal",
                token: token,
                body: #"{"notificationTitle":"","notificationBody":"There","groupsToNotify":["g-top"]}"#
            )
            #expect(bad.status == 422)
            let error = try #require(
                (try JSONSerialization.jsonObject(with: Data(bad.text.utf8)) as? [String: Any])?["error"] as? [String: Any]
            )
            #expect(error["code"] as? String == "BadRequest")
            #expect((error["message"] as? String)?.hasPrefix("notificationTitle:") == true)
            let inner = try #require(error["innerError"] as? [String: Any])
            #expect(inner["request-id"] is String)
            #expect(inner["date"] is String)
            let unauthorized = try await client.send(
                .post,
                "/deviceManagement/managedDevices/d-phone/sendCustomNotificationToCompanyPortal",
                body: #"{"notificationTitle":"Hi","notificationBody":"There"}"#
            )
            #expect(unauthorized.status == 401)
            #expect(unauthorized.text.contains(#""code":"Unauthorized""#))
        }
        #expect(publisher.published.count == 2)
    }

    @Test func idempotencyKeyAcceptsOnceAndRefusesAnotherBody() async throws {
        let publisher = RecordingPublisher()
        let harness = try await IngestHarness(publisher: publisher)
        let token = try await harness.token()
        try await harness.run { client in
            let first = try await client.send(
                .post,
                "/v1/devices/d-phone/notifications",
                token: token,
                body: deviceSend,
                headers: ["Idempotency-Key": "abc"]
            )
            let again = try await client.send(
                .post,
                "/v1/devices/d-phone/notifications",
                token: token,
                body: deviceSend,
                headers: ["Idempotency-Key": "abc"]
            )
            #expect(first.status == 202)
            #expect(again.status == 202)
            #expect(first.field("id") == again.field("id"))
            let other = try await client.send(
                .post,
                "/v1/devices/d-phone/notifications",
                token: token,
                body: #"{"title":"Hello","body":"Else"}"#,
                headers: ["Idempotency-Key": "abc"]
            )
            #expect(other.status == 409)
            #expect(other.field("field") == "Idempotency-Key")
            let badKey = try await client.send(
                .post,
                "/v1/devices/d-phone/notifications",
                token: token,
                body: deviceSend,
                headers: ["Idempotency-Key": "has space"]
            )
            #expect(badKey.status == 400)
        }
        #expect(publisher.published.count == 1)
    }

    @Test func anUnconfirmedPublishIsA503AndARetryKeepsTheId() async throws {
        let publisher = RecordingPublisher()
        let harness = try await IngestHarness(publisher: publisher)
        let token = try await harness.token()
        try await harness.run { client in
            publisher.setFailing(true)
            let down = try await client.send(
                .post,
                "/v1/devices/d-phone/notifications",
                token: token,
                body: deviceSend,
                headers: ["Idempotency-Key": "k"]
            )
            #expect(down.status == 503)
            #expect(down.headers["Retry-After"] == "1")
            // No confirm came: the broker may have kept it, and the answer says so.
            #expect(down.field("type") == "urn:herald:problem:broker_unconfirmed")
            #expect(down.field("detail")?.contains("may still be delivered") == true)
            let status7 = try await client.send(.get, "/health/ready").status
            #expect(status7 == 503)
            // Never sent at all: nothing was accepted, and the answer says that instead.
            publisher.setFailing(true, with: .notConnected)
            let never = try await client.send(
                .post,
                "/v1/devices/d-phone/notifications",
                token: token,
                body: deviceSend,
                headers: ["Idempotency-Key": "k"]
            )
            #expect(never.status == 503)
            #expect(never.field("type") == "urn:herald:problem:broker_unavailable")
            #expect(never.field("detail")?.contains("nothing was accepted") == true)
            publisher.setFailing(false)
            let retried = try await client.send(
                .post,
                "/v1/devices/d-phone/notifications",
                token: token,
                body: deviceSend,
                headers: ["Idempotency-Key": "k"]
            )
            #expect(retried.status == 202)
            let request = try #require(publisher.published.first)
            #expect(retried.field("id") == request.id)
            let status8 = try await client.send(.get, "/health/ready").status
            #expect(status8 == 200)
        }
        #expect(publisher.published.count == 1)
    }

    @Test func operationsRoutesNeedNoToken() async throws {
        let harness = try await IngestHarness(publisher: RecordingPublisher())
        try await harness.run { client in
            let status9 = try await client.send(.get, "/health/live").status
            #expect(status9 == 200)
            let spec = try await client.send(.get, "/openapi.yaml")
            #expect(spec.status == 200)
            #expect(spec.text.hasPrefix("openapi: 3.1"))
            for path in [
                "/v1/notifications:", "/v1/devices/{deviceId}/notifications:", "/v1/notifications/{id}:",
                "/deviceManagement/sendCustomNotificationToCompanyPortal:",
                "/deviceManagement/managedDevices/{id}/sendCustomNotificationToCompanyPortal:",
            ] {
                #expect(spec.text.contains(path), "\(path)")
            }
            let status10 = try await client.send(.get, "/metrics").status
            #expect(status10 == 200)
        }
    }
}

extension RequestRuleTests {
    @Test func unknownRoutesAnswerInTheDocumentedShape() async throws {
        let harness = try await IngestHarness(publisher: RecordingPublisher())
        try await harness.run { client in
            let missing = try await client.send(.get, "/v1/nothing-here")
            #expect(missing.status == 404)
            #expect(missing.headers["Content-Type"] == "application/problem+json")
            #expect(missing.field("detail") == "no such route: GET /v1/nothing-here")
            let graph = try await client.send(.get, "/deviceManagement/unknown")
            #expect(graph.status == 404)
            #expect(graph.text.contains(#""code":"NotFound""#))
        }
    }
}
