import Foundation
import SagaCore
import Testing

/// The version rules of Docs/event-catalog.md: no version = 1.0, any 1.x read, other majors rejected.
@Suite("Event versions", .timeLimit(.minutes(2)))
struct EventVersionTests {
  @Test("parses major and major.minor")
  func parse() {
    #expect(EventVersion("1") == EventVersion(major: 1, minor: 0))
    #expect(EventVersion("1.0") == EventVersion(major: 1, minor: 0))
    #expect(EventVersion("1.7") == EventVersion(major: 1, minor: 7))
    #expect(EventVersion("1.12") == EventVersion(major: 1, minor: 12))
    #expect(EventVersion("2.0") == EventVersion(major: 2, minor: 0))
    #expect(EventVersion("0.1") == EventVersion(major: 0, minor: 1))
  }

  @Test(
    "rejects anything that is not major[.minor]",
    arguments: ["", "1.", ".1", "1.0.0", "v1", "+1", "-1", " 1", "1 ", "1.a", "１", "9999999999"])
  func rejects(_ text: String) {
    #expect(EventVersion(text) == nil)
  }

  @Test("only major 1 is supported; current is 1.0")
  func supported() {
    #expect(EventVersion.current.description == "1.0")
    #expect(EventVersion("1.0")?.isSupported == true)
    #expect(EventVersion("1.99")?.isSupported == true)
    #expect(EventVersion("2.0")?.isSupported == false)
    #expect(EventVersion("0.9")?.isSupported == false)
    #expect(EventVersion("1")?.description == "1.0")
    #expect(EventVersion(major: 1, minor: 2) < EventVersion(major: 1, minor: 10))
    #expect(EventVersion(major: 1, minor: 10) < EventVersion(major: 2, minor: 0))
  }

  @Test("the body's eventVersion: absent, null, string or number")
  func bodyForms() throws {
    func version(_ field: String) throws -> EventVersion {
      let json = "{\(field)\"paymentId\":1,\"userId\":2,\"reservationId\":3,\"paidAmount\":4}"
      return try EventCodec.decode(ReservationCompleted.self, from: bytes(json)).eventVersion
    }
    #expect(try version("") == EventVersion(major: 1, minor: 0))
    #expect(try version(#""eventVersion":null,"#) == EventVersion(major: 1, minor: 0))
    #expect(try version(#""eventVersion":"1.0","#) == EventVersion(major: 1, minor: 0))
    #expect(try version(#""eventVersion":"1","#) == EventVersion(major: 1, minor: 0))
    #expect(try version(#""eventVersion":"1.7","#) == EventVersion(major: 1, minor: 7))
    #expect(try version(#""eventVersion":1,"#) == EventVersion(major: 1, minor: 0))
    #expect(try version(#""eventVersion":1.0,"#) == EventVersion(major: 1, minor: 0))
    #expect(try version(#""eventVersion":1.5,"#) == EventVersion(major: 1, minor: 5))
    #expect(throws: SagaError.self) { try version(#""eventVersion":2,"#) }
    #expect(throws: SagaError.self) { try version(#""eventVersion":"10.0","#) }
  }

  @Test("Codable form is a string and accepts numbers")
  func codable() throws {
    struct Holder: Codable, Equatable { var version: EventVersion }
    let encoded = try JSONEncoder().encode(Holder(version: EventVersion(major: 1, minor: 4)))
    #expect(String(decoding: encoded, as: UTF8.self) == #"{"version":"1.4"}"#)
    #expect(try JSONDecoder().decode(Holder.self, from: Data(#"{"version":1}"#.utf8)).version == .current)
    #expect(throws: DecodingError.self) { try JSONDecoder().decode(Holder.self, from: Data(#"{"version":"x"}"#.utf8)) }
  }
}
