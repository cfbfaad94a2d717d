import Foundation
import Mustache

/// The console's templates, string tables and static files, read once from ingest's
/// resource bundle (`Resources/console`).
struct ConsoleResources: Sendable {
    let templates: MustacheLibrary
    let languages: [String: ConsoleLanguage]
    /// `console.css` and `console.js`, by file name.
    let staticFiles: [String: Data]

    /// Why the resources could not be read: a packaging fault, never a request's.
    struct LoadError: Error, CustomStringConvertible {
        var description: String
    }

    /// The bundled resources, or why they are unusable.
    static let bundled: Result<ConsoleResources, LoadError> = Result {
        try load(from: Bundle.module.resourceURL?.appendingPathComponent("console"))
    }
    .mapError { $0 as? LoadError ?? LoadError(description: "\($0)") }

    static func load(from folder: URL?) throws -> ConsoleResources {
        guard let folder else { throw LoadError(description: "ingest's resource bundle has no console folder") }
        let files = FileManager.default
        var templates = MustacheLibrary()
        let templateFolder = folder.appendingPathComponent("templates")
        for name in try files.contentsOfDirectory(atPath: templateFolder.path) where name.hasSuffix(".mustache") {
            let text = try String(contentsOf: templateFolder.appendingPathComponent(name), encoding: .utf8)
            do {
                try templates.register(text, named: String(name.dropLast(".mustache".count)))
            } catch {
                throw LoadError(description: "template \(name) does not parse: \(error)")
            }
        }
        var languages: [String: ConsoleLanguage] = [:]
        for code in ConsoleLanguage.supported {
            let data = try Data(contentsOf: folder.appendingPathComponent("strings/\(code).json"))
            let strings = try JSONDecoder().decode([String: String].self, from: data)
            languages[code] = ConsoleLanguage(code: code, name: strings["language_name"] ?? code, strings: strings)
        }
        var staticFiles: [String: Data] = [:]
        for name in ["console.css", "console.js"] {
            staticFiles[name] = try Data(contentsOf: folder.appendingPathComponent("static/\(name)"))
        }
        return ConsoleResources(templates: templates, languages: languages, staticFiles: staticFiles)
    }

    /// A language by code; English when unknown.
    func language(_ code: String) -> ConsoleLanguage {
        languages[code] ?? languages["en"] ?? ConsoleLanguage(code: "en", name: "English", strings: [:])
    }
}
