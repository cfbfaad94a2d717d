import Foundation
import HeraldCore
import Testing

@Suite struct DirectoryFileTests {
    func parseError(_ json: String) -> String? {
        do {
            _ = try DirectoryFile.parse(Data(json.utf8))
            return nil
        } catch {
            return error.description
        }
    }

    @Test func readsTheDesignFormat() throws {
        let file = try DirectoryFile.parse(
            Data(
                """
                {"tenants":[{"id":"contoso","name":"Contoso"}],
                 "devices":[{"id":"d-1","tenantId":"contoso","userId":"u-ada","platform":"ipados","enrolled":true,
                             "companyPortalInstalled":true,"notificationsAllowed":true,"googlePlayServices":false,"pushToken":"a1"}],
                 "groups":[{"id":"g","tenantId":"contoso","displayName":"G","members":[{"type":"group","id":"g2"}]}]}
                """.utf8
            )
        )
        #expect(file.devices.first?.platform == .ipados)
        #expect(file.groups.first?.members == [GroupMember(type: .group, id: "g2")])
        #expect(file.users.isEmpty)
    }

    @Test func namesThePathOfAnUnknownPlatform() {
        let devices = (0..<4).map { i in
            #"{"id":"d\#(i)","tenantId":"t","platform":"\#(i == 3 ? "blackberry" : "ios")","enrolled":true,"companyPortalInstalled":true,"notificationsAllowed":true,"googlePlayServices":false}"#
        }.joined(separator: ",")
        #expect(
            parseError(#"{"devices":[\#(devices)]}"#)
                == #"devices[3].platform: unknown platform "blackberry" (expected one of ios, ipados, android, macos, windows)"#
        )
    }

    @Test func namesMissingAndMistypedFields() {
        #expect(parseError(#"{"users":[{"id":"u","displayName":"U"}]}"#) == "users[0].tenantId: is required")
        #expect(parseError(#"{"tenants":[{"id":"t","name":1}]}"#) == "tenants[0].name: must be a string")
        #expect(
            parseError(#"{"groups":[{"id":"g","tenantId":"t","displayName":"G","members":[{"type":"robot","id":"x"}]}]}"#)?
                .hasPrefix("groups[0].members[0].type: unknown member type") == true
        )
        #expect(
            parseError(#"{"roles":[{"id":"r","tenantId":"t","permissions":["Everything"]}]}"#)?
                .hasPrefix("roles[0].permissions[0]: unknown permission") == true
        )
        #expect(parseError(#"{"users":[{"id":"u","tenantId":"t","displayName":"U","age":3}]}"#) == "users[0].age: unknown field")
        #expect(parseError(#"{"people":[]}"#)?.hasPrefix("people: unknown section") == true)
        #expect(parseError("[1,2]") == "the file must be a JSON object")
        #expect(parseError("{nope") == "not valid JSON")
        #expect(
            parseError(#"{"users":[{"id":"u","tenantId":"t","displayName":"U"},{"id":"u","tenantId":"t","displayName":"V"}]}"#)
                == #"users[1].id: duplicate id "u" in tenant "t" (also users[0])"#
        )
        // Ids are unique within a tenant only.
        #expect(parseError(#"{"users":[{"id":"u","tenantId":"t","displayName":"U"},{"id":"u","tenantId":"t2","displayName":"V"}]}"#) == nil)
    }
}
