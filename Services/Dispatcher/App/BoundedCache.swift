import Foundation
import Synchronization

/// A cache whose entries expire after a TTL and whose total size, counted by each entry's
/// `cost` (e.g. user ids held), stays under a bound: past it, expired entries go first, then
/// the oldest. Safe to use from many tasks at once.
final class BoundedCache<Value: Sendable>: Sendable {
    private struct Entry {
        var value: Value
        var cost: Int
        var expires: Date
        var sequence: Int
    }

    private struct State {
        var entries: [String: Entry] = [:]
        /// Keys in the order they were stored, with the sequence number they were stored under.
        var order: [(key: String, sequence: Int)] = []
        var head = 0
        var nextSequence = 0
        var totalCost = 0
    }

    /// How long an entry may be used; 0 turns the cache off.
    let ttl: TimeInterval
    /// The most the entries may cost together.
    let maxCost: Int
    private let state = Mutex(State())

    init(ttl: TimeInterval, maxCost: Int) {
        self.ttl = ttl
        self.maxCost = maxCost
    }

    /// What the cache holds under `key`, if it has not expired at `now`.
    func value(_ key: String, now: Date) -> Value? {
        guard ttl > 0 else { return nil }
        return state.withLock { state in
            guard let entry = state.entries[key], entry.expires > now else { return nil }
            return entry.value
        }
    }

    /// Stores `value` under `key` until `now + ttl`. A value costing more than the bound is not stored.
    func store(_ value: Value, cost: Int, under key: String, now: Date) {
        guard ttl > 0, cost <= maxCost else { return }
        state.withLock { state in
            if let old = state.entries.removeValue(forKey: key) { state.totalCost -= old.cost }
            state.nextSequence += 1
            state.entries[key] = Entry(value: value, cost: cost, expires: now.addingTimeInterval(ttl), sequence: state.nextSequence)
            state.order.append((key, state.nextSequence))
            state.totalCost += cost
            if state.totalCost > maxCost { Self.evict(&state, now: now, bound: maxCost) }
            if state.head > 1024, state.head * 2 > state.order.count {
                state.order.removeFirst(state.head)
                state.head = 0
            }
        }
    }

    /// What the entries cost together now.
    var totalCost: Int { state.withLock { $0.totalCost } }

    private static func evict(_ state: inout State, now: Date, bound: Int) {
        for (key, entry) in state.entries where entry.expires <= now {
            state.entries.removeValue(forKey: key)
            state.totalCost -= entry.cost
        }
        while state.totalCost > bound, state.head < state.order.count {
            let (key, sequence) = state.order[state.head]
            state.head += 1
            if let entry = state.entries[key], entry.sequence == sequence {
                state.entries.removeValue(forKey: key)
                state.totalCost -= entry.cost
            }
        }
    }
}
