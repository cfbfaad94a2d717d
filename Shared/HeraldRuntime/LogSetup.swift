import Foundation
import HeraldCore
public import Logging

/// How log lines are written.
public enum LogFormat: String, Sendable, CaseIterable {
    /// One JSON object per line (the default, for collectors).
    case json
    /// Human-readable lines, for a terminal.
    case text
}

/// Logging configuration shared by every Herald executable.
public struct LogSettings: Sendable {
    public var format: LogFormat
    public var level: Logger.Level

    public init(format: LogFormat, level: Logger.Level) {
        self.format = format
        self.level = level
    }

    /// Reads `HERALD_LOG_FORMAT` and `HERALD_LOG_LEVEL`. Without a format, logs are JSON unless
    /// standard error is a terminal, where people read them.
    public init(environment: EnvironmentReader, terminal: Bool? = nil) throws(ConfigurationError) {
        let terminal = terminal ?? (isatty(STDERR_FILENO) == 1)
        format = try environment.choice("HERALD_LOG_FORMAT", default: terminal ? LogFormat.text : LogFormat.json)
        let levelText = environment.string("HERALD_LOG_LEVEL", default: "info").lowercased()
        guard let level = Logger.Level(rawValue: levelText) else {
            throw ConfigurationError(
                key: "HERALD_LOG_LEVEL",
                problem: "must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")), got \"\(levelText)\""
            )
        }
        self.level = level
    }

    /// Bootstraps swift-log once per process (executables only).
    public func bootstrap() {
        let format = format
        let level = level
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler =
                switch format {
                case .json: JSONLogHandler(label: label)
                case .text: StreamLogHandler.standardError(label: label)
                }
            handler.logLevel = level
            return handler
        }
    }
}

/// Writes one JSON object per log line to standard error:
/// `{"ts":…,"level":…,"logger":…,"msg":…, metadata…}`.
///
/// Herald never puts titles, bodies, push tokens or bearer tokens in metadata; this
/// handler writes what it is given.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String
    private static let lock = NSLock()

    public init(label: String) { self.label = label }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [String: String] = [:]
        for (key, value) in metadata { fields[key] = "\(value)" }
        for (key, value) in metadataProvider?.get() ?? [:] { fields[key] = "\(value)" }
        for (key, value) in event.metadata ?? [:] { fields[key] = "\(value)" }
        var line = "{\"ts\":\"\(Timestamp.string(Date()))\""
        line += ",\"level\":\"\(event.level.rawValue)\",\"logger\":\(JSONText.quoted(label)),\"msg\":\(JSONText.quoted("\(event.message)"))"
        for key in fields.keys.sorted() { line += ",\(JSONText.quoted(key)):\(JSONText.quoted(fields[key]!))" }
        line += "}\n"
        Self.lock.withLock { FileHandle.standardError.write(Data(line.utf8)) }
    }
}
