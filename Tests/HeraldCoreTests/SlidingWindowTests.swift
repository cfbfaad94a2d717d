import Foundation
import HeraldCore
import Testing

@Suite struct SlidingWindowTests {
    let base = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func fitsUntilTheLimit() {
        let rule = SlidingWindow(limit: 3, window: 3600)
        #expect(rule.roomOpens(recent: [], at: base) == nil)
        #expect(rule.roomOpens(recent: [base, base], at: base) == nil)
        #expect(rule.roomOpens(recent: [base, base, base], at: base) == base.addingTimeInterval(3600))
    }

    @Test func isRollingNotFixedHourBuckets() {
        // 25 sends at 10:59 leave no room at 11:01; room opens at 11:59.
        let rule = SlidingWindow(limit: 25, window: 3600)
        let at1059 = base.addingTimeInterval(59 * 60)
        let sends = Array(repeating: at1059, count: 25)
        #expect(rule.roomOpens(recent: sends, at: base.addingTimeInterval(61 * 60)) == at1059.addingTimeInterval(3600))
        #expect(rule.roomOpens(recent: sends, at: at1059.addingTimeInterval(3600)) == nil)
    }

    @Test func roomOpensWhenEnoughOldSendsLeave() {
        let rule = SlidingWindow(limit: 2, window: 100)
        let sends = [base, base.addingTimeInterval(10), base.addingTimeInterval(20)]
        // Three in the window with a limit of two: two must leave, so the second-oldest decides.
        #expect(rule.roomOpens(recent: sends, at: base.addingTimeInterval(30)) == base.addingTimeInterval(110))
    }
}
