/// The role-based permissions Herald checks.
public enum Permission: String, Codable, Sendable, CaseIterable {
    /// Needed to send to groups.
    case organizationUpdate = "Organization.Update"
    /// Needed to send to one device.
    case sendCustomNotifications = "RemoteTasks.SendCustomNotifications"
}
