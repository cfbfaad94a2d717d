import Directory
import Foundation

/// Expands groups to their users at delivery time, reusing a group's resolution for
/// at most `ttl` seconds. That TTL is the documented window in which a user removed
/// from a group may still receive a message; a user added is seen once it expires.
actor MembershipResolver {
    private let directory: any DirectoryStore
    private let ttl: TimeInterval
    private var cache: [String: (users: [String], expires: Date)] = [:]

    init(directory: any DirectoryStore, ttl: TimeInterval) {
        self.directory = directory
        self.ttl = ttl
    }

    /// Every user reached by any of `groupIds` (nested groups expanded), each once, sorted.
    func users(tenantId: String, groupIds: [String], now: Date = Date()) async throws -> [String] {
        var all = Set<String>()
        for groupId in groupIds {
            all.formUnion(try await users(tenantId: tenantId, groupId: groupId, now: now))
        }
        return all.sorted()
    }

    private func users(tenantId: String, groupId: String, now: Date) async throws -> [String] {
        let key = "\(tenantId)\u{0}\(groupId)"
        if ttl > 0, let hit = cache[key], hit.expires > now { return hit.users }
        let users = try await directory.users(tenantId: tenantId, inGroup: groupId)
        if ttl > 0 {
            if cache.count > 10_000 { cache = cache.filter { $0.value.expires > now } }
            cache[key] = (users, now.addingTimeInterval(ttl))
        }
        return users
    }
}
