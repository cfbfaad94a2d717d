/// A broken product rule, naming the field that breaks it.
public struct RuleViolation: Error, Sendable, Equatable, CustomStringConvertible {
    /// The request field, as the API names it (`title`, `groupIds`, `deviceId`).
    public var field: String
    /// What is wrong, in words a caller can act on.
    public var message: String
    public init(field: String, message: String) { self.field = field; self.message = message }
    public var description: String { "\(field): \(message)" }
}

/// The title, body and group rules of a custom notification.
public enum Validation {
    /// Checks a title: 1–50 characters, not blank, no control characters.
    public static func validateTitle(_ title: String, field: String = "title") throws(RuleViolation) {
        try validateText(title, field: field, limit: Limits.titleMaxCharacters, allowNewlines: false)
    }

    /// Checks a body: 1–500 characters, not blank, no control characters but newlines.
    public static func validateBody(_ body: String, field: String = "body") throws(RuleViolation) {
        try validateText(body, field: field, limit: Limits.bodyMaxCharacters, allowNewlines: true)
    }

    /// Checks that title and body fit in one push payload on every platform.
    public static func validatePayloadSize(title: String, body: String, field: String = "body") throws(RuleViolation) {
        let size = EnvelopeBuilder.largestPayloadSize(title: title, body: body)
        if size > Limits.pushPayloadMaxBytes {
            throw RuleViolation(
                field: field,
                message: "title and body together take \(size) bytes in a push payload; the limit is \(Limits.pushPayloadMaxBytes)"
            )
        }
    }

    /// Collapses duplicate group ids (keeping first-seen order) and checks 1–25 remain.
    public static func normalizeGroupIds(_ ids: [String], field: String = "groupIds") throws(RuleViolation) -> [String] {
        var seen = Set<String>()
        var unique: [String] = []
        for (index, id) in ids.enumerated() {
            if id.trimmingWhitespace().isEmpty {
                throw RuleViolation(field: "\(field)[\(index)]", message: "must not be empty")
            }
            if seen.insert(id).inserted { unique.append(id) }
        }
        if unique.isEmpty {
            throw RuleViolation(field: field, message: "at least one group is required")
        }
        if unique.count > Limits.groupsPerSendMax {
            throw RuleViolation(
                field: field,
                message: "at most \(Limits.groupsPerSendMax) groups per send (got \(unique.count) distinct); nested groups do not count"
            )
        }
        return unique
    }

    private static func validateText(_ text: String, field: String, limit: Int, allowNewlines: Bool) throws(RuleViolation) {
        if text.trimmingWhitespace().isEmpty {
            throw RuleViolation(field: field, message: "must not be empty or only whitespace")
        }
        let count = text.count
        if count > limit {
            throw RuleViolation(field: field, message: "must be at most \(limit) characters (got \(count))")
        }
        for scalar in text.unicodeScalars where scalar.properties.generalCategory == .control {
            if allowNewlines, scalar == "\n" || scalar == "\r" { continue }
            let code = String(scalar.value, radix: 16, uppercase: true)
            throw RuleViolation(
                field: field,
                message: "must not contain control characters (found U+\(String(repeating: "0", count: max(0, 4 - code.count)))\(code))"
                    + (allowNewlines ? "; only newlines are allowed" : "")
            )
        }
    }
}

extension String {
    /// The string without leading and trailing Unicode whitespace and newlines.
    public func trimmingWhitespace() -> Substring {
        var view = self[...]
        while let first = view.first, first.isWhitespace { view.removeFirst() }
        while let last = view.last, last.isWhitespace { view.removeLast() }
        return view
    }
}
