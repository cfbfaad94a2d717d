/// A broken product rule, naming the field that breaks it.
public struct RuleViolation: Error, Sendable, Equatable, CustomStringConvertible {
    /// Which rule, with the numbers an explanation needs, so every surface (the API's English
    /// detail, the console's five languages) words the same fact.
    public enum Rule: Sendable, Equatable {
        case empty
        case tooLong(limit: Int, got: Int)
        case controlCharacter(code: String, newlinesAllowed: Bool)
        case payloadTooLarge(bytes: Int, limit: Int)
        case emptyGroupId
        case noGroups
        case tooManyGroups(limit: Int, got: Int)
    }

    /// The request field, as the API names it (`title`, `groupIds`, `deviceId`).
    public var field: String
    public var rule: Rule
    public init(field: String, rule: Rule) {
        self.field = field
        self.rule = rule
    }

    /// What is wrong, in words a caller can act on.
    public var message: String {
        switch rule {
        case .empty: "must not be empty or only whitespace"
        case .tooLong(let limit, let got): "must be at most \(limit) characters (got \(got))"
        case .controlCharacter(let code, let newlinesAllowed):
            "must not contain control characters (found U+\(code))" + (newlinesAllowed ? "; only newlines are allowed" : "")
        case .payloadTooLarge(let bytes, let limit): "title and body together take \(bytes) bytes in a push payload; the limit is \(limit)"
        case .emptyGroupId: "must not be empty"
        case .noGroups: "at least one group is required"
        case .tooManyGroups(let limit, let got): "at most \(limit) groups per send (got \(got) distinct); nested groups do not count"
        }
    }

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
            throw RuleViolation(field: field, rule: .payloadTooLarge(bytes: size, limit: Limits.pushPayloadMaxBytes))
        }
    }

    /// Collapses duplicate group ids (keeping first-seen order) and checks 1–25 remain.
    public static func normalizeGroupIds(_ ids: [String], field: String = "groupIds") throws(RuleViolation) -> [String] {
        var seen = Set<String>()
        var unique: [String] = []
        for (index, id) in ids.enumerated() {
            if id.trimmingWhitespace().isEmpty {
                throw RuleViolation(field: "\(field)[\(index)]", rule: .emptyGroupId)
            }
            if seen.insert(id).inserted { unique.append(id) }
        }
        if unique.isEmpty {
            throw RuleViolation(field: field, rule: .noGroups)
        }
        if unique.count > Limits.groupsPerSendMax {
            throw RuleViolation(field: field, rule: .tooManyGroups(limit: Limits.groupsPerSendMax, got: unique.count))
        }
        return unique
    }

    private static func validateText(_ text: String, field: String, limit: Int, allowNewlines: Bool) throws(RuleViolation) {
        if text.trimmingWhitespace().isEmpty {
            throw RuleViolation(field: field, rule: .empty)
        }
        // A character is at least one byte: only a text of more bytes than the limit needs its
        // characters counted (which takes grapheme breaking, a tenth of the dispatcher's reading).
        if text.utf8.count > limit {
            let count = text.count
            if count > limit { throw RuleViolation(field: field, rule: .tooLong(limit: limit, got: count)) }
        }
        // Unicode's control category (Cc) is exactly these two ranges, and its stability policy
        // keeps it so; looking up each scalar's general category cost more than the rest of the rule.
        // Most texts have none, which a look at the bytes shows; the scalars are decoded only to
        // name the one found.
        if text.utf8.withContiguousStorageIfAvailable({ Self.hasNoControl($0, allowNewlines: allowNewlines) }) == true { return }
        for scalar in text.unicodeScalars where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) {
            if allowNewlines, scalar == "\n" || scalar == "\r" { continue }
            let code = String(scalar.value, radix: 16, uppercase: true)
            throw RuleViolation(
                field: field,
                rule: .controlCharacter(code: String(repeating: "0", count: max(0, 4 - code.count)) + code, newlinesAllowed: allowNewlines)
            )
        }
    }
}

extension Validation {
    /// True when `utf8` (valid UTF-8) holds no control character but, when allowed, CR and LF.
    /// C0 controls and DEL are single bytes; C1 controls (U+0080...U+009F) are C2 80...C2 9F,
    /// and C2 is only ever a lead byte.
    static func hasNoControl(_ utf8: UnsafeBufferPointer<UInt8>, allowNewlines: Bool) -> Bool {
        var previous: UInt8 = 0
        for byte in utf8 {
            if byte < 0x20 {
                guard allowNewlines, byte == 0x0A || byte == 0x0D else { return false }
            } else if byte == 0x7F || (previous == 0xC2 && byte <= 0x9F && byte >= 0x80) {
                return false
            }
            previous = byte
        }
        return true
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
