import Foundation
import HTTPTypes
import HeraldCore
import Hummingbird
import IngestCore
import Mustache
import NIOCore
import Store

/// One request to the console: its language, and who is signed in.
struct ConsoleVisit {
    /// A signed-in administrator: the session and what the principal may do now.
    struct SignedIn {
        var session: ConsoleSession
        var caller: Caller
        var idHash: String

        var canSendToGroups: Bool { caller.permissions.contains(.organizationUpdate) }
        var canSendToDevices: Bool { caller.permissions.contains(.sendCustomNotifications) }
        var canView: Bool { canSendToGroups || canSendToDevices }
    }

    let resources: ConsoleResources
    let language: ConsoleLanguage
    /// The page's path and query, for the language switcher to come back to.
    let path: String
    var signedIn: SignedIn?

    /// Which section the navigation marks as current.
    enum Section: String { case send, devices, notifications, none }

    /// A whole page from `template`, with the frame every page shares.
    func page(
        _ template: String,
        title: String,
        section: Section = .none,
        status: HTTPResponse.Status = .ok,
        data: [String: Any] = [:],
        headers extra: HTTPFields = [:]
    ) -> Response {
        var context = data
        context["t"] = language.strings
        context["lang"] = language.code
        context["pageTitle"] = title
        context["languages"] = ConsoleLanguage.supported.map { code -> [String: Any] in
            let target = "/console/language?lang=\(code)&back=" + (path.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
            return ["code": code, "name": resources.language(code).name, "href": target, "current": code == language.code]
        }
        if let signedIn {
            context["signedIn"] = true
            context["principal"] = signedIn.caller.principalId
            context["tenant"] = signedIn.caller.tenantId
            context["csrf"] = signedIn.session.csrf
            context["navSend"] = signedIn.canSendToGroups
            context["navView"] = signedIn.canView
        }
        context["current_\(section.rawValue)"] = true
        return html(resources.templates.render(context, withTemplate: template) ?? "", status: status, headers: extra)
    }

    /// A fragment (no frame) the page's script swaps in.
    func fragment(_ template: String, data: [String: Any]) -> Response {
        var context = data
        context["t"] = language.strings
        return html(resources.templates.render(context, withTemplate: template) ?? "", status: .ok, headers: [:])
    }

    /// A page saying why the request was refused, in this visit's language.
    func problem(_ status: HTTPResponse.Status, message: String) -> Response {
        page("problem", title: language["problem_title"], status: status, data: ["message": message])
    }

    private func html(_ text: String, status: HTTPResponse.Status, headers extra: HTTPFields) -> Response {
        var headers = ConsoleVisit.securityHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.contentLanguage] = language.code
        headers.append(contentsOf: extra)
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    /// Headers on every console answer: only its own scripts and styles, never framed, never cached.
    static let securityHeaders: HTTPFields = [
        .contentSecurityPolicy: "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
            + "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        .xContentTypeOptions: "nosniff",
        .referrerPolicy: "same-origin",
        .cacheControl: "no-store",
    ]

    /// A 303 to `location` (after a form, or to the sign-in page).
    static func redirect(_ location: String, headers extra: HTTPFields = [:]) -> Response {
        var headers = securityHeaders
        headers[.location] = location
        headers.append(contentsOf: extra)
        return Response(status: .seeOther, headers: headers)
    }
}

extension HTTPField.Name {
    static let contentSecurityPolicy = Self("Content-Security-Policy")!
    static let xContentTypeOptions = Self("X-Content-Type-Options")!
    static let referrerPolicy = Self("Referrer-Policy")!
}
