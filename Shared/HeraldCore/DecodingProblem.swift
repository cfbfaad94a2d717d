/// Turns a `DecodingError` into the path of the bad element and a short, safe message.
public enum DecodingProblem {
    /// `("devices[3].enrolled", "must be true or false")`; the path is empty for the whole document.
    public static func describe(_ error: DecodingError) -> (path: String, message: String) {
        switch error {
        case .keyNotFound(let key, let context):
            let base = render(context.codingPath)
            return (base.isEmpty ? key.stringValue : "\(base).\(key.stringValue)", "is required")
        case .typeMismatch(let type, let context):
            return (render(context.codingPath), "must be \(describe(type))")
        case .valueNotFound(let type, let context):
            return (render(context.codingPath), "must be \(describe(type)), not null")
        case .dataCorrupted(let context):
            return (render(context.codingPath), context.codingPath.isEmpty ? "is not valid JSON" : "is not valid")
        @unknown default:
            return ("", "cannot be read")
        }
    }

    /// `groups[0].members[2].id`.
    public static func render(_ path: [any CodingKey]) -> String {
        var out = ""
        for key in path {
            if let index = key.intValue { out += "[\(index)]" } else { out += out.isEmpty ? key.stringValue : ".\(key.stringValue)" }
        }
        return out
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is Int.Type, is Double.Type: "a number"
        case is [String].Type: "an array of strings"
        case is [Any].Type: "an array"
        default: "an object"
        }
    }
}
