import Foundation
public import HeraldCore
public import SQLiteStore
import Store

/// A fresh database file in a temporary folder.
public func temporaryDatabase() throws -> (HeraldDatabase, String) {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("herald-tests-\(UUID().uuidString)")
    let path = dir.appendingPathComponent("herald.sqlite").path
    return (try HeraldDatabase(path: path), path)
}

/// Two tenants that reuse the same ids, nested groups with a cycle, device members,
/// and users with devices of every kind.
public func sampleDirectory() -> DirectoryFile {
    func device(_ id: String, _ tenant: String, _ user: String?, _ platform: Platform, gms: Bool = false) -> Device {
        Device(
            id: id,
            tenantId: tenant,
            userId: user,
            platform: platform,
            enrolled: true,
            companyPortalInstalled: true,
            notificationsAllowed: true,
            googlePlayServices: gms,
            pushToken: "tok-\(tenant)-\(id)"
        )
    }
    return DirectoryFile(
        tenants: [Tenant(id: "a", name: "A"), Tenant(id: "b", name: "B")],
        users: [
            User(id: "u-top-and-mid", tenantId: "a", displayName: "One"), User(id: "u-mid-only", tenantId: "a", displayName: "Two"),
            User(id: "u-no-eligible-device", tenantId: "a", displayName: "Three"),
            User(id: "u-top-and-mid", tenantId: "b", displayName: "B-One"),
        ],
        devices: [
            device("d-phone", "a", "u-top-and-mid", .ios), device("d-android-gms", "a", "u-mid-only", .android, gms: true),
            device("d-macos", "a", "u-no-eligible-device", .macos),
            device("d-phone", "b", "u-top-and-mid", .android, gms: true), device("d-ios-only-in-b", "b", "u-top-and-mid", .ios),
            device("d-windows", "a", "u-no-eligible-device", .windows),
            Device(
                id: "d-ios-unenrolled",
                tenantId: "a",
                userId: "u-no-eligible-device",
                platform: .ios,
                enrolled: false,
                companyPortalInstalled: true,
                notificationsAllowed: true,
                googlePlayServices: false,
                pushToken: "t"
            ),
        ],
        groups: [
            Group(
                id: "g-top",
                tenantId: "a",
                displayName: "Top",
                members: [
                    GroupMember(type: .user, id: "u-top-and-mid"), GroupMember(type: .group, id: "g-mid"),
                    GroupMember(type: .device, id: "d-macos"),
                ]
            ),
            Group(
                id: "g-mid",
                tenantId: "a",
                displayName: "Mid",
                members: [
                    GroupMember(type: .user, id: "u-mid-only"), GroupMember(type: .user, id: "u-top-and-mid"),
                    GroupMember(type: .group, id: "g-top"),
                ]
            ),
            Group(id: "g-devices-only", tenantId: "a", displayName: "Devices only", members: [GroupMember(type: .device, id: "d-macos")]),
            Group(id: "g-top", tenantId: "b", displayName: "B top", members: [GroupMember(type: .user, id: "u-top-and-mid")]),
            Group(id: "g-only-in-b", tenantId: "b", displayName: "Only in B", members: [GroupMember(type: .user, id: "u-top-and-mid")]),
        ],
        roles: [
            Role(id: "sender", tenantId: "a", permissions: ["Organization.Update"]),
            Role(id: "all", tenantId: "b", permissions: ["Organization.Update", "RemoteTasks.SendCustomNotifications"]),
            Role(id: "helpdesk", tenantId: "a", permissions: ["RemoteTasks.SendCustomNotifications"]),
        ],
        principals: [
            Principal(id: "p-admin", tenantId: "a", roles: ["sender", "helpdesk"]), Principal(id: "p-no-role", tenantId: "a", roles: []),
            Principal(id: "p-sender-only", tenantId: "a", roles: ["sender"]),
            Principal(id: "p-helpdesk-only", tenantId: "a", roles: ["helpdesk"]),
            Principal(id: "p-admin", tenantId: "b", roles: ["all"]),
        ]
    )
}
