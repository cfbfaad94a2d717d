import Foundation
public import HeraldCore
public import Store

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
            User(id: "u1", tenantId: "a", displayName: "One"), User(id: "u2", tenantId: "a", displayName: "Two"),
            User(id: "u3", tenantId: "a", displayName: "Three"), User(id: "u1", tenantId: "b", displayName: "B-One"),
        ],
        devices: [
            device("d1", "a", "u1", .ios), device("d2", "a", "u2", .android, gms: true), device("d3", "a", "u3", .macos),
            device("d1", "b", "u1", .android, gms: true), device("d-b-only", "b", "u1", .ios),
            device("d-win", "a", "u3", .windows),
            Device(
                id: "d-unenrolled",
                tenantId: "a",
                userId: "u3",
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
                id: "top",
                tenantId: "a",
                displayName: "Top",
                members: [
                    GroupMember(type: .user, id: "u1"), GroupMember(type: .group, id: "mid"), GroupMember(type: .device, id: "d3"),
                ]
            ),
            Group(
                id: "mid",
                tenantId: "a",
                displayName: "Mid",
                members: [
                    GroupMember(type: .user, id: "u2"), GroupMember(type: .user, id: "u1"), GroupMember(type: .group, id: "top"),
                ]
            ),
            Group(id: "lonely", tenantId: "a", displayName: "Devices only", members: [GroupMember(type: .device, id: "d3")]),
            Group(id: "top", tenantId: "b", displayName: "B top", members: [GroupMember(type: .user, id: "u1")]),
            Group(id: "mid-b", tenantId: "b", displayName: "Only in B", members: [GroupMember(type: .user, id: "u1")]),
        ],
        roles: [
            Role(id: "sender", tenantId: "a", permissions: ["Organization.Update"]),
            Role(id: "all", tenantId: "b", permissions: ["Organization.Update", "RemoteTasks.SendCustomNotifications"]),
            Role(id: "helpdesk", tenantId: "a", permissions: ["RemoteTasks.SendCustomNotifications"]),
        ],
        principals: [
            Principal(id: "p", tenantId: "a", roles: ["sender", "helpdesk"]), Principal(id: "norole", tenantId: "a", roles: []),
            Principal(id: "sender-only", tenantId: "a", roles: ["sender"]),
            Principal(id: "helpdesk-only", tenantId: "a", roles: ["helpdesk"]),
            Principal(id: "p", tenantId: "b", roles: ["all"]),
        ]
    )
}
