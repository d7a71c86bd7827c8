import AdminProtocol
import Foundation
import Testing

/// The exact bytes of `--json` documents as sagad writes them (sorted keys, slashes kept):
/// scripts parse them, so how nil optionals are encoded must never change by accident.
@Suite("Admin protocol: JSON documents", .timeLimit(.minutes(2)))
struct AdminJSONEncodingTests {
  /// The encoder settings of sagad's `AdminCommands.json`.
  private func encoded(_ document: some Encodable) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(document), as: UTF8.self)
  }

  private func decoded<T: Decodable>(_ type: T.Type, _ text: String) throws -> T {
    try JSONDecoder().decode(type, from: Data(text.utf8))
  }

  private let summary = AdminJSON.DeadLetterSummary(
    id: 7, status: "pending", topic: "payment.completed.DLT", partition: 0, offset: 3, originalTopic: nil,
    originalPartition: nil, originalOffset: nil, reason: "invalid-json: bad", reasonCode: "invalid-json",
    failureClass: nil, attempts: nil, firstSeenAt: "2025-01-02T03:04:05.678Z", replayCount: 0)

  @Test("nil optionals are written as null, set ones as their value")
  func nullsAndValues() throws {
    #expect(
      try encoded(AdminJSON.Balance(userId: 1, wallet: nil, points: nil))
        == #"{"points":null,"userId":1,"wallet":null}"#)
    #expect(
      try encoded(AdminJSON.Balance(userId: 1, wallet: 100_000, points: 0))
        == #"{"points":0,"userId":1,"wallet":100000}"#)
    let payment = AdminJSON.Payment(
      paymentId: 3, userId: 1, reservationId: 30, scheduleId: 2, seat: nil, amount: 50_000, status: "PAID",
      reservationStatus: "RESERVED", rewardAmount: nil, refundedAmount: 50_000, failureReason: "a/b \"c\"",
      correlationId: "c-1", createdAt: "2025-01-02T03:04:05.678Z", updatedAt: "2025-01-02T03:04:06.000Z")
    #expect(
      try encoded(payment)
        == #"{"amount":50000,"correlationId":"c-1","createdAt":"2025-01-02T03:04:05.678Z","#
        + #""failureReason":"a/b \"c\"","paymentId":3,"refundedAmount":50000,"reservationId":30,"#
        + #""reservationStatus":"RESERVED","rewardAmount":null,"scheduleId":2,"seat":null,"status":"PAID","#
        + #""updatedAt":"2025-01-02T03:04:06.000Z","userId":1}"#)
    let step = AdminJSON.Saga.Step(
      at: "2025-01-02T03:04:05.678Z", step: "PAID", topic: nil, partition: 2, offset: nil, eventId: nil,
      outcome: "applied", service: "points")
    #expect(
      try encoded(AdminJSON.Saga(paymentId: 3, steps: [step]))
        == #"{"paymentId":3,"steps":[{"at":"2025-01-02T03:04:05.678Z","eventId":null,"offset":null,"#
        + #""outcome":"applied","partition":2,"service":"points","step":"PAID","topic":null}]}"#)
  }

  @Test("nested documents: status with and without kafka, workers, relays, outbox, tasks")
  func status() throws {
    let worker = AdminJSON.Worker(
      name: "points-reward", assignedPartitions: 3, applied: 10, duplicates: 1, failed: 0, retries: 2, batches: 4,
      lastError: nil, parked: 5, oneStatementBatches: 3, oneStatementFallbacks: 1, isolatedReruns: 2,
      storageUnavailable: "connection refused")
    let relay = AdminJSON.Relay(
      name: "payments-outbox", sent: 5, failedAttempts: 1, lastError: "timed out",
      lease: AdminJSON.Relay.Lease(held: true, listening: false, announcementsHeard: 7, announcedRounds: 1),
      readRounds: 3, handedRounds: 2)
    let outbox = AdminJSON.Outbox(service: "payments", pending: 0, oldestPendingSeconds: nil)
    let task = AdminJSON.Task(
      name: "points-reward", kind: "consumer", state: "backoff", restarts: 1, lastError: "broker down",
      lastErrorAt: nil, nextStartAt: "2025-01-02T03:04:05.678Z")
    let bare = AdminJSON.Status(
      version: "9.9.9", roles: ["payments"], workers: [worker], relays: [relay], outbox: [outbox], tasks: [task])
    #expect(
      try encoded(bare)
        == #"{"deadLettersPending":0,"kafka":null,"openCompensations":0,"outbox":[{"oldestPendingSeconds":null,"#
        + #""pending":0,"service":"payments"}],"relays":[{"failedAttempts":1,"handedRounds":2,"#
        + #""lastError":"timed out","lease":{"announcedRounds":1,"announcementsHeard":7,"held":true,"#
        + #""listening":false},"#
        + #""name":"payments-outbox","readRounds":3,"sent":5}],"roles":["payments"],"storage":null,"#
        + #""stuckSagas":0,"tasks":[{"kind":"consumer","#
        + #""lastError":"broker down","lastErrorAt":null,"name":"points-reward","#
        + #""nextStartAt":"2025-01-02T03:04:05.678Z","restarts":1,"state":"backoff"}],"version":"9.9.9","#
        + #""workers":[{"applied":10,"assignedPartitions":3,"batches":4,"duplicates":1,"failed":0,"#
        + #""isolatedReruns":2,"lastError":null,"name":"points-reward","oneStatementBatches":3,"#
        + #""oneStatementFallbacks":1,"parked":5,"retries":2,"storageUnavailable":"connection refused"}]}"#)
    let kafka = AdminJSON.Kafka(
      bootstrapServers: ["127.0.0.1:9092"], reachable: true,
      brokers: [AdminJSON.Kafka.Broker(id: 1, host: "127.0.0.1", port: 9092)], answeredBy: nil,
      lastAnswerSecondsAgo: 0.25, lastCheckSecondsAgo: nil, lastError: nil)
    let full = AdminJSON.Status(
      version: "9.9.9", roles: [], workers: [], relays: [],
      outbox: [AdminJSON.Outbox(service: "points", pending: 2, oldestPendingSeconds: 1.5)], stuckSagas: 1,
      openCompensations: 2, deadLettersPending: 3, kafka: kafka,
      storage: AdminJSON.Storage(
        engine: "postgres", location: "postgres://sagad@db:5432/sagad?sslmode=require", reachable: true,
        lastError: nil, instance: "sagad@a:1", instances: ["sagad@a:1", "sagad@b:2"],
        leases: [
          AdminJSON.Storage.Lease(name: "relay payments", holder: "sagad@b:2", heldHere: false),
          AdminJSON.Storage.Lease(name: "sweeper payments", holder: nil, heldHere: false),
        ]))
    #expect(
      try encoded(full)
        == #"{"deadLettersPending":3,"kafka":{"answeredBy":null,"bootstrapServers":["127.0.0.1:9092"],"#
        + #""brokers":[{"host":"127.0.0.1","id":1,"port":9092}],"clusterId":null,"lastAnswerSecondsAgo":0.25,"#
        + #""lastCheckSecondsAgo":null,"lastError":null,"reachable":true},"openCompensations":2,"#
        + #""outbox":[{"oldestPendingSeconds":1.5,"pending":2,"service":"points"}],"relays":[],"roles":[],"#
        + #""storage":{"engine":"postgres","instance":"sagad@a:1","instances":["sagad@a:1","sagad@b:2"],"#
        + #""lastError":null,"leases":[{"heldHere":false,"holder":"sagad@b:2","name":"relay payments"},"#
        + #"{"heldHere":false,"holder":null,"name":"sweeper payments"}],"#
        + #""location":"postgres://sagad@db:5432/sagad?sslmode=require","reachable":true},"#
        + #""stuckSagas":1,"tasks":[],"version":"9.9.9","workers":[]}"#)
  }

  @Test("dead letters: the summary's fields sit flat beside the details; replays and pages")
  func deadLetters() throws {
    let letter = AdminJSON.DeadLetter(
      summary: summary, originalTimestamp: nil, originalConsumerGroup: "points-service", errorType: nil,
      eventId: nil, key: "1", value: nil, valueBytes: 12, headers: [AdminJSON.DeadLetterHeader(name: "h", value: "v")],
      replayTopic: "payment.completed", replayOf: "payment.completed.DLT-0@3", lastReplayedAt: nil,
      discardedAt: nil, discardNote: nil)
    let text = try encoded(letter)
    #expect(
      text
        == #"{"attempts":null,"discardNote":null,"discardedAt":null,"errorType":null,"eventId":null,"#
        + #""failureClass":null,"firstSeenAt":"2025-01-02T03:04:05.678Z","headers":[{"name":"h","value":"v"}],"#
        + #""id":7,"key":"1","lastReplayedAt":null,"offset":3,"origin":null,"originalConsumerGroup":"points-service","#
        + #""originalOffset":null,"originalPartition":null,"originalTimestamp":null,"originalTopic":null,"#
        + #""partition":0,"reason":"invalid-json: bad","reasonCode":"invalid-json","replayCount":0,"#
        + #""replayOf":"payment.completed.DLT-0@3","replayTopic":"payment.completed","status":"pending","#
        + #""topic":"payment.completed.DLT","value":null,"valueBytes":12}"#)
    #expect(try decoded(AdminJSON.DeadLetter.self, text) == letter)
    #expect(
      try encoded(AdminJSON.DeadLetters(deadLetters: [], nextAfter: nil)) == #"{"deadLetters":[],"nextAfter":null}"#)
    let replay = AdminJSON.DeadLetterReplay(
      dryRun: true, replayed: 0, failed: 0, alreadyReplayed: 1, error: nil,
      entries: [
        AdminJSON.DeadLetterReplay.Entry(
          id: 7, topic: "payment.completed", key: nil, replayOf: "x", previousReplays: 1, outcome: "would-replay")
      ])
    #expect(
      try encoded(replay)
        == #"{"alreadyReplayed":1,"dryRun":true,"entries":[{"id":7,"key":null,"outcome":"would-replay","#
        + #""previousReplays":1,"replayOf":"x","topic":"payment.completed"}],"error":null,"failed":0,"replayed":0}"#)
  }

  @Test("operations documents: compensations, stuck sagas, failpoints, lag")
  func operations() throws {
    let compensation = AdminJSON.Compensation(
      paymentId: 4, userId: 1, amount: 10, reasonCode: "user-not-found", reason: "no wallet", since: "t0",
      status: "open", resolvedAt: nil, resolvedBy: nil, note: nil)
    #expect(
      try encoded(compensation)
        == #"{"amount":10,"note":null,"paymentId":4,"reason":"no wallet","reasonCode":"user-not-found","#
        + #""resolvedAt":null,"resolvedBy":null,"since":"t0","status":"open","userId":1}"#)
    #expect(
      try encoded(AdminJSON.CompensationRetry(paymentId: 4, result: "refunded", amount: 10, reason: nil))
        == #"{"amount":10,"paymentId":4,"reason":null,"result":"refunded"}"#)
    let stuck = AdminJSON.StuckSaga(
      paymentId: 4, userId: 1, amount: 10, status: "PAID", state: "republishing", republished: 2,
      lastRepublishedAt: "t1", reportedAt: nil, since: "t0", correlationId: "c")
    #expect(
      try encoded(stuck)
        == #"{"amount":10,"correlationId":"c","lastRepublishedAt":"t1","paymentId":4,"reason":null,"#
        + #""reportedAt":null,"republished":2,"since":"t0","state":"republishing","status":"PAID","userId":1}"#)
    let failpoint = AdminJSON.Failpoint(
      name: "db.commit", action: "crash", trigger: "probability", count: nil, remaining: nil, probability: 0.5,
      hits: 3, fired: 1)
    #expect(
      try encoded(AdminJSON.Failpoints(enabled: true, failpoints: [failpoint]))
        == #"{"enabled":true,"failpoints":[{"action":"crash","count":null,"fired":1,"hits":3,"name":"db.commit","#
        + #""probability":0.5,"remaining":null,"trigger":"probability"}]}"#)
    let partition = AdminJSON.Lag.Partition(
      group: "points-service", role: "partner", topic: "payment.completed", partition: 1, lag: 5, committed: nil,
      highWatermark: 5, neverCommitted: true, status: "NO-OFFSET", samples: 2, consumer: "none", source: "broker")
    #expect(
      try encoded(AdminJSON.Lag(status: "OK", window: 10, partitions: [partition]))
        == #"{"partitions":[{"committed":null,"consumer":"none","group":"points-service","highWatermark":5,"lag":5,"#
        + #""neverCommitted":true,"partition":1,"role":"partner","samples":2,"source":"broker","status":"NO-OFFSET","#
        + #""topic":"payment.completed"}],"status":"OK","window":10}"#)
  }

  @Test("documents decode with null, and with the optional keys left out (an older sagad)")
  func decoding() throws {
    #expect(
      try decoded(AdminJSON.Balance.self, #"{"points":null,"userId":1,"wallet":5}"#)
        == AdminJSON.Balance(userId: 1, wallet: 5, points: nil))
    #expect(
      try decoded(AdminJSON.Balance.self, #"{"userId":1}"#) == AdminJSON.Balance(userId: 1, wallet: nil, points: nil))
    #expect(
      try decoded(AdminJSON.Relay.self, #"{"failedAttempts":0,"name":"r","sent":1}"#)
        == AdminJSON.Relay(name: "r", sent: 1, failedAttempts: 0, lastError: nil))
    #expect(
      try decoded(
        AdminJSON.Relay.self,
        #"{"failedAttempts":0,"handedRounds":4,"lastError":null,"lease":null,"name":"r","readRounds":5,"sent":1}"#)
        == AdminJSON.Relay(name: "r", sent: 1, failedAttempts: 0, lastError: nil, readRounds: 5, handedRounds: 4))
    // A lease from a sagad that did not count the rounds read by id.
    #expect(
      try decoded(AdminJSON.Relay.Lease.self, #"{"announcementsHeard":3,"held":true,"listening":true}"#)
        == AdminJSON.Relay.Lease(held: true, listening: true, announcementsHeard: 3, announcedRounds: 0))
    // A worker from a sagad that did not report its parked records, batch writes or storage wait.
    #expect(
      try decoded(
        AdminJSON.Worker.self,
        #"{"applied":2,"assignedPartitions":1,"batches":1,"duplicates":0,"failed":0,"lastError":null,"#
          + #""name":"points","retries":0}"#)
        == AdminJSON.Worker(
          name: "points", assignedPartitions: 1, applied: 2, duplicates: 0, failed: 0, retries: 0, batches: 1,
          lastError: nil))
    #expect(
      try decoded(AdminJSON.Verify.self, #"{"ok":true,"violations":[]}"#) == AdminJSON.Verify(ok: true, violations: []))
    // A required key is still required.
    #expect(throws: DecodingError.self) { try decoded(AdminJSON.Balance.self, #"{"wallet":5}"#) }
    let summary = try decoded(
      AdminJSON.DeadLetterSummary.self,
      #"{"firstSeenAt":"t","id":7,"offset":3,"partition":0,"reason":"r","replayCount":0,"status":"pending","#
        + #""topic":"x.DLT"}"#)
    #expect(summary.originalTopic == nil && summary.attempts == nil && summary.id == 7)
  }
}
