import Foundation
import HTTPTypes
import HeraldCore
public import HeraldRuntime
public import Hummingbird
import HummingbirdAuth
public import IngestCore
import Logging
import NIOCore
public import Store

/// The admin console under `/console/`: server-rendered pages that work without JavaScript.
///
/// It signs administrators in with the same bearer tokens as the API, keeps a session in an
/// HttpOnly SameSite cookie, checks a CSRF token on every form, and sends through the API's own
/// `SendService`, so every rule, permission and confirm is the API's. The session, the sign-in
/// requirement, the view permission and the form checks are middleware on its route groups.
public struct ConsoleController: Sendable {
    let sender: SendService
    let authenticator: Authenticator
    let sessions: any ConsoleSessionStore
    let directory: any DirectoryStore
    let statuses: any StatusStore
    let throttleLog: any ThrottleLog
    let throttle: ThrottleSettings
    let settings: ConsoleSettings

    typealias Context = ConsoleRequestContext

    public init(
        sender: SendService,
        authenticator: Authenticator,
        sessions: any ConsoleSessionStore,
        directory: any DirectoryStore,
        statuses: any StatusStore,
        throttleLog: any ThrottleLog,
        throttle: ThrottleSettings,
        settings: ConsoleSettings
    ) {
        self.sender = sender
        self.authenticator = authenticator
        self.sessions = sessions
        self.directory = directory
        self.statuses = statuses
        self.throttleLog = throttleLog
        self.throttle = throttle
        self.settings = settings
    }

    /// Adds `/console` and everything under it.
    public func addRoutes(to router: Router<IngestRequestContext>) {
        router.get("/console") { _, _ in ConsoleVisit.redirect("/console/notifications") }
        let console = router.group("console", context: Context.self)
        console.get("static/{file}", use: staticFile)
        console.get("language", use: language)

        let visits = console.group().add(middleware: ConsoleVisitMiddleware(sessions: sessions, authenticator: authenticator))
        visits.get("sign-in", use: signInPage)
        visits.post("sign-in", use: signIn)

        let signedIn = visits.group().add(middleware: ConsoleSignInRequired())
        let pages = signedIn.group().add(middleware: ConsoleViewPermission())
        pages.get("send", use: groupSendStart)
        pages.get("devices", use: devicesPage)
        pages.get("devices/{id}", use: devicePage)
        pages.get("notifications", use: notificationsPage)
        pages.get("notifications/rows", use: notificationRows)
        pages.get("notifications/{id}", use: notificationPage)
        pages.get("notifications/{id}/status", use: notificationStatus)

        let forms = signedIn.group().add(middleware: ConsoleFormGuard())
        forms.post("sign-out", use: signOut)
        forms.post("send", use: groupSendStep)
        forms.post("devices/{id}", use: deviceSend)
    }

    // MARK: Sign-in and sign-out

    @Sendable func signInPage(_ request: Request, context: Context) -> Response {
        signInPage(context.visit)
    }

    private func signInPage(_ visit: ConsoleVisit, error: String? = nil, status: HTTPResponse.Status = .ok) -> Response {
        if visit.signedIn != nil, error == nil { return ConsoleVisit.redirect("/console/notifications") }
        let nonce = ConsoleSecurity.randomToken()
        var headers = HTTPFields()
        headers.append(HTTPField(name: .setCookie, value: cookie(ConsoleCookie.login, nonce, maxAge: 3600)))
        var data: [String: Any] = ["login": nonce]
        if let error { data["error"] = error }
        var unsigned = visit
        unsigned.signedIn = nil
        return unsigned.page("sign-in", title: visit.language["signin_title"], status: status, data: data, headers: headers)
    }

