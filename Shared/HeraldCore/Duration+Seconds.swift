extension Duration {
    /// The duration in seconds, as a floating-point number (for `Thread.sleep`, rates, reports).
    public var inSeconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
