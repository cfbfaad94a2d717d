import CSystemCalls

/// Names of Herald's own threads, as `top -H`, perf and /proc show them: `amqp-publish`,
/// `amqp-dl-publish`, `pg-deadlines`. Set through `prctl`, not Foundation's `Thread.name`: Linux
/// refuses a name longer than 15 bytes, and Foundation's setter, used from inside a new thread,
/// sometimes lost the name (the thread then kept the name of whichever thread started it, an event
/// loop's or a pool thread's).
public enum ThreadName {
    /// `prefix` and the last word of the role (`dispatcher-publish` → `publish`), cut to the 15 bytes
    /// Linux keeps.
    public static func make(_ prefix: String, role: String) -> String {
        let word = role.split(separator: "-").last.map(String.init) ?? role
        return kept(prefix + word)
    }

    /// Names the calling thread; a name longer than 15 bytes is cut to 15.
    public static func nameThisThread(_ name: String) {
        _ = herald_name_this_thread(kept(name))
    }

    /// The first 15 bytes of `name`, all Linux keeps of a thread's name.
    private static func kept(_ name: String) -> String {
        String(decoding: Array(name.utf8.prefix(15)), as: UTF8.self)
    }
}
