import Foundation
import HeraldCore
import HeraldRuntime
import IngestApp
import SQLiteStore
import Store
import TestSupport
import Testing

@testable import Console

/// A browser as far as the console is concerned: it keeps cookies and posts forms.
struct ConsoleBrowser {
    let client: IngestHarness.Client
    var cookies: [String: String] = [:]
    var acceptLanguage: String?

    init(_ client: IngestHarness.Client, acceptLanguage: String? = nil) {
        self.client = client
        self.acceptLanguage = acceptLanguage
    }

    mutating func get(_ path: String) async throws -> HTTPAnswer {
        remember(try await client.send(.get, path, body: nil, headers: headers()))
    }

    mutating func post(_ path: String, _ fields: [(String, String)], headers extra: [String: String] = [:]) async throws -> HTTPAnswer {
        let body = fields.map { "\(Self.encode($0.0))=\(Self.encode($0.1))" }.joined(separator: "&")
        return remember(
            try await client.send(
                .post,
                path,
                body: body,
                contentType: "application/x-www-form-urlencoded",
                headers: headers().merging(extra) { $1 }
            )
        )
    }

    /// Signs in with `token` through the sign-in form.
    mutating func signIn(_ token: String) async throws -> HTTPAnswer {
        let page = try await get("/console/sign-in")
        return try await post("/console/sign-in", [("login", Self.hidden("login", in: page.text) ?? ""), ("token", token)])
    }

