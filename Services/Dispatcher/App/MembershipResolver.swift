import Directory
import Foundation

/// Expands groups to their users at delivery time, in pages, so that a send to a group of any
/// size holds about one page of user ids at a time.
///
/// It may reuse what it read for at most `ttl` seconds: that TTL is the documented window in
/// which a user removed from a group may still receive a message, or one just added may not.
/// What it keeps is bounded by entries, not only by time: the groups a group reaches, and the
/// members of groups small enough to fit one page; larger groups are always streamed.
final class MembershipResolver: Sendable {
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

    /// Every user reached by any of `groupIds` (nested groups expanded, cycles end), each once,
    /// in byte order of their ids, in pages of at most `pageSize`.
    func users(tenantId: String, groupIds: [String], now: Date = Date()) -> UserPages {
        UserPages(resolver: self, tenantId: tenantId, groupIds: groupIds, now: now)
    }

    /// How many ids the cache holds now.
    var cachedIds: Int { reached.totalCost + members.totalCost }

    /// The groups `groupIds` reach, themselves included.
    func reachedGroups(tenantId: String, from groupIds: [String], now: Date) async throws -> [String] {
        let key = Self.key(tenantId, groupIds.sorted().joined(separator: "\u{0}"))
        if let hit = reached.value(key, now: now) { return hit }
        let groups = try await directory.reachedGroups(tenantId: tenantId, from: groupIds)
        reached.store(groups, cost: groups.count, under: key, now: now)
        return groups
    }

    /// Up to `limit` direct user members of `groupId` after `after`, in byte order; the whole
    /// first page of a group smaller than `limit` is kept for reuse.
    func members(tenantId: String, groupId: String, after: String?, limit: Int, now: Date) async throws -> [String] {
        let key = Self.key(tenantId, groupId)
        if after == nil, let hit = members.value(key, now: now) { return hit }
        let page = try await directory.userMembers(tenantId: tenantId, ofGroup: groupId, after: after, limit: limit)
        if after == nil, page.count < limit { members.store(page, cost: page.count, under: key, now: now) }
        return page
    }

    private static func key(_ tenantId: String, _ rest: String) -> String { tenantId + "\u{1}" + rest }
}

/// The users of a group send, page by page: a merge of the member lists of every group reached,
/// each read in id order with keyset pagination, so memory holds a page per group, never the
/// whole list. Ids are compared as UTF-8 bytes, the order the stores sort them in.
struct UserPages {
    private let resolver: MembershipResolver
    private let tenantId: String
    private let groupIds: [String]
    private let now: Date
    private var cursors: [Cursor] = []
    /// Indices into `cursors`, a min-heap on each cursor's current id.
    private var heap: [Int] = []
    private var started = false
    private var lastEmitted: String?

    private struct Cursor {
        let groupId: String
        var buffer: [String] = []
        var index = 0
        /// No member after the buffer's last.
        var complete = false
        var current: String? { index < buffer.count ? buffer[index] : nil }
    }

    init(resolver: MembershipResolver, tenantId: String, groupIds: [String], now: Date) {
        self.resolver = resolver
        self.tenantId = tenantId
        self.groupIds = groupIds
        self.now = now
    }

    /// The next page of users not handed out before, or nil when there are no more.
    mutating func next() async throws -> [String]? {
        if !started {
            started = true
            let groups = try await resolver.reachedGroups(tenantId: tenantId, from: groupIds, now: now)
            let perGroup = Self.perGroupPage(groups: groups.count, pageSize: resolver.pageSize)
            cursors = groups.map { Cursor(groupId: $0) }
            for i in cursors.indices {
                try await refill(i, perGroup: perGroup)
                if cursors[i].current != nil { push(i) }
            }
        }
        let perGroup = Self.perGroupPage(groups: cursors.count, pageSize: resolver.pageSize)
        var page: [String] = []
        page.reserveCapacity(resolver.pageSize)
        while page.count < resolver.pageSize, let top = heap.first {
            let user = cursors[top].current!
            cursors[top].index += 1
            if cursors[top].current == nil, !cursors[top].complete { try await refill(top, perGroup: perGroup) }
            if cursors[top].current == nil { popTop() } else { siftDown(0) }
            if let last = lastEmitted, last.utf8.elementsEqual(user.utf8) { continue }
            page.append(user)
            lastEmitted = user
        }
        return page.isEmpty ? nil : page
    }

    /// Rows read per group and query: a full page for a few groups, less for many, so that what
    /// is buffered stays near a few pages however many groups a send reaches.
    static func perGroupPage(groups: Int, pageSize: Int) -> Int {
        max(32, min(pageSize, 4 * pageSize / max(1, groups)))
    }

    private mutating func refill(_ i: Int, perGroup: Int) async throws {
        let after = cursors[i].buffer.last
        let rows = try await resolver.members(tenantId: tenantId, groupId: cursors[i].groupId, after: after, limit: perGroup, now: now)
        cursors[i].buffer = rows
        cursors[i].index = 0
        cursors[i].complete = rows.count < perGroup
    }

    // MARK: Heap

    private func less(_ a: Int, _ b: Int) -> Bool {
        cursors[a].current!.utf8.lexicographicallyPrecedes(cursors[b].current!.utf8)
    }

    private mutating func push(_ i: Int) {
        heap.append(i)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard less(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func popTop() {
        heap.swapAt(0, heap.count - 1)
        heap.removeLast()
        if !heap.isEmpty { siftDown(0) }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < heap.count, less(heap[left], heap[smallest]) { smallest = left }
            if right < heap.count, less(heap[right], heap[smallest]) { smallest = right }
            guard smallest != parent else { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
