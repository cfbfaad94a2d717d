import Crypto
import Directory
import Foundation
import HeraldCore
import HeraldRuntime
import Hummingbird
import HTTPTypes
import Logging
import NIOCore

/// The admin console under `/console/`: server-rendered pages that work without JavaScript.
///
/// It signs administrators in with the same bearer tokens as the API, keeps a session in an
/// HttpOnly SameSite cookie, checks a CSRF token on every form, and sends through the API's own
/// `SendService`, so every rule, permission and confirm is the API's.
struct ConsoleController: Sendable {
    let sender: SendService
    let authenticator: Authenticator
    let sessions: ConsoleSessionStore
    let directory: any DirectoryStore
    let statuses: any StatusStore
    let throttleLog: any ThrottleLog
    let throttle: ThrottleSettings
    let settings: ConsoleSettings
    let logger: Logger

    static let sessionCookie = "herald_session"
    static let loginCookie = "herald_login"
    static let languageCookie = "herald_lang"

    func addRoutes(to router: Router<BasicRequestContext>) {
        router.get("/console") { _, _ in ConsoleVisit.redirect("/console/notifications") }
        router.get("/console/static/{file}") { _, context in staticFile(context.parameters.get("file") ?? "") }
        router.get("/console/language") { request, _ in language(request) }
        router.get("/console/sign-in") { request, _ in await visit(request, signedIn: false) { visit in signInPage(visit) } }
        router.post("/console/sign-in") { request, _ in await visit(request, signedIn: false) { visit in await signIn(request, visit) } }
        router.post("/console/sign-out") { request, _ in await form(request) { visit, _, signedIn in await signOut(visit, signedIn) } }

        router.get("/console/send") { request, _ in
            await page(request) { visit, signedIn in await groupSendStart(visit, signedIn) }
        }
        router.post("/console/send") { request, _ in
            await form(request) { visit, form, signedIn in await groupSendStep(visit, form, signedIn, logger: requestLogger(request)) }
        }
        router.get("/console/devices") { request, _ in
            await page(request) { visit, signedIn in await devicesPage(visit, signedIn, request: request) }
        }
        router.get("/console/devices/{id}") { request, context in
            await page(request) { visit, signedIn in await devicePage(visit, signedIn, deviceId: context.parameters.get("id") ?? "") }
        }
        router.post("/console/devices/{id}") { request, context in
            await form(request) { visit, form, signedIn in
                await deviceSend(visit, form, signedIn, deviceId: context.parameters.get("id") ?? "", logger: requestLogger(request))
            }
        }
        router.get("/console/notifications") { request, _ in
            await page(request) { visit, signedIn in await notificationsPage(visit, signedIn, fragment: false) }
        }
        router.get("/console/notifications/rows") { request, _ in
            await page(request) { visit, signedIn in await notificationsPage(visit, signedIn, fragment: true) }
        }
        router.get("/console/notifications/{id}") { request, context in
            await page(request) { visit, signedIn in
                await notificationPage(visit, signedIn, id: context.parameters.get("id") ?? "",
                                       created: request.uri.queryParameters["created"] != nil, fragment: false)
            }
        }
        router.get("/console/notifications/{id}/status") { request, context in
            await page(request) { visit, signedIn in
                await notificationPage(visit, signedIn, id: context.parameters.get("id") ?? "", created: false, fragment: true)
            }
        }
    }

    // MARK: The frame of every request

