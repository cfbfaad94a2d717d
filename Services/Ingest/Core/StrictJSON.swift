package import Foundation
import HeraldCore

/// A request body whose fields are all known: any other key is a 400 naming it.
package protocol StrictBody: Decodable {
    static var fields: Set<String> { get }
}

/// Strict decoding of request bodies into `StrictBody` types.
package enum StrictJSON {
    /// Decodes `data`, mapping every failure to a 400 that names the field.
    package static func decode<T: StrictBody>(_ type: T.Type, from data: Data) throws(APIError) -> T {
        let keys: [String]
        do {
            keys = try JSONDecoder().decode(TopLevelKeys.self, from: data).keys
        } catch let error as DecodingError {
            if case .typeMismatch(_, let context) = error, context.codingPath.isEmpty {
                throw APIError.badRequest("the body must be a JSON object")
            }
            throw APIError.badRequest("the body is not valid JSON")
        } catch {
            throw APIError.badRequest("the body is not valid JSON")
        }
        if let unknown = keys.sorted().first(where: { !T.fields.contains($0) }) {
            throw APIError.badRequest("unknown field (expected \(T.fields.sorted().joined(separator: ", ")))", field: unknown)
        }
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let error as DecodingError {
            let problem = DecodingProblem.describe(error)
            throw APIError.badRequest(problem.message, field: problem.path.isEmpty ? nil : problem.path)
        } catch {
            throw APIError.badRequest("the body is not valid JSON")
        }
    }

    private struct TopLevelKeys: Decodable {
        var keys: [String]
        init(from decoder: any Decoder) throws {
            keys = try decoder.container(keyedBy: AnyKey.self).allKeys.map(\.stringValue)
        }
    }

    private struct AnyKey: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
}
