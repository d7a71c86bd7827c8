import AdminProtocol
import Foundation
import SagaCore
import SagaTestSupport
import Testing

@testable import SagaDaemon

/// `payments --from A [--to B]`: what `sagactl load` polls, on bare databases.
@Suite("Admin: payments of an id range", .timeLimit(.minutes(1)))
struct AdminPaymentsRangeTests {
  @Test("the payments of the range in id order, the same documents as `payment`; an empty range is no error")
  func range() async throws {
    let directory = try TemporaryDirectory()
    let commands = try AdminCommands.onBareDatabases(in: directory)
    func execute(_ line: String) async throws -> AdminReply { await commands.execute(try AdminRequest.parse(line)) }
    #expect(try await execute("user add 7 --balance 100000").code == .ok)
    var ids: [Int64] = []
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    for schedule in 1...3 {
      let reply = try await execute("pay --user 7 --schedule \(schedule) --amount 1000 --json")
      let paid = try Self.decode(AdminJSON.Paid.self, reply)
      ids.append(paid.paymentId)
      // The flat encoder's `pay` reply: JSONEncoder's bytes.
      #expect(reply.json == String(decoding: try encoder.encode(paid), as: UTF8.self))
    }

    let reply = try await execute("payments --from \(ids[0]) --json")
    let all = try Self.decode(AdminJSON.Payments.self, reply)
    #expect(all.payments.map(\.paymentId) == ids)
    // Written by the flat encoder: byte for byte what JSONEncoder writes for every other reply.
    #expect(reply.json == String(decoding: try encoder.encode(all), as: UTF8.self))
    #expect(all.payments.allSatisfy { FlatJSONEncoder.encode($0) != nil }, "the flat path, not JSONEncoder's")
    let one = try Self.decode(AdminJSON.Payment.self, try await execute("payment \(ids[1]) --json"))
    #expect(all.payments[1] == one)

    let tail = try Self.decode(
      AdminJSON.Payments.self, try await execute("payments --from \(ids[1]) --to \(ids[2]) --json"))
    #expect(tail.payments.map(\.paymentId) == Array(ids[1...]))
    let none = try await execute("payments --from \(ids[2] + 1) --to \(ids[2] + 10)")
    #expect(none.code == .ok)
    #expect(none.lines.last?.text == "0 payments between \(ids[2] + 1) and \(ids[2] + 10)")

    let table = try await execute("payments --from \(ids[0])")
    #expect(table.lines.first?.cells.prefix(4) == ["PAYMENT", "USER", "AMOUNT", "STATUS"])
    #expect(table.lines.count == 1 + ids.count + 1)
  }

  @Test("a range upside down or wider than 1,000 ids is a usage error that names both ends")
  func refused() async throws {
    let directory = try TemporaryDirectory()
    let commands = try AdminCommands.onBareDatabases(in: directory)
    let wide = await commands.execute(try AdminRequest.parse("payments --from 1 --to 1001"))
    #expect(wide.code == .usage)
    #expect(wide.lines.last?.text == "--from 1 --to 1001 spans 1001 ids; at most 1000 per request")
    let upsideDown = await commands.execute(try AdminRequest.parse("payments --from 5 --to 4"))
    #expect(upsideDown.code == .usage)
    #expect(upsideDown.lines.last?.text == "--to 4 is below --from 5")
    // The default end never overflows.
    let top = await commands.execute(try AdminRequest.parse("payments --from \(Int64.max - 5)"))
    #expect(top.code == .ok)
  }

  private static func decode<T: Decodable>(_ type: T.Type, _ reply: AdminReply) throws -> T {
    let json = try #require(reply.json, "\(reply.lines.map(\.text))")
    return try JSONDecoder().decode(type, from: Data(json.utf8))
  }
}
