/// Every number the product documentation sets, in one place.
///
/// Titles and bodies are measured in Swift `Character`s (extended grapheme
/// clusters), so "é" written as one or two scalars and a flag emoji each count as one.
public enum Limits {
    /// Longest notification title, in grapheme clusters.
    public static let titleMaxCharacters = 50
    /// Longest notification body, in grapheme clusters.
    public static let bodyMaxCharacters = 500
    /// Most groups one send may target (nested groups do not count).
    public static let groupsPerSendMax = 25
    /// Default number of group sends a tenant may make in any rolling window.
    public static let defaultGroupSendsPerWindow = 25
    /// Default number of direct sends one device may receive in any rolling window.
    public static let defaultDeviceSendsPerWindow = 10
    /// The rolling throttle window, in seconds.
    public static let throttleWindowSeconds: Double = 3600
    /// Largest APNs / FCM notification payload, in bytes.
    public static let pushPayloadMaxBytes = 4096
    /// Largest HTTP request body ingest reads, in bytes.
    public static let httpBodyMaxBytes = 64 * 1024
    /// How long an `Idempotency-Key` is remembered, in seconds.
    public static let idempotencyWindowSeconds: Double = 24 * 3600
}
