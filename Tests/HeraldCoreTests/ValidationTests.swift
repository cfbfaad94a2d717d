import HeraldCore
import Testing

@Suite struct ValidationTests {
    @Test func titleCountsGraphemeClustersNotScalars() throws {
        // 50 family emoji: 50 Characters but hundreds of scalars and bytes.
        let family = "👨‍👩‍👧‍👦"
        try Validation.validateTitle(String(repeating: family, count: 50))
        #expect(throws: RuleViolation.self) { try Validation.validateTitle(String(repeating: family, count: 51)) }
        // "é" as e + combining accent is one Character.
        try Validation.validateTitle(String(repeating: "e\u{301}", count: 50))
    }

    @Test func titleAndBodyLimitsAreFiftyAndFiveHundred() throws {
        try Validation.validateTitle(String(repeating: "a", count: 50))
        try Validation.validateBody(String(repeating: "a", count: 500))
        let title = #expect(throws: RuleViolation.self) { try Validation.validateTitle(String(repeating: "a", count: 51)) }
        #expect(title?.field == "title")
        #expect(title?.message.contains("50") == true)
        let body = #expect(throws: RuleViolation.self) { try Validation.validateBody(String(repeating: "a", count: 501)) }
        #expect(body?.field == "body")
    }

    @Test(arguments: ["", " ", "\n\t ", "\u{3000}"])
    func blankTextCountsAsEmpty(_ text: String) {
        #expect(throws: RuleViolation.self) { try Validation.validateTitle(text) }
        #expect(throws: RuleViolation.self) { try Validation.validateBody(text) }
    }

    @Test func controlCharactersAreRefusedExceptNewlinesInTheBody() throws {
        try Validation.validateBody("line one\nline two\r\nthree")
        #expect(throws: RuleViolation.self) { try Validation.validateTitle("two\nlines") }
        #expect(throws: RuleViolation.self) { try Validation.validateBody("nul\u{0}byte") }
        #expect(throws: RuleViolation.self) { try Validation.validateBody("bell\u{7}") }
        #expect(throws: RuleViolation.self) { try Validation.validateTitle("tab\there") }
    }

    /// A character is refused exactly when Unicode calls it a control (category Cc), over every
    /// scalar of the Basic Multilingual Plane and the next.
    @Test func exactlyTheUnicodeControlCharactersAreRefused() {
        for value in UInt32(0)..<0x2_0000 {
            guard let scalar = Unicode.Scalar(value), scalar != "\n", scalar != "\r" else { continue }
            let text = "a" + String(Character(scalar)) + "b"
            let refused = (try? Validation.validateBody(text)) == nil
            #expect(refused == (scalar.properties.generalCategory == .control), "U+\(String(value, radix: 16))")
        }
    }

    @Test func groupIdsCollapseDuplicatesAndAllowTwentyFive() throws {
        #expect(try Validation.normalizeGroupIds(["a", "b", "a"]) == ["a", "b"])
        let twentyFive = (1...25).map { "g\($0)" }
        #expect(try Validation.normalizeGroupIds(twentyFive + twentyFive) == twentyFive)
        #expect(throws: RuleViolation.self) { try Validation.normalizeGroupIds(twentyFive + ["g26"]) }
        #expect(throws: RuleViolation.self) { try Validation.normalizeGroupIds([]) }
        #expect(throws: RuleViolation.self) { try Validation.normalizeGroupIds(["ok", " "]) }
    }

    @Test func payloadOverFourKilobytesIsRefused() throws {
        // 500 characters of 4-byte scalars plus a long title stays under 4096 bytes…
        try Validation.validatePayloadSize(title: String(repeating: "𝒜", count: 50), body: String(repeating: "𝒜", count: 500))
        // …but 500 grapheme clusters of combining marks do not.
        let heavy = String(repeating: "a" + String(repeating: "\u{301}", count: 10), count: 500)
        try Validation.validateBody(heavy)
        #expect(throws: RuleViolation.self) { try Validation.validatePayloadSize(title: "t", body: heavy) }
    }
}

@Suite struct EligibilityTests {
    static func device(
        _ platform: Platform,
        enrolled: Bool = true,
        portal: Bool = true,
        allowed: Bool = true,
        gms: Bool = true,
        token: String? = "tok"
    ) -> Device {
        Device(
            id: "d",
            tenantId: "t",
            userId: "u",
            platform: platform,
            enrolled: enrolled,
            companyPortalInstalled: portal,
            notificationsAllowed: allowed,
            googlePlayServices: gms,
            pushToken: token
        )
    }

    @Test func eachRuleHasItsReason() {
        #expect(Eligibility.skipReason(for: Self.device(.ios, gms: false)) == nil)
        #expect(Eligibility.skipReason(for: Self.device(.ipados, gms: false)) == nil)
        #expect(Eligibility.skipReason(for: Self.device(.android)) == nil)
        #expect(Eligibility.skipReason(for: Self.device(.macos)) == .unsupportedPlatform)
        #expect(Eligibility.skipReason(for: Self.device(.windows)) == .unsupportedPlatform)
        #expect(Eligibility.skipReason(for: Self.device(.ios, enrolled: false)) == .notEnrolled)
        #expect(Eligibility.skipReason(for: Self.device(.ios, portal: false)) == .companyPortalMissing)
        #expect(Eligibility.skipReason(for: Self.device(.android, allowed: false)) == .notificationsDisabled)
        #expect(Eligibility.skipReason(for: Self.device(.android, gms: false)) == .googlePlayServicesMissing)
        #expect(Eligibility.skipReason(for: Self.device(.ios, token: nil)) == .noPushToken)
        #expect(Eligibility.skipReason(for: Self.device(.ios, token: "")) == .noPushToken)
    }

    @Test func acceptanceChecksOnlyPlatformAndEnrollment() {
        #expect(Eligibility.acceptanceFailure(for: Self.device(.windows)) == .unsupportedPlatform)
        #expect(Eligibility.acceptanceFailure(for: Self.device(.android, enrolled: false)) == .notEnrolled)
        #expect(Eligibility.acceptanceFailure(for: Self.device(.android, allowed: false)) == nil)
    }
}
