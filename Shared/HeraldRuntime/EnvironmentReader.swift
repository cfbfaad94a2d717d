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
