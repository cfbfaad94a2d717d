import Foundation

/// The fields of an `application/x-www-form-urlencoded` body, in order; a name may repeat
/// (one `group` field per ticked box).
struct FormData: Sendable, Equatable {
    private(set) var fields: [(name: String, value: String)] = []

    static func == (lhs: FormData, rhs: FormData) -> Bool {
        lhs.fields.map(\.name) == rhs.fields.map(\.name) && lhs.fields.map(\.value) == rhs.fields.map(\.value)
    }

    /// Why a body is not a form.
    struct Malformed: Error {}

    /// Parses a body; `+` is a space and `%XX` a byte, and the bytes must be UTF-8.
    init(parsing body: String) throws(Malformed) {
        for pair in body.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = try Self.decode(parts[0])
            let value = parts.count > 1 ? try Self.decode(parts[1]) : ""
            fields.append((name, value))
        }
    }

    init(_ fields: [(String, String)] = []) { self.fields = fields.map { (name: $0.0, value: $0.1) } }

    /// The first value of `name`, or nil.
    subscript(name: String) -> String? { fields.first { $0.name == name }?.value }

    /// Every value of `name`, in order.
    func values(_ name: String) -> [String] { fields.filter { $0.name == name }.map(\.value) }

    private static func decode(_ text: Substring) throws(Malformed) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        guard let decoded = spaced.removingPercentEncoding else { throw Malformed() }
        return decoded
    }
}