    /// Runs `body` with the request's language and session; a page that needs a session sends
    /// visitors without one to the sign-in page.
    private func visit(_ request: Request, signedIn required: Bool, _ body: (ConsoleVisit) async -> Response) async -> Response {
        let resources: ConsoleResources
        switch ConsoleResources.bundled {
        case .success(let loaded): resources = loaded
        case .failure(let error):
            logger.error("console resources unusable", metadata: ["error": "\(error)"])
            return Response(status: .serviceUnavailable, headers: [.contentType: "text/plain; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(string: "The console is unavailable: its templates could not be read.\n")))
        }
        let cookies = request.cookies
        let code = ConsoleLanguage.negotiate(cookie: cookies[Self.languageCookie]?.value, acceptLanguage: request.headers[.acceptLanguage])
        let path = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
        var visit = ConsoleVisit(resources: resources, language: resources.language(code), path: path)
        if let secret = cookies[Self.sessionCookie]?.value {
            let idHash = Self.hash(secret)
            do {
                if let session = try await sessions.session(idHash: idHash) {
                    let caller = try await authenticator.caller(tenantId: session.tenantId, principalId: session.principalId)
                    visit.signedIn = .init(session: session, caller: caller, idHash: idHash)
                }
            } catch let error as APIError where error.code == "store_unavailable" {
                return visit.problem(.serviceUnavailable, message: visit.language["error_storeUnavailable"])
            } catch {
                // The principal is gone from the directory: the session is worth nothing.
            }
        }
        if required, visit.signedIn == nil { return ConsoleVisit.redirect("/console/sign-in") }
        return await body(visit)
    }

    /// A page for signed-in administrators who may see the tenant's devices and notifications.
    private func page(_ request: Request, _ body: (ConsoleVisit, ConsoleVisit.SignedIn) async -> Response) async -> Response {
        await visit(request, signedIn: true) { visit in
            guard let signedIn = visit.signedIn else { return ConsoleVisit.redirect("/console/sign-in") }
            guard signedIn.canView else {
                return visit.problem(.forbidden, message: visit.language.format("error_forbidden", [
                    "permission": "\(Permission.organizationUpdate.rawValue) / \(Permission.sendCustomNotifications.rawValue)",
                ]))
            }
            return await body(visit, signedIn)
        }
    }

    /// A posted form of a signed-in administrator, after its CSRF token and origin are checked.
    private func form(_ request: Request, _ body: (ConsoleVisit, FormData, ConsoleVisit.SignedIn) async -> Response) async -> Response {
        await visit(request, signedIn: true) { visit in
            guard let signedIn = visit.signedIn else { return ConsoleVisit.redirect("/console/sign-in") }
            let form: FormData
            switch await Self.readForm(request) {
            case .success(let read): form = read
            case .failure(let refusal): return visit.problem(refusal.status, message: visit.language["error_badForm"])
            }
            guard Self.sameOrigin(request), Self.constantTimeEqual(form["csrf"] ?? "", signedIn.session.csrf) else {
                return visit.problem(.forbidden, message: visit.language["error_csrf"])
            }
            return await body(visit, form, signedIn)
        }
    }

    private func requestLogger(_ request: Request) -> Logger {
        var log = logger
        log[metadataKey: "request.id"] = "\(HTTPExchange.requestId(request))"
        return log
    }

    // MARK: Sign-in and sign-out

    private func signInPage(_ visit: ConsoleVisit, error: String? = nil, status: HTTPResponse.Status = .ok) -> Response {
        if visit.signedIn != nil, error == nil { return ConsoleVisit.redirect("/console/notifications") }
        let nonce = Self.randomToken()
        var headers = HTTPFields()
        headers.append(HTTPField(name: .setCookie, value: cookie(Self.loginCookie, nonce, maxAge: 3600)))
        var data: [String: Any] = ["login": nonce]
        if let error { data["error"] = error }
        var unsigned = visit
        unsigned.signedIn = nil
        return unsigned.page("sign-in", title: visit.language["signin_title"], status: status, data: data, headers: headers)
    }

    private func signIn(_ request: Request, _ visit: ConsoleVisit) async -> Response {
        let form: FormData
        switch await Self.readForm(request) {
        case .success(let read): form = read
        case .failure(let refusal): return visit.problem(refusal.status, message: visit.language["error_badForm"])
        }
        // A login form must come from this console: its nonce cookie and hidden field agree.
        guard let nonce = request.cookies[Self.loginCookie]?.value else {
            return signInPage(visit, error: visit.language["signin_error_cookies"], status: .badRequest)
        }
        guard Self.sameOrigin(request), Self.constantTimeEqual(form["login"] ?? "", nonce) else {
            return signInPage(visit, error: visit.language["error_csrf"], status: .forbidden)
        }
        let token = (form["token"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else { return signInPage(visit, error: visit.language["signin_error_empty"], status: .badRequest) }
        let verified: (caller: Caller, expiresAt: Date)
        do {
            verified = try await authenticator.verify(token: token)
        } catch {
            let message = error.code == "store_unavailable" ? visit.language["error_storeUnavailable"] : visit.language["signin_error_invalid"]
            return signInPage(visit, error: message, status: error.status)
        }
        let secret = Self.randomToken()
        let expiresAt = min(verified.expiresAt, Date().addingTimeInterval(Double(settings.sessionSeconds)))
        let session = ConsoleSession(tenantId: verified.caller.tenantId, principalId: verified.caller.principalId,
                                     csrf: Self.randomToken(), expiresAt: expiresAt)
        do {
            try await sessions.create(session, idHash: Self.hash(secret))
        } catch {
            return signInPage(visit, error: visit.language["error_storeUnavailable"], status: .serviceUnavailable)
        }
        var log = requestLogger(request)
        log[metadataKey: "tenant.id"] = "\(session.tenantId)"
        log.info("console sign-in", metadata: ["principal.id": "\(session.principalId)"])
        var headers = HTTPFields()
        headers.append(HTTPField(name: .setCookie, value: cookie(Self.sessionCookie, secret, maxAge: max(1, Int(expiresAt.timeIntervalSinceNow)))))
        headers.append(HTTPField(name: .setCookie, value: cookie(Self.loginCookie, "", maxAge: 0)))
        let landing = verified.caller.permissions.contains(.organizationUpdate) ? "/console/send" : "/console/devices"
        return ConsoleVisit.redirect(landing, headers: headers)
    }

    private func signOut(_ visit: ConsoleVisit, _ signedIn: ConsoleVisit.SignedIn) async -> Response {
        try? await sessions.delete(idHash: signedIn.idHash)
        return ConsoleVisit.redirect("/console/sign-in", headers: [.setCookie: cookie(Self.sessionCookie, "", maxAge: 0)])
    }

    /// The language switcher: remembers the choice in a cookie and goes back to the page.
    private func language(_ request: Request) -> Response {
        let code = request.uri.queryParameters["lang"].map(String.init) ?? ""
        var back = request.uri.queryParameters["back"].map(String.init) ?? "/console/"
        // Only back into the console: never an open redirect.
        if !back.hasPrefix("/console") || back.contains("//") || back.contains("\\") { back = "/console/" }
        guard ConsoleLanguage.supported.contains(code) else { return ConsoleVisit.redirect(back) }
        return ConsoleVisit.redirect(back, headers: [.setCookie: cookie(Self.languageCookie, code, maxAge: 365 * 24 * 3600, httpOnly: false)])
    }

    private func staticFile(_ name: String) -> Response {
        guard case .success(let resources) = ConsoleResources.bundled, let data = resources.staticFiles[name] else {
            return Response(status: .notFound)
        }
        var headers = ConsoleVisit.securityHeaders
        headers[.contentType] = name.hasSuffix(".css") ? "text/css; charset=utf-8" : "text/javascript; charset=utf-8"
        headers[.cacheControl] = "public, max-age=300"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    // MARK: Cookies, CSRF and forms

    /// A console cookie: only under `/console`, never sent by other sites' requests.
    private func cookie(_ name: String, _ value: String, maxAge: Int, httpOnly: Bool = true) -> String {
        Cookie(name: name, value: value, expires: Date().addingTimeInterval(Double(maxAge)), maxAge: maxAge, path: "/console",
               secure: settings.secureCookies, httpOnly: httpOnly, sameSite: .strict).description
    }

    /// A form body, at most `Limits.httpBodyMaxBytes`.
    /// Why a body is not a usable form: the status to answer with.
    struct FormRefusal: Error { var status: HTTPResponse.Status }

    static func readForm(_ request: Request) async -> Result<FormData, FormRefusal> {
        let type = request.headers[.contentType]?.lowercased() ?? ""
        guard type.hasPrefix("application/x-www-form-urlencoded") else { return .failure(FormRefusal(status: .unsupportedMediaType)) }
        var request = request
        guard let buffer = try? await request.collectBody(upTo: Limits.httpBodyMaxBytes) else { return .failure(FormRefusal(status: .contentTooLarge)) }
        guard let text = String(validating: buffer.readableBytesView, as: UTF8.self), let form = try? FormData(parsing: text) else {
            return .failure(FormRefusal(status: .badRequest))
        }
        return .success(form)
    }

    /// False when the browser says the form came from another origin (`Origin` or `Sec-Fetch-Site`).
    static func sameOrigin(_ request: Request) -> Bool {
        if let site = request.headers[HTTPField.Name("Sec-Fetch-Site")!], !["same-origin", "none"].contains(site) { return false }
        guard let origin = request.headers[HTTPField.Name("Origin")!], origin != "null" else { return true }
        guard let host = request.head.authority else { return false }
        return origin == "http://\(host)" || origin == "https://\(host)"
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count, !x.isEmpty else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func hash(_ secret: String) -> String { Hex.string(SHA256.hash(data: Array(secret.utf8))) }
}
