import SagaCore
import Testing

@Suite("Spring __TypeId__ values", .timeLimit(.minutes(1)))
struct SpringTypeIdsTests {
  @Test("the report's class names under the configured package; a dotted name is taken as it is")
  func names() throws {
    let standard = SpringTypeIds.standard
    #expect(
      standard.typeId(for: .reservationCompleted)
        == "com.example.concert.shared.domain.event.ReservationCompletedKafkaEvent")
    #expect(standard.typeId(for: .compensatePayment) == SpringTypeIds.defaultPackage + ".CompensatePaymentEvent")
    let custom = try SpringTypeIds(
      package: "kr.hhplus.shared.domain.event",
      classNames: [.pointRewardFailed: "PointFailed", .compensatePayment: "kr.hhplus.payments.Compensate"])
    #expect(custom.typeId(for: .pointRewardFailed) == "kr.hhplus.shared.domain.event.PointFailed")
    #expect(custom.typeId(for: .compensatePayment) == "kr.hhplus.payments.Compensate")
    #expect(custom.typeId(for: .pointRewardCompleted) == "kr.hhplus.shared.domain.event.PointRewardCompletedEvent")
    #expect(SpringTypeIds.disabled.typeId(for: .reservationCompleted) == nil)
    #expect(!SpringTypeIds.disabled.isEnabled && standard.isEnabled)
  }

  @Test("a name that is not a Java class name is refused, naming the event")
  func refused() {
    for bad in ["", "1Event", "Bad-Name", "a..b", "with space"] {
      #expect(throws: SagaError.self, "\(bad)") {
        try SpringTypeIds(classNames: [.reservationCompleted: bad])
      }
    }
    do {
      _ = try SpringTypeIds(classNames: [.pointRewardFailed: "no-dashes"])
      Issue.record("accepted a dash")
    } catch {
      #expect(error.field == "PointRewardFailed")
    }
    #expect(throws: SagaError.self) { try SpringTypeIds(package: "com.-bad") }
  }
}
