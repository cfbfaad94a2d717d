import Foundation

/// One language of the console: its code, its own name, and its string table.
struct ConsoleLanguage: Sendable {
    /// The languages of the product documentation the console follows, English first (the fallback).
    static let supported = ["en", "nl", "sv", "fr", "ro"]

    let code: String
    /// The language's name in itself, for the switcher.
    let name: String
    let strings: [String: String]

    /// The string for `key`; a missing key shows itself, so a test (and a reader) notices.
    subscript(key: String) -> String { strings[key] ?? key }

    /// The string for `key` with each `{name}` replaced by its argument.
    func format(_ key: String, _ arguments: [String: any CustomStringConvertible] = [:]) -> String {
        var text = self[key]
        for (name, value) in arguments { text = text.replacingOccurrences(of: "{\(name)}", with: value.description) }
        return text
    }

    /// The language a request asks for: the `herald_lang` cookie set by the switcher, else the
    /// best match of `Accept-Language` (by q-value, then order), else English.
    static func negotiate(cookie: String?, acceptLanguage: String?) -> String {
        if let cookie, supported.contains(cookie) { return cookie }
        var ranked: [(code: String, q: Double, order: Int)] = []
        for (order, item) in (acceptLanguage ?? "").split(separator: ",").enumerated() {
            let parts = item.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let tag = parts.first?.lowercased(), !tag.isEmpty else { continue }
            var q = 1.0
            for parameter in parts.dropFirst() where parameter.lowercased().hasPrefix("q=") {
                q = Double(parameter.dropFirst(2)) ?? 0
            }
            let primary = String(tag.split(separator: "-").first ?? "")
            if q > 0, supported.contains(primary) { ranked.append((primary, q, order)) }
        }
        return ranked.sorted { $0.q != $1.q ? $0.q > $1.q : $0.order < $1.order }.first?.code ?? "en"
    }
}
