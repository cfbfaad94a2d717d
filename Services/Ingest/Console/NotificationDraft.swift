import HeraldCore

/// What an administrator has typed (and, in the group flow, picked) so far, read from a posted
/// form. The group flow's steps carry it forward in hidden fields, so no step needs server-side
/// state or JavaScript; the device form has only the title, the body and the submission key.
struct NotificationDraft {
    var title = ""
    var body = ""
    var groups: [String] = []
    var query = ""
    /// The idempotency key of this review: pressing Create twice makes one notification.
    var submission: String?

    init() {}

    init(form: FormData) {
        title = form["title"] ?? ""
        body = form["body"] ?? ""
        var seen = Set<String>()
        groups = form.values("group").filter { !$0.isEmpty && seen.insert($0).inserted }
        query = form["q"] ?? ""
        submission = form["submission"].flatMap { key in
            (16...64).contains(key.count) && key.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
                ? key : nil
        }
    }
}