    /// The value of the hidden field `name` in a page.
    static func hidden(_ name: String, in html: String) -> String? {
        guard let range = html.range(of: #"name="\#(name)" value=""#) else { return nil }
        return String(html[range.upperBound...].prefix { $0 != "\"" })
    }

    private func headers() -> [String: String] {
        var headers: [String: String] = [:]
        if !cookies.isEmpty { headers["Cookie"] = cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ") }
        if let acceptLanguage { headers["Accept-Language"] = acceptLanguage }
        return headers
    }

    private mutating func remember(_ answer: HTTPAnswer) -> HTTPAnswer {
        for cookie in answer.setCookies {
            let pair = cookie.split(separator: ";")[0].split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let value = pair.count > 1 ? String(pair[1]) : ""
            if cookie.contains("Max-Age=0") || value.isEmpty { cookies[String(pair[0])] = nil } else { cookies[String(pair[0])] = value }
        }
        return answer
    }

    private static func encode(_ text: String) -> String {
        text.addingPercentEncoding(
            withAllowedCharacters: CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
        ) ?? ""
    }
}

// MARK: Tests

@Suite struct ConsoleTests {
    let publisher = RecordingPublisher()

    func harness(throttle: ThrottleSettings = ThrottleSettings()) async throws -> IngestHarness {
        try await IngestHarness(publisher: publisher, throttle: throttle)
    }

    /// Runs `body` with a browser signed in as `principal` of `tenant`, over a fresh harness.
    func signedIn(
        _ tenant: String = "a",
        _ principal: String = "p-admin",
        throttle: ThrottleSettings = ThrottleSettings(),
        _ body: @escaping @Sendable (inout ConsoleBrowser, IngestHarness) async throws -> Void
    ) async throws {
        let harness = try await harness(throttle: throttle)
        let token = try await harness.token(tenant, principal)
        try await harness.run { client in
            var browser = ConsoleBrowser(client)
            _ = try await browser.signIn(token)
            try await body(&browser, harness)
        }
    }

    @Test func signingInGivesAnHttpOnlySameSiteSessionCookieThatExpires() async throws {
        let harness = try await harness()
        let token = try await harness.token("a", "p-admin", ttl: 600)
        try await harness.run { client in
            var browser = ConsoleBrowser(client)
            let answer = try await browser.signIn(token)
            #expect(answer.status == 303)
            let session = try #require(answer.setCookies.first { $0.hasPrefix("herald_session=") })
            for attribute in ["HttpOnly", "SameSite=Strict", "Path=/console", "Expires=", "Max-Age="] {
                #expect(session.contains(attribute), "session cookie has \(attribute)")
            }
            // Never longer than the token it was opened with.
            let maxAge = Int(session.components(separatedBy: "Max-Age=")[1].prefix { $0.isNumber }) ?? 0
            #expect(maxAge > 0)
            #expect(maxAge <= 600)
            #expect(try await browser.get("/console/notifications").status == 200)
        }
    }

    @Test func aBadTokenIsRefusedAndNeverEchoed() async throws {
        let harness = try await harness()
        try await harness.run { client in
            var browser = ConsoleBrowser(client)
            let answer = try await browser.signIn("not-a-token-but-a-secret-guess")
            #expect(answer.status == 401)
            #expect(answer.text.contains("This token is not valid"))
            #expect(!answer.text.contains("secret-guess"))
            #expect(browser.cookies["herald_session"] == nil)
            let page = try await browser.get("/console/send")
            #expect(page.status == 303)
            #expect(page.headers["location"] == "/console/sign-in")
        }
    }

    @Test func signInNeedsTheFormsOwnNonce() async throws {
        let harness = try await harness()
        let token = try await harness.token()
        try await harness.run { client in
            var browser = ConsoleBrowser(client)
            _ = try await browser.get("/console/sign-in")
            // A login posted from elsewhere does not know the nonce in the cookie.
            let forged = try await browser.post("/console/sign-in", [("login", "guessed"), ("token", token)])
            #expect(forged.status == 403)
            #expect(browser.cookies["herald_session"] == nil)
        }
    }

    @Test func sendingToTwoGroupsGoesThroughBasicsAssignmentsAndReview() async throws {
        try await signedIn { browser, _ in
            let basics = try await browser.get("/console/send")
            #expect(basics.text.contains("Basics"))
            #expect(basics.text.contains("other apps may be able to read"))
            let csrf = try #require(ConsoleBrowser.hidden("csrf", in: basics.text))
            let text = [("title", "Fire drill 🇸🇪"), ("body", "Leave by the east stairs.")]

            let assignments = try await browser.post("/console/send", [("csrf", csrf), ("step", "basics"), ("action", "next")] + text)
            #expect(assignments.status == 200)
            #expect(assignments.text.contains(#"value="g-top""#))
            #expect(assignments.text.contains(#"value="g-mid""#))
            #expect(!assignments.text.contains("Only in B"), "another tenant's groups are never listed")
            #expect(assignments.text.contains("nested groups: 1"))

            let picked = [("group", "g-top"), ("group", "g-devices-only")]
            let review = try await browser.post(
                "/console/send",
                [("csrf", csrf), ("step", "assignments"), ("action", "next")] + text + picked
            )
            #expect(review.text.contains("Review + create"))
            #expect(review.text.contains("Fire drill 🇸🇪"))
            #expect(review.text.contains("Devices only"))
            let submission = try #require(ConsoleBrowser.hidden("submission", in: review.text))
            #expect(publisher.published.isEmpty, "nothing is sent before Create")

            let create = [("csrf", csrf), ("step", "review"), ("action", "create"), ("submission", submission)] + text + picked
            let created = try await browser.post("/console/send", create)
            #expect(created.status == 303)
            let location = try #require(created.headers["location"])
            let again = try await browser.post("/console/send", create)
            #expect(again.headers["location"] == location, "a second click on Create makes no second notification")

            #expect(publisher.published.count == 1)
            let request = try #require(publisher.published.first)
            #expect(request.target == .groups(["g-top", "g-devices-only"]))
            #expect(request.tenantId == "a")
            #expect(request.title == "Fire drill 🇸🇪")
            let confirmation = try await browser.get(location)
            #expect(confirmation.text.contains("Notification created"))
            #expect(confirmation.text.contains(request.id))
            // The audit trail: who sent it, through the console, to which groups — shown in the history.
            #expect(request.route == .console && request.principalId == "p-admin")
            #expect(confirmation.text.contains("Sent by"))
            #expect(confirmation.text.contains("<code>p-admin</code> · Console"))
            let history = try await browser.get("/console/notifications/rows")
            #expect(history.text.contains("g-top, g-devices-only"))
            #expect(history.text.contains(#"<code>p-admin</code><br><span class="meta">Console</span>"#))
        }
    }

    @Test func errorsAppearNextToTheFieldAndTheFormKeepsWhatWasTyped() async throws {
        try await signedIn { browser, _ in
            let csrf = try #require(ConsoleBrowser.hidden("csrf", in: try await browser.get("/console/send").text))
            let title = String(repeating: "é", count: 51)
            let answer = try await browser.post(
                "/console/send",
                [("csrf", csrf), ("step", "basics"), ("title", title), ("body", "kept\n  body")]
            )
            #expect(answer.status == 422)
            #expect(answer.text.contains(#"id="title-error">The title can have at most 50 characters; it has 51."#))
            #expect(answer.text.contains(#"aria-invalid="true""#))
            #expect(answer.text.contains(#"value="\#(title)""#))
            // Exactly as typed: the textarea's first newline is the one HTML drops, nothing is indented.
            #expect(answer.text.contains(">\nkept\n  body</textarea>"))

            let none = try await browser.post(
                "/console/send",
                [
                    ("csrf", csrf), ("step", "assignments"), ("action", "next"),
                    ("title", "t"), ("body", "b"),
                ]
            )
            #expect(none.text.contains("Choose at least one group."))
            let tooMany = (0..<26).map { ("group", "g\($0)") }
            let many = try await browser.post(
                "/console/send",
                [
                    ("csrf", csrf), ("step", "assignments"), ("action", "next"),
                    ("title", "t"), ("body", "b"),
                ] + tooMany
            )
            #expect(many.text.contains("Choose at most 25 groups; 26 are chosen."))
            #expect(publisher.published.isEmpty)
        }
    }

    @Test func everyFormNeedsItsCSRFTokenAndThisOrigin() async throws {
        try await signedIn { browser, _ in
            let csrf = try #require(ConsoleBrowser.hidden("csrf", in: try await browser.get("/console/devices/d-phone").text))
            let fields = [("title", "t"), ("body", "b"), ("submission", "abcdefghijklmnop")]
            let missing = try await browser.post("/console/devices/d-phone", fields)
            #expect(missing.status == 403)
            #expect(missing.text.contains("expired or was sent from another site"))
            let wrong = try await browser.post("/console/devices/d-phone", [("csrf", "x" + csrf)] + fields)
            #expect(wrong.status == 403)
            let elsewhere = try await browser.post(
                "/console/devices/d-phone",
                [("csrf", csrf)] + fields,
                headers: ["Origin": "https://evil.example"]
            )
            #expect(elsewhere.status == 403)
            #expect(publisher.published.isEmpty)
            let good = try await browser.post("/console/devices/d-phone", [("csrf", csrf)] + fields)
            #expect(good.status == 303)
            #expect(publisher.published.map(\.target) == [.device("d-phone")])
        }
    }

    @Test func aPrincipalWithoutOrganizationUpdateDoesNotSeeTheGroupFlowAndIsRefused() async throws {
        let harness = try await harness()
        let token = try await harness.token("a", "p-helpdesk-only")
        try await harness.run { client in
            var browser = ConsoleBrowser(client)
            let signedIn = try await browser.signIn(token)
            #expect(signedIn.headers["location"] == "/console/devices")
            let devices = try await browser.get("/console/devices")
            #expect(!devices.text.contains("/console/send"), "no link to the group flow")
            #expect(try await browser.get("/console/send").status == 403)
            let csrf = try #require(ConsoleBrowser.hidden("csrf", in: devices.text))
            let posted = try await browser.post(
                "/console/send",
                [
                    ("csrf", csrf), ("step", "review"), ("action", "create"), ("title", "t"),
                    ("body", "b"), ("group", "g-top"), ("submission", "abcdefghijklmnop"),
                ]
            )
            #expect(posted.status == 403)
            #expect(posted.text.contains("Organization.Update"))
            #expect(publisher.published.isEmpty)
        }
    }

    @Test func oneTenantNeverSeesAnothersDevicesGroupsOrNotifications() async throws {
        let harness = try await harness()
        let tokenA = try await harness.token("a", "p-admin")
        let tokenB = try await harness.token("b", "p-admin")
        try await harness.run { client in
            var b = ConsoleBrowser(client)
            _ = try await b.signIn(tokenB)
            let csrfB = try #require(ConsoleBrowser.hidden("csrf", in: try await b.get("/console/devices/d-ios-only-in-b").text))
            let sent = try await b.post("/console/devices/d-ios-only-in-b", [("csrf", csrfB), ("title", "t"), ("body", "b")])
            let idB = try #require(sent.headers["location"]?.split(separator: "/").last?.split(separator: "?").first.map(String.init))

            var a = ConsoleBrowser(client)
            _ = try await a.signIn(tokenA)
            let devices = try await a.get("/console/devices")
            #expect(!devices.text.contains("d-ios-only-in-b"))
            #expect(!devices.text.contains("B-One"))
            #expect(try await a.get("/console/devices/d-ios-only-in-b").status == 404)
            #expect(try await a.get("/console/notifications/\(idB)").status == 404)
            #expect(!(try await a.get("/console/notifications").text.contains(idB)))
            let csrfA = try #require(ConsoleBrowser.hidden("csrf", in: devices.text))
            let foreign = try await a.post(
                "/console/send",
                [
                    ("csrf", csrfA), ("step", "assignments"), ("action", "next"),
                    ("title", "t"), ("body", "b"), ("group", "g-only-in-b"),
                ]
            )
            #expect(foreign.text.contains("These groups no longer exist: g-only-in-b."))
            #expect(publisher.published.count == 1)
        }
    }

    @Test func devicesShowWhyTheyCannotReceiveAndFilter() async throws {
        try await signedIn { browser, _ in
            let all = try await browser.get("/console/devices")
            #expect(all.text.contains("Custom notifications cannot be sent to macOS devices"))
            #expect(all.text.contains("Custom notifications cannot be sent to Windows devices"))
            #expect(all.text.contains("The device is not enrolled in management."))
            let mac = try await browser.get("/console/devices/d-macos")
            #expect(!mac.text.contains(#"name="title""#), "no send form for a macOS device")
            let android = try await browser.get("/console/devices?platform=android")
            #expect(android.text.contains("d-android-gms"))
            #expect(!android.text.contains(">d-phone<"))
            let ineligible = try await browser.get("/console/devices?eligibility=ineligible")
            #expect(ineligible.text.contains("d-ios-unenrolled"))
            #expect(!ineligible.text.contains(">d-phone<"))
            let byUser = try await browser.get("/console/devices?user=three")
            #expect(byUser.text.contains("d-windows"))
            #expect(!byUser.text.contains(">d-android-gms<"))
            // Posted anyway (a stale page): refused, and the page says why although it has no form.
            let csrf = try #require(ConsoleBrowser.hidden("csrf", in: all.text))
            let stale = try await browser.post("/console/devices/d-ios-unenrolled", [("csrf", csrf), ("title", "t"), ("body", "b")])
            #expect(stale.status == 422)
            #expect(stale.text.contains(#"role="alert""#))
            #expect(stale.text.contains("not enrolled in management"))
            #expect(publisher.published.isEmpty)
        }
    }

    @Test func historyShowsStatusEnvelopesSkippedDevicesAndGroupSendsLeft() async throws {
        try await signedIn { browser, harness in
            let statuses = harness.stores.statuses
            try await statuses.save(
                NotificationStatus(
                    id: "n-1",
                    tenantId: "a",
                    kind: .group,
                    status: .dispatched,
                    acceptedAt: Date(),
                    dispatchedAt: Date(),
                    envelopes: ["ios": 3, "android": 2],
                    skipped: ["notEnrolled": 1]
                )
            )
            // The gateway sent 3 of the 5 and one token was gone.
            try await harness.stores.pushLedger.addDelivery(["n-1": DeliveryTally(sent: 3, failed: ["Unregistered": 1])])
            let log = harness.stores.throttle
            for i in 0..<7 {
                _ = try await log.admit(
                    scope: ThrottleScope.groupSends(tenantId: "a"),
                    notificationId: "g\(i)",
                    rule: ThrottleSettings().groupRule,
                    now: Date()
                )
            }
            let rows = try await browser.get("/console/notifications/rows")
            #expect(rows.text.contains("n-1"))
            #expect(rows.text.contains("Queued for push"))
            #expect(!rows.text.contains("Delivered"), "only the push service's acceptance is called sent, nothing delivered")
            #expect(rows.text.contains("1 × The device is not enrolled"))
            #expect(rows.text.contains(#"<td class="number">3</td><td class="number">2</td><td class="number">3</td>"#))
            let page = try await browser.get("/console/notifications/n-1")
            #expect(page.text.contains("Sent to 3 devices"))
            #expect(page.text.contains("1 × Unregistered"))
            #expect(page.text.contains("1 waiting to be sent"))
            #expect(page.text.contains(#"data-final="false""#), "the page keeps refreshing while pushes wait")
            try await harness.stores.pushLedger.addDelivery(["n-1": DeliveryTally(sent: 1)])
            let done = try await browser.get("/console/notifications/n-1/status")
            #expect(done.text.contains("Sent to 4 devices"))
            #expect(done.text.contains(#"data-final="true""#), "and stops once the gateway finished every push")
            #expect(rows.text.contains("18 of 25 group sends left this hour"))
            #expect(!rows.text.contains("<html"), "the refresh fragment has no page frame")
            #expect(try await browser.get("/console/notifications").text.contains(#"data-refresh="/console/notifications/rows""#))
        }
    }

    @Test func aFullWindowUnderTheRejectPolicyIsRefusedAtTheTopOfTheForm() async throws {
        try await signedIn(throttle: ThrottleSettings(deviceSendsPerWindow: 1, policy: .reject)) { browser, harness in
            let csrf = try #require(ConsoleBrowser.hidden("csrf", in: try await browser.get("/console/devices/d-phone").text))
            _ = try await SQLiteThrottleLog(database: harness.database).admit(
                scope: ThrottleScope.deviceSends(tenantId: "a", deviceId: "d-phone"),
                notificationId: "earlier",
                rule: ThrottleSettings(deviceSendsPerWindow: 1).deviceRule,
                now: Date()
            )
            let refused = try await browser.post("/console/devices/d-phone", [("csrf", csrf), ("title", "kept title"), ("body", "b")])
            #expect(refused.status == 429)
            #expect(refused.text.contains("This device has received 1 sends in the past hour"))
            #expect(refused.text.contains(#"value="kept title""#))
            #expect(publisher.published.isEmpty)
        }
    }

    @Test func hostileFormsGetAClear4xxNeverACrash() async throws {
        try await signedIn { browser, _ in
            let cookie = browser.cookies.map { "\($0.key)=\($0.value)" }.joined(separator: "; ")
            let cases: [(body: [UInt8], type: String?, status: Int)] = [
                (Array("csrf=%zz&title=x".utf8), "application/x-www-form-urlencoded", 400),
                ([0x74, 0x3D, 0xFF, 0xFE], "application/x-www-form-urlencoded", 400),
                (Array(repeating: 0x61, count: 70_000), "application/x-www-form-urlencoded", 413),
                (Array(#"{"title":"t"}"#.utf8), "application/json", 415),
                (Array("step=basics".utf8), nil, 415),
            ]
            for hostile in cases {
                let answer = try await browser.client.send(
                    .post,
                    "/console/send",
                    bytes: hostile.body,
                    contentType: hostile.type,
                    headers: ["Cookie": cookie]
                )
                #expect(answer.status == hostile.status, "\(hostile.type ?? "no type"), \(hostile.body.count) bytes")
            }
            let unknownStep = try await browser.post(
                "/console/send",
                [
                    ("csrf", ConsoleBrowser.hidden("csrf", in: try await browser.get("/console/send").text) ?? ""), ("step", "nonsense"),
                ]
            )
            #expect(unknownStep.status == 200)
            #expect(unknownStep.text.contains("Basics"))
            #expect(try await browser.get("/console/static/..%2F..%2Fopenapi.yaml").status == 404)
            #expect(publisher.published.isEmpty)
        }
    }

    @Test func signingOutEndsTheSessionOnTheServer() async throws {
        try await signedIn { browser, _ in
            let stolen = browser.cookies
            let csrf = try #require(ConsoleBrowser.hidden("csrf", in: try await browser.get("/console/notifications").text))
            let out = try await browser.post("/console/sign-out", [("csrf", csrf)])
            #expect(out.status == 303)
            #expect(out.headers["location"] == "/console/sign-in")
            var replay = ConsoleBrowser(browser.client)
            replay.cookies = stolen
            #expect(try await replay.get("/console/notifications").status == 303, "the old cookie no longer opens a session")
        }
    }

    @Test func theLanguageFollowsAcceptLanguageAndTheSwitcher() async throws {
        let harness = try await harness()
        try await harness.run { client in
            var dutch = ConsoleBrowser(client, acceptLanguage: "nl-BE,nl;q=0.9,en;q=0.5")
            let page = try await dutch.get("/console/sign-in")
            #expect(page.text.contains(#"<html lang="nl">"#))
            #expect(page.text.contains("Aanmelden"))
            let switched = try await dutch.get("/console/language?lang=ro&back=%2Fconsole%2Fsign-in")
            #expect(switched.headers["location"] == "/console/sign-in")
            #expect(try await dutch.get("/console/sign-in").text.contains("Conectare"))
            let away = try await dutch.get("/console/language?lang=fr&back=https%3A%2F%2Fevil.example")
            #expect(away.headers["location"] == "/console/", "never a redirect out of the console")
        }
    }

    @Test(arguments: [
        ("en-US", "Sign in"), ("sv", "Logga in"), ("fr-CA,fr;q=0.8", "Se connecter"), ("ro", "Conectare"),
        ("de, nl;q=0.4", "Aanmelden"), ("de", "Sign in"),
    ])
    func acceptLanguagePicksOneOfTheFive(_ header: String, _ expected: String) throws {
        let resources = try ConsoleResources.bundled.get()
        #expect(resources.language(ConsoleLanguage.negotiate(cookie: nil, acceptLanguage: header))["signin_title"] == expected)
    }

    /// One table per language, each with every string English has and the same placeholders,
    /// and every key a template or a status names.
    @Test func everyLanguageHasEveryStringTheConsoleUses() throws {
        let resources = try ConsoleResources.bundled.get()
        let english = resources.language("en").strings
        let templates = repositoryRoot.appendingPathComponent("Services/Ingest/Console/Resources/console/templates")
        var used: Set<String> = [
            "language_name", "error_title_empty", "error_body_empty", "error_title_tooLong", "error_body_tooLong",
            "notice_throttle_groups", "notice_throttle_device", "devices_count", "devices_countTruncated",
        ]
        used.formUnion(SkipReason.allCases.map { "skip_\($0.rawValue)" })
        used.formUnion(DeliveryState.allCases.map { "status_\($0.rawValue)" })
        used.formUnion(["kind_group", "kind_device"])
        for name in try FileManager.default.contentsOfDirectory(atPath: templates.path) {
            let text = try String(contentsOf: templates.appendingPathComponent(name), encoding: .utf8)
            for match in text.matches(of: /\{\{[#^\/]?t\.([A-Za-z_]+)\}\}/) { used.insert(String(match.1)) }
        }
        #expect(used.subtracting(english.keys).isEmpty, "keys missing from en.json: \(used.subtracting(english.keys).sorted())")
        func placeholders(_ text: String) -> Set<String> { Set(text.matches(of: /\{[a-z]+\}/).map { String($0.0) }) }
        for code in ConsoleLanguage.supported {
            let table = resources.language(code).strings
            #expect(Set(table.keys) == Set(english.keys), "\(code) has the same keys as en")
            for (key, text) in english {
                #expect(placeholders(table[key] ?? "") == placeholders(text), "\(code).\(key) keeps its placeholders")
                #expect(!(table[key] ?? "").isEmpty)
            }
        }
    }
}