    @Sendable func signIn(_ request: Request, context: Context) async -> Response {
        let visit = context.visit
        let form: FormData
        switch await ConsoleSecurity.readForm(request) {
        case .success(let read): form = read
        case .failure(let refusal): return visit.problem(refusal.status, message: visit.language["error_badForm"])
        }
        // A login form must come from this console: its nonce cookie and hidden field agree.
        guard let nonce = request.cookies[ConsoleCookie.login]?.value else {
            return signInPage(visit, error: visit.language["signin_error_cookies"], status: .badRequest)
        }
        guard ConsoleSecurity.sameOrigin(request), ConsoleSecurity.constantTimeEqual(form["login"] ?? "", nonce) else {
            return signInPage(visit, error: visit.language["error_csrf"], status: .forbidden)
        }
        let token = (form["token"] ?? "").trimmingCharacters(in: .whitespacesAndNewlines)
        guard !token.isEmpty else { return signInPage(visit, error: visit.language["signin_error_empty"], status: .badRequest) }
        let verified: (caller: Caller, expiresAt: Date)
        do {
            verified = try await authenticator.verify(token: token)
        } catch {
            let key =
                switch error.code {
                case .storeUnavailable: "error_storeUnavailable"
                case .identityProviderUnavailable: "signin_error_identityProvider"
                default: "signin_error_invalid"
                }
            let message = visit.language[key]
            return signInPage(visit, error: message, status: error.status)
        }
        let secret = ConsoleSecurity.randomToken()
        let expiresAt = min(verified.expiresAt, Date().addingTimeInterval(Double(settings.sessionSeconds)))
        let session = ConsoleSession(
            tenantId: verified.caller.tenantId,
            principalId: verified.caller.principalId,
            csrf: ConsoleSecurity.randomToken(),
            expiresAt: expiresAt
        )
        do {
            try await sessions.create(session, idHash: ConsoleSecurity.hash(secret))
        } catch {
            return signInPage(visit, error: visit.language["error_storeUnavailable"], status: .serviceUnavailable)
        }
        var log = context.logger
        log[metadataKey: "tenant.id"] = "\(session.tenantId)"
        log.info("console sign-in", metadata: ["principal.id": "\(session.principalId)"])
        var headers = HTTPFields()
        let sessionAge = max(1, Int(expiresAt.timeIntervalSinceNow))
        headers.append(HTTPField(name: .setCookie, value: cookie(ConsoleCookie.session, secret, maxAge: sessionAge)))
        headers.append(HTTPField(name: .setCookie, value: cookie(ConsoleCookie.login, "", maxAge: 0)))
        let landing = verified.caller.permissions.contains(.organizationUpdate) ? "/console/send" : "/console/devices"
        return ConsoleVisit.redirect(landing, headers: headers)
    }

    @Sendable func signOut(_ request: Request, context: Context) async throws -> Response {
        let signedIn = try context.requireIdentity()
        try? await sessions.delete(idHash: signedIn.idHash)
        return ConsoleVisit.redirect("/console/sign-in", headers: [.setCookie: cookie(ConsoleCookie.session, "", maxAge: 0)])
    }

    /// The language switcher: remembers the choice in a cookie and goes back to the page.
    @Sendable func language(_ request: Request, context: Context) -> Response {
        let code = request.uri.queryParameters["lang"].map(String.init) ?? ""
        var back = request.uri.queryParameters["back"].map(String.init) ?? "/console/"
        // Only back into the console: never an open redirect.
        if !back.hasPrefix("/console") || back.contains("//") || back.contains("\\") { back = "/console/" }
        guard ConsoleLanguage.supported.contains(code) else { return ConsoleVisit.redirect(back) }
        let remembered = cookie(ConsoleCookie.language, code, maxAge: 365 * 24 * 3600, httpOnly: false)
        return ConsoleVisit.redirect(back, headers: [.setCookie: remembered])
    }

    @Sendable func staticFile(_ request: Request, context: Context) -> Response {
        let name = context.parameters.get("file") ?? ""
        guard let data = context.visit.resources.staticFiles[name] else { return Response(status: .notFound) }
        var headers = ConsoleVisit.securityHeaders
        headers[.contentType] = name.hasSuffix(".css") ? "text/css; charset=utf-8" : "text/javascript; charset=utf-8"
        headers[.cacheControl] = "public, max-age=300"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// A console cookie: only under `/console`, never sent by other sites' requests.
    private func cookie(_ name: String, _ value: String, maxAge: Int, httpOnly: Bool = true) -> String {
        Cookie(
            name: name,
            value: value,
            expires: Date().addingTimeInterval(Double(maxAge)),
            maxAge: maxAge,
            path: "/console",
            secure: settings.secureCookies,
            httpOnly: httpOnly,
            sameSite: .strict
        ).description
    }

    /// A 403 page naming the permission the administrator lacks.
    func forbidden(_ visit: ConsoleVisit, _ permission: Permission) -> Response {
        visit.problem(.forbidden, message: visit.language.format("error_forbidden", ["permission": permission.rawValue]))
    }
}
