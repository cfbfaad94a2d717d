import AMQP
public import Foundation
public import HeraldCore
public import Logging
public import Store

/// What a caller asks to send, before any rule is checked.
public struct SendCommand: Sendable {
    public var title: String
    public var body: String
    public var target: NotificationTarget
    /// `Idempotency-Key`, if the caller sent one.
    public var idempotencyKey: String?
    /// A hash of what the key must always come with (method, path and body).
    public var requestHash: String?
    /// How the API names the fields, for error messages (`title` or `notificationTitle`…).
    public var fieldNames: FieldNames = .v1

    public init(
        title: String,
        body: String,
        target: NotificationTarget,
        idempotencyKey: String? = nil,
        requestHash: String? = nil,
        fieldNames: FieldNames = .v1
    ) {
        self.title = title
        self.body = body
        self.target = target
        self.idempotencyKey = idempotencyKey
        self.requestHash = requestHash
        self.fieldNames = fieldNames
    }

    /// Field names of one API shape.
    public struct FieldNames: Sendable {
        public var title: String, body: String, groups: String, device: String
        /// The route whose fields these are, as the audit trail records it.
        public var route: SendRoute
        public static let v1 = FieldNames(title: "title", body: "body", groups: "groupIds", device: "deviceId", route: .api)
        public static let graph = FieldNames(
            title: "notificationTitle",
            body: "notificationBody",
            groups: "groupsToNotify",
            device: "managedDeviceId",
            route: .graph
        )
        /// The admin console's form fields.
        public static let console = FieldNames(title: "title", body: "body", groups: "groups", device: "device", route: .console)
    }
}

/// An accepted send.
public struct SendReceipt: Sendable, Equatable {
    public var notificationId: String
    /// True when an earlier request with the same `Idempotency-Key` was answered instead.
    public var replayed: Bool

    /// Where the notification's status is read (`Location` of the answer).
    package var statusPath: String { "/v1/notifications/\(notificationId)" }
}

/// The one path every send takes, from the API and the console alike: authorize,
/// validate every rule, honour the idempotency key, publish with a confirm, record status.
public struct SendService: Sendable {
    let directory: any DirectoryStore
    let statuses: any StatusStore
    let idempotency: any IdempotencyStore
    let publisher: any RequestPublisher
    /// Per-caller sends per second (`HERALD_INGEST_RATE`); nil: no limit.
    let rateLimiter: CallerRateLimiter?

    public init(
        directory: any DirectoryStore,
        statuses: any StatusStore,
        idempotency: any IdempotencyStore,
        publisher: any RequestPublisher,
        rateLimit: CallerRateLimit? = nil
    ) {
        self.directory = directory
        self.statuses = statuses
        self.idempotency = idempotency
        self.publisher = publisher
        self.rateLimiter = rateLimit.map(CallerRateLimiter.init(limit:))
    }

    /// Sends for `caller` within a request: logs under the request's id, and records how the send
    /// ended for `ErrorMiddleware` to count.
    /// - Parameter device: the target device, when it was read with the caller (`requireCaller(_:device:)`).
    package func send(
        _ command: SendCommand,
        as caller: Caller,
        device: DeviceLookup? = nil,
        in context: some SendingRequestContext
    ) async throws(APIError)
        -> SendReceipt
    {
        try await context.outcome.recording { () async throws(APIError) in
            try await send(command, as: caller, device: device, logger: context.logger)
        }
    }

