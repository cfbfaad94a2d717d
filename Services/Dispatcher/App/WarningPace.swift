/// Paces a repeated warning to once a minute at most, so an outage does not flood the log.
struct WarningPace {
    private var last: ContinuousClock.Instant?

    /// Whether the warning is due now; if so, the next one is a minute away.
    mutating func isDue() -> Bool {
        let now = ContinuousClock.now
        guard last.map({ now - $0 >= .seconds(60) }) ?? true else { return false }
        last = now
        return true
    }
}
