import Foundation
import HeraldCore
import SQLiteStore
import Store
import TestSupport
import Testing

@testable import DispatcherApp

/// Group expansion in pages: the merge of every reached group's members, each user once, in
/// byte order, tenant-scoped, and a cache bounded by entries.
@Suite struct MembershipTests {
    /// Tenant "t": "root" holds u-1…u-N directly and nests "left" and "right", which overlap and
    /// nest each other (a cycle); ids include non-ASCII ones. Tenant "other" reuses the group ids.
    func directory(users: Int) -> DirectoryFile {
        var file = DirectoryFile(tenants: [Tenant(id: "t", name: "T"), Tenant(id: "other", name: "O")])
        let ids = (0..<users).map { "u-\($0)" } + ["ü-umlaut", "Z-upper", "é-accent", "e\u{301}-decomposed"]
        file.users = ids.map { User(id: $0, tenantId: "t", displayName: $0) } + [User(id: "stranger", tenantId: "other", displayName: "S")]
        func members(_ range: some Sequence<Int>) -> [GroupMember] { range.map { GroupMember(type: .user, id: "u-\($0)") } }
        file.groups = [
            Group(
                id: "root",
                tenantId: "t",
                displayName: "Root",
                members: members(0..<users / 3) + [
                    GroupMember(type: .group, id: "left"), GroupMember(type: .group, id: "right"), GroupMember(type: .user, id: "ü-umlaut"),
                ]
            ),
            Group(
                id: "left",
                tenantId: "t",
                displayName: "Left",
                members: members(users / 4..<users * 2 / 3) + [
                    GroupMember(type: .group, id: "right"), GroupMember(type: .user, id: "é-accent"),
                    GroupMember(type: .user, id: "e\u{301}-decomposed"),
                ]
            ),
            Group(
                id: "right",
                tenantId: "t",
                displayName: "Right",
                members: members(users / 2..<users) + [
                    GroupMember(type: .group, id: "root"), GroupMember(type: .user, id: "Z-upper"),
                    GroupMember(type: .user, id: "ü-umlaut"),
                ]
            ),
            Group(
                id: "root",
                tenantId: "other",
                displayName: "Other root",
                members: [GroupMember(type: .user, id: "stranger"), GroupMember(type: .group, id: "left")]
            ),
            Group(id: "left", tenantId: "other", displayName: "Other left", members: []),
        ]
        return file
    }

    func allPages(_ pages: inout UserPages) async throws -> [[String]] {
        var out: [[String]] = []
        while let page = try await pages.next() { out.append(page) }
        return out
    }

    // MARK: Tests

    @Test(arguments: [1, 7, 500])
    func pagesHoldEveryReachedUserOnceInByteOrder(pageSize: Int) async throws {
        let (database, _) = try temporaryDatabase()
        let file = directory(users: 1000)
        try await SQLiteDirectoryWriter(database: database).importFile(file)
        let resolver = MembershipResolver(directory: SQLiteDirectoryStore(database: database), ttl: 0, pageSize: pageSize)
        var pages = resolver.users(tenantId: "t", groupIds: ["left", "root"])
        let all = try await allPages(&pages)
        #expect(all.allSatisfy { !$0.isEmpty }, "no page is empty")
        #expect(all.allSatisfy { $0.count <= pageSize }, "no page is over the page size")
        let users = all.flatMap { $0 }
        let expected = Set(file.users.filter { $0.tenantId == "t" }.map(\.id))
        #expect(users.count == expected.count, "each user once")
        #expect(Set(users) == expected, "every user of the tenant is reached, none of the other")
        #expect(users == users.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }, "byte order")
        #expect(users.contains("é-accent"))
        #expect(users.contains("e\u{301}-decomposed"))
    }

    @Test func anotherTenantsGroupOfTheSameIdIsNotFollowed() async throws {
        let (database, _) = try temporaryDatabase()
        try await SQLiteDirectoryWriter(database: database).importFile(directory(users: 30))
        let resolver = MembershipResolver(directory: SQLiteDirectoryStore(database: database), ttl: 0)
        var pages = resolver.users(tenantId: "other", groupIds: ["root"])
        #expect(try await allPages(&pages) == [["stranger"]])
        var none = resolver.users(tenantId: "t", groupIds: ["no-such-group"])
        #expect(try await none.next() == nil)
    }

    @Test func theCacheStaysWithinItsBoundAndKeepsOnlySmallGroups() async throws {
        let (database, _) = try temporaryDatabase()
        var file = directory(users: 2000)
        file.groups += (0..<50).map { g in
            Group(
                id: "small-\(g)",
                tenantId: "t",
                displayName: "S\(g)",
                members: (0..<40).map { GroupMember(type: .user, id: "u-\(g * 40 + $0)") }
            )
        }
        try await SQLiteDirectoryWriter(database: database).importFile(file)
        let resolver = MembershipResolver(directory: SQLiteDirectoryStore(database: database), ttl: 60, pageSize: 500, maxCachedIds: 300)
        for g in 0..<50 {
            var pages = resolver.users(tenantId: "t", groupIds: ["small-\(g)"])
            #expect(try await allPages(&pages).flatMap { $0 }.count == 40)
            #expect(resolver.cachedIds <= 300, "bounded by entries: \(resolver.cachedIds)")
        }
        // A group larger than a page is streamed, never kept.
        var big = resolver.users(tenantId: "t", groupIds: ["root"])
        #expect(try await allPages(&big).flatMap { $0 }.count == 2004)
        #expect(resolver.cachedIds <= 300)
        #expect(resolver.cachedIds > 0, "small groups are reused")
    }

    @Test func theBoundedCacheEvictsTheOldestPastItsBound() {
        let cache = BoundedCache<[String]>(ttl: 60, maxCost: 10)
        let now = Date()
        cache.store(["a", "b", "c", "d"], cost: 4, under: "one", now: now)
        cache.store(["e", "f", "g", "h"], cost: 4, under: "two", now: now)
        cache.store(["i", "j", "k"], cost: 3, under: "three", now: now)
        #expect(cache.value("one", now: now) == nil, "the oldest went")
        #expect(cache.value("two", now: now) != nil)
        #expect(cache.value("three", now: now) != nil)
        #expect(cache.totalCost == 7)
        cache.store(Array(repeating: "x", count: 11), cost: 11, under: "huge", now: now)
        #expect(cache.value("huge", now: now) == nil, "an entry over the bound is not kept")
        #expect(cache.value("two", now: now.addingTimeInterval(61)) == nil, "expired")
    }
}
