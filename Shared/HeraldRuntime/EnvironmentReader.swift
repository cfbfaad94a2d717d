public import Foundation

/// A bad configuration value; `description` is the one line a process prints before exiting.
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public var key: String
    public var problem: String
    public init(key: String, problem: String) {
        self.key = key
        self.problem = problem
    }
    public var description: String { "configuration error: \(key) \(problem)" }
}

/// Typed reads of `HERALD_*` variables. Only executables' entry points use it;
/// business code gets configuration structs.
public struct EnvironmentReader: Sendable {
    public let values: [String: String]

    public init(_ values: [String: String] = ProcessInfo.processInfo.environment) { self.values = values }

    /// The variables that carry secrets. Each may instead be given as `<NAME>_FILE`, the path of a
    /// file holding the value (how container platforms mount secrets): one trailing line break is
    /// dropped, and giving both `<NAME>` and `<NAME>_FILE` is an error.
    public static let secretKeys = ["HERALD_JWT_SECRET", "HERALD_AMQP_URL", "HERALD_DATABASE_URL"]

    /// This process's environment, each `<NAME>_FILE` of `secretKeys` read into `<NAME>`.
    public static func process() throws(ConfigurationError) -> EnvironmentReader {
        try EnvironmentReader(resolvingFiles: ProcessInfo.processInfo.environment)
    }

    /// `values`, each `<NAME>_FILE` of `secretKeys` read into `<NAME>`. The error names the key
    /// and the path, never what the file holds.
    public init(resolvingFiles values: [String: String]) throws(ConfigurationError) {
        var resolved = values
        for key in Self.secretKeys {
            let fileKey = key + "_FILE"
            guard let path = values[fileKey], !path.isEmpty else { continue }
            if let direct = values[key], !direct.isEmpty {
                throw ConfigurationError(key: fileKey, problem: "and \(key) are both set: give one of them")
            }
            let text: String
            do {
                text = try String(contentsOfFile: path, encoding: .utf8)
            } catch {
                throw ConfigurationError(key: fileKey, problem: "names a file that cannot be read as UTF-8 text: \(path)")
            }
            // "\r\n" is one Character in Swift, like "\n".
            let value = text.last == "\n" || text.last == "\r\n" ? text.dropLast() : Substring(text)
            guard !value.isEmpty else { throw ConfigurationError(key: fileKey, problem: "names an empty file: \(path)") }
            resolved[key] = String(value)
            resolved[fileKey] = nil
        }
        self.init(resolved)
    }

    /// A string, or `fallback` when unset or empty.
    public func string(_ key: String, default fallback: String) -> String {
        guard let value = values[key], !value.isEmpty else { return fallback }
        return value
    }

    /// The SQLite database every Herald process on a host shares (`HERALD_DB_PATH`).
    public var databasePath: String { string("HERALD_DB_PATH", default: ".herald/herald.sqlite") }

    /// A string that must be set.
    public func required(_ key: String, hint: String) throws(ConfigurationError) -> String {
        guard let value = values[key], !value.isEmpty else {
            throw ConfigurationError(key: key, problem: "is required: \(hint)")
        }
        return value
    }

    /// An optional string (nil when unset or empty).
    public func optional(_ key: String) -> String? {
        guard let value = values[key], !value.isEmpty else { return nil }
        return value
    }

    /// The path of a file `key` names (nil when unset); a path that is not a readable file is an
    /// error naming the key and the path.
    public func readableFile(_ key: String) throws(ConfigurationError) -> String? {
        guard let path = optional(key) else { return nil }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw ConfigurationError(key: key, problem: "names \"\(path)\", which is not a readable file")
        }
        return path
    }

    /// An integer within `range`.
    public func int(_ key: String, default fallback: Int, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
        guard let text = optional(key) else { return fallback }
        guard let value = Int(text.trimmingCharacters(in: .whitespaces)), range.contains(value) else {
            throw ConfigurationError(
                key: key,
                problem: "must be a whole number from \(range.lowerBound) to \(range.upperBound), got \"\(text)\""
            )
        }
        return value
    }

    /// A yes/no value (`true`/`false`, `1`/`0`, `yes`/`no`); a key that is not set gives `fallback`.
    public func bool(_ key: String, default fallback: Bool) throws(ConfigurationError) -> Bool {
        guard let text = optional(key) else { return fallback }
        switch text.lowercased() {
        case "true", "1", "yes": return true
        case "false", "0", "no": return false
        default: throw ConfigurationError(key: key, problem: "must be true or false, got \"\(text)\"")
        }
    }

    /// One of a fixed set of words (`T`'s raw values, in any case).
    public func choice<T: RawRepresentable & CaseIterable>(_ key: String, default fallback: T) throws(ConfigurationError) -> T
    where T.RawValue == String {
        guard let text = optional(key) else { return fallback }
        guard let value = T(rawValue: text.lowercased()) else {
            throw ConfigurationError(
                key: key,
                problem: "must be one of \(T.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(text)\""
            )
        }
        return value
    }
}
