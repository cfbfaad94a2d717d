import Foundation
import Store

/// Expands groups to their users at delivery time, in pages, so that a send to a group of any
/// size holds about one page of user ids at a time.
///
/// It may reuse what it read for at most `ttl` seconds: that TTL is the documented window in
/// which a user removed from a group may still receive a message, or one just added may not.
/// What it keeps is bounded by entries, not only by time: the groups a group reaches, and the
/// members of groups small enough to fit one page; larger groups are always streamed.
final class MembershipResolver: GroupMembership {
    private let directory: any DirectoryStore
    /// Users per page handed to the fan-out.
    let pageSize: Int
    private let reached: BoundedCache<[String]>
    private let members: BoundedCache<[String]>

    /// - Parameters:
    ///   - ttl: seconds a resolution may be reused (0: never).
    ///   - maxCachedIds: the most group and user ids the cache holds together.
    init(directory: any DirectoryStore, ttl: TimeInterval, pageSize: Int = 500, maxCachedIds: Int = 100_000) {
        self.directory = directory
        self.pageSize = pageSize
        self.reached = BoundedCache(ttl: ttl, maxCost: maxCachedIds / 10)
        self.members = BoundedCache(ttl: ttl, maxCost: maxCachedIds - maxCachedIds / 10)
    }

    /// Every user reached by any of `groupIds`, in pages of `pageSize`, read through the cache.
    func users(tenantId: String, groupIds: [String]) -> UserPages {
        users(tenantId: tenantId, groupIds: groupIds, pageSize: pageSize)
    }

    /// How many ids the cache holds now.
    var cachedIds: Int { reached.totalCost + members.totalCost }

    /// The groups `groupIds` reach, themselves included.
    func reachedGroups(tenantId: String, from groupIds: [String]) async throws -> [String] {
        let now = Date()
        let key = Self.key(tenantId, groupIds.sorted().joined(separator: "\u{0}"))
        if let hit = reached.value(key, now: now) { return hit }
        let groups = try await directory.reachedGroups(tenantId: tenantId, from: groupIds)
        reached.store(groups, cost: groups.count, under: key, now: now)
        return groups
    }

    /// Up to `limit` direct user members of `groupId` after `after`, in byte order; the whole
    /// first page of a group smaller than `limit` is kept for reuse.
    func userMembers(tenantId: String, ofGroup groupId: String, after: String?, limit: Int) async throws -> [String] {
        let now = Date()
        let key = Self.key(tenantId, groupId)
        if after == nil, let hit = members.value(key, now: now) { return hit }
        let page = try await directory.userMembers(tenantId: tenantId, ofGroup: groupId, after: after, limit: limit)
        if after == nil, page.count < limit { members.store(page, cost: page.count, under: key, now: now) }
        return page
    }

    private static func key(_ tenantId: String, _ rest: String) -> String { tenantId + "\u{1}" + rest }
}
