/// Who belongs to which group: what a group send needs to find its users, page by page.
public protocol GroupMembership: Sendable {
    /// The groups reached from `groupIds` through nested group members, `groupIds` included, each
    /// once (cycles end), in id order. Every step stays inside the tenant.
    func reachedGroups(tenantId: String, from groupIds: [String]) async throws -> [String]
    /// Up to `limit` ids of the users who are direct members of `groupId`, in byte order of their
    /// UTF-8, starting after `after` (keyset pagination; nil starts at the first).
    func userMembers(tenantId: String, ofGroup groupId: String, after: String?, limit: Int) async throws -> [String]
}

extension GroupMembership {
    /// Every user reached by any of `groupIds` (nested groups expanded, cycles end), each once,
    /// in byte order of their ids, in pages of at most `pageSize`.
    public func users(tenantId: String, groupIds: [String], pageSize: Int = 500) -> UserPages {
        UserPages(membership: self, tenantId: tenantId, groupIds: groupIds, pageSize: pageSize)
    }

    /// Every user reached by a group, as one list: for tools and tests; a fan-out reads the pages.
    public func users(tenantId: String, inGroup groupId: String) async throws -> [String] {
        var pages = users(tenantId: tenantId, groupIds: [groupId], pageSize: 5000)
        var all: [String] = []
        while let page = try await pages.next() { all += page }
        return all
    }
}

/// The users of a group send, page by page: a merge of the member lists of every group reached,
/// each read in id order with keyset pagination, so memory holds a page per group, never the
/// whole list. Ids are compared as UTF-8 bytes, the order the stores sort them in.
public struct UserPages: Sendable {
    private let membership: any GroupMembership
    private let tenantId: String
    private let groupIds: [String]
    /// The most users a page holds.
    public let pageSize: Int
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

    public init(membership: any GroupMembership, tenantId: String, groupIds: [String], pageSize: Int) {
        self.membership = membership
        self.tenantId = tenantId
        self.groupIds = groupIds
        self.pageSize = pageSize
    }

    /// The next page of users not handed out before, or nil when there are no more.
    public mutating func next() async throws -> [String]? {
        if !started {
            started = true
            let groups = try await membership.reachedGroups(tenantId: tenantId, from: groupIds)
            let perGroup = Self.perGroupPage(groups: groups.count, pageSize: pageSize)
            cursors = groups.map { Cursor(groupId: $0) }
            for i in cursors.indices {
                try await refill(i, perGroup: perGroup)
                if cursors[i].current != nil { push(i) }
            }
        }
        let perGroup = Self.perGroupPage(groups: cursors.count, pageSize: pageSize)
        var page: [String] = []
        page.reserveCapacity(pageSize)
        while page.count < pageSize, let top = heap.first {
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
        let rows = try await membership.userMembers(tenantId: tenantId, ofGroup: cursors[i].groupId, after: after, limit: perGroup)
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
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < heap.count, less(heap[left], heap[smallest]) { smallest = left }
            if right < heap.count, less(heap[right], heap[smallest]) { smallest = right }
            guard smallest != parent else { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
