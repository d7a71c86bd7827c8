import Foundation
import GRDB

/// Headers are stored as a JSON array of `[name, value]` pairs: order and repeated
/// names survive, and an operator can read the column with `sqlite3` or `json_each`.
///
/// Every event written to and read from the outbox goes through here, so both ways are
/// written by hand for that one shape (`HeaderJSON`): Foundation's JSONEncoder and
/// JSONDecoder took ~10 % of the saga's CPU for it. Anything the hand-written reader does
/// not recognise (a row someone edited, odd whitespace or escapes it does not handle) is
/// given to JSONDecoder, so what is accepted and what is refused did not change.
enum HeaderCoding {
  static func encode(_ headers: [OutboxHeader]) throws -> String {
    if headers.isEmpty { return "[]" }
    return HeaderJSON.encode(headers)
  }

  /// `row` names the row in the error: a malformed column can only come from
  /// someone editing the database by hand, who needs to find it.
  static func decode(_ text: String, row: @autoclosure () -> String, in db: Database) throws -> [OutboxHeader] {
    if text == "[]" { return [] }
    if let headers = HeaderJSON.decode(text) { return headers }
    let pairs = try? JSONDecoder().decode([[String]].self, from: Data(text.utf8))
    guard let pairs, pairs.allSatisfy({ $0.count == 2 }) else {
      throw StorageError(
        kind: .corrupt, code: ResultCode.SQLITE_CORRUPT.rawValue, path: SagaDatabase.path(of: db),
        message: "\(row()): headers are not a JSON array of [name, value] pairs: \(text.prefix(200))")
    }
    return pairs.map { OutboxHeader(name: $0[0], value: $0[1]) }
  }
}
