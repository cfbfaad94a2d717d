/// The console's cookies, all scoped to `/console`.
enum ConsoleCookie {
    /// The session: an opaque secret whose hash keys the session row.
    static let session = "herald_session"
    /// The sign-in form's nonce, matched against its hidden field.
    static let login = "herald_login"
    /// The language the visitor picked.
    static let language = "herald_lang"
}
