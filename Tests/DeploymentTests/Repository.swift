import Foundation
import HeraldRuntime
import TestSupport

/// The repository's root, found from this file.
let root = repositoryRoot

func text(_ path: String) throws -> String { try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8) }

/// Every match of `pattern`'s first group in `text`.
func matches(_ pattern: String, in text: String) throws -> [String] {
    let regex = try NSRegularExpression(pattern: pattern, options: [.anchorsMatchLines])
    return regex.matches(in: text, range: NSRange(text.startIndex..., in: text)).compactMap {
        Range($0.range(at: 1), in: text).map { String(text[$0]) }
    }
}

/// Every Swift source of the services and shared modules, concatenated.
func swiftSources() throws -> String {
    var sources = ""
    for folder in ["Services", "Shared"] {
        let files = FileManager.default.enumerator(at: root.appendingPathComponent(folder), includingPropertiesForKeys: nil)
        while let file = files?.nextObject() as? URL {
            if file.pathExtension == "swift" { sources += try String(contentsOf: file, encoding: .utf8) }
        }
    }
    return sources
}

/// Every `HERALD_*` key the code reads.
func configurationKeysTheCodeReads() throws -> Set<String> {
    // A secret may come from `<NAME>_FILE` instead (EnvironmentReader.secretKeys).
    Set(try matches(#""(HERALD_[A-Z_]+)""#, in: swiftSources())).union(EnvironmentReader.secretKeys.map { $0 + "_FILE" })
}