    /// Sends for `caller`; returns once the broker holds the request durably.
    /// - Parameters:
    ///   - device: the target device, when it was read with the caller; else it is read here.
    ///   - logger: the request's logger (it carries `request.id`).
    public func send(
        _ command: SendCommand,
        as caller: Caller,
        device: DeviceLookup? = nil,
        logger: Logger,
        now: Date = Date()
    ) async throws(APIError) -> SendReceipt {
        let names = command.fieldNames
        // First, before any store is asked anything: a caller over its rate costs next to nothing.
        if let rateLimiter, let wait = rateLimiter.admit(tenantId: caller.tenantId, principalId: caller.principalId, now: now) {
            throw APIError.rateLimited(retryAfter: wait, limit: rateLimiter.limit)
        }
        switch command.target {
        case .groups: try caller.require(.organizationUpdate)
        case .device: try caller.require(.sendCustomNotifications)
        }
        if let problem = Self.textProblems(title: command.title, body: command.body, names: names).first { throw problem }
        let target = try await checkTarget(command.target, tenantId: caller.tenantId, known: device, names: names)

        var notificationId = NotificationID.make(at: now)
        if let key = command.idempotencyKey {
            let decision: IdempotencyDecision
            do {
                decision = try await idempotency.reserve(
                    tenantId: caller.tenantId,
                    key: key,
                    requestHash: command.requestHash ?? "",
                    candidateId: notificationId,
                    now: now
                )
            } catch {
                throw APIError.storeUnavailable()
            }
            switch decision {
            case .proceed(let id), .resume(let id):
                notificationId = id
            case .replay(let id):
                return SendReceipt(notificationId: id, replayed: true)
            case .conflict:
                throw APIError(
                    .conflict,
                    code: .idempotencyConflict,
                    detail: "Idempotency-Key was already used with a different request body",
                    field: "Idempotency-Key"
                )
            case .inProgress:
                throw APIError(
                    .conflict,
                    code: .idempotencyInProgress,
                    detail: "a request with this Idempotency-Key is still being processed; retry shortly",
                    field: "Idempotency-Key",
                    retryAfterSeconds: 1
                )
            }
        }

        let request = NotificationRequest(
            id: notificationId,
            tenantId: caller.tenantId,
            principalId: caller.principalId,
            target: target,
            title: command.title,
            body: command.body,
            acceptedAt: now,
            route: names.route,
            tokenId: caller.tokenId
        )
        // Named in each line logged, not set on a copy of the logger: a line not logged (info, at
        // the default warning level) then costs nothing; setting them took ~1% of ingest's CPU per
        // send, profiled under wrk.
        let id = notificationId
        let tenantId = caller.tenantId
        func ids(_ more: Logger.Metadata) -> Logger.Metadata {
            more.merging(["notification.id": "\(id)", "tenant.id": "\(tenantId)"]) { $1 }
        }
        let started = ContinuousClock.now
        do {
            try await publisher.publish(request)
        } catch {
            logger.warning(
                "request not accepted: the broker did not take it, or did not confirm it in time",
                metadata: ids(["error": "\(error)"])
            )
            if let key = command.idempotencyKey {
                // Leave the key claimed with this id, marked free to resume: a retry re-publishes
                // the same notification id, so a publish that did reach the broker is not doubled.
                try? await idempotency.release(tenantId: caller.tenantId, key: key)
            }
            throw APIError.brokerUnavailable(error)
        }
        IngestMetrics.publishConfirmed(since: started)

        do {
            try await statuses.recordAccepted(
                NotificationStatus(
                    id: notificationId,
                    tenantId: caller.tenantId,
                    kind: target.kind,
                    status: .accepted,
                    acceptedAt: now,
                    initiator: request.initiator,
                    targets: target
                )
            )
        } catch {
            // The broker holds the request, so it is accepted; the dispatcher writes the status.
            logger.warning("status record not written; the dispatcher will write it", metadata: ids(["error": "\(error)"]))
        }
        if let key = command.idempotencyKey {
            try? await idempotency.complete(tenantId: caller.tenantId, key: key)
        }
        logger.info("notification accepted", metadata: ids(["notification.kind": "\(target.kind.rawValue)"]))
        return SendReceipt(notificationId: notificationId, replayed: false)
    }

    /// Every rule the title and body break: the title's, the body's, and (when both are fine on
    /// their own) the payload size. `send` refuses with the first; a form shows them all.
    package static func textProblems(title: String, body: String, names: SendCommand.FieldNames) -> [APIError] {
        var problems: [APIError] = []
        do throws(RuleViolation) { try Validation.validateTitle(title, field: names.title) } catch {
            problems.append(.unprocessable(error))
        }
        do throws(RuleViolation) { try Validation.validateBody(body, field: names.body) } catch { problems.append(.unprocessable(error)) }
        if problems.isEmpty {
            do throws(RuleViolation) {
                try Validation.validatePayloadSize(title: title, body: body, field: names.body)
            } catch {
                problems.append(.unprocessable(error))
            }
        }
        return problems
    }

    /// Checks the target exists in the caller's tenant and can receive; another tenant's id is
    /// answered exactly like an unknown one.
    /// - Parameter known: the device of a device send, if it was read already.
    package func checkTarget(
        _ target: NotificationTarget,
        tenantId: String,
        known: DeviceLookup? = nil,
        names: SendCommand.FieldNames
    ) async throws(APIError) -> NotificationTarget {
        switch target {
        case .groups(let raw):
            let ids: [String]
            do throws(RuleViolation) {
                ids = try Validation.normalizeGroupIds(raw, field: names.groups)
            } catch {
                throw APIError.unprocessable(error)
            }
            let found: Set<String>
            do { found = try await directory.existingGroups(tenantId: tenantId, groupIds: ids) } catch { throw APIError.storeUnavailable() }
            let missing = ids.filter { !found.contains($0) }
            if !missing.isEmpty {
                let list = missing.map { "\"\($0)\"" }.joined(separator: ", ")
                throw APIError.notFound("unknown group id: \(list)", field: names.groups, cause: .unknownGroups(missing))
            }
            return .groups(ids)
        case .device(let id):
            let device: Device?
            if let known, known.id == id {
                device = known.device
            } else {
                do { device = try await directory.device(tenantId: tenantId, deviceId: id) } catch { throw APIError.storeUnavailable() }
            }
            guard let device else {
                throw APIError.notFound("unknown device id: \"\(id)\"", field: names.device, cause: .unknownDevice)
            }
            if let reason = Eligibility.acceptanceFailure(for: device) {
                let detail =
                    reason == .unsupportedPlatform
                    ? "custom notifications are not supported on \(device.platform.displayName) devices; only iOS, iPadOS and Android devices can receive them"
                    : reason.explanation
                throw APIError.unprocessable(detail, field: names.device, cause: .ineligible(reason))
            }
            return .device(id)
        }
    }
}
