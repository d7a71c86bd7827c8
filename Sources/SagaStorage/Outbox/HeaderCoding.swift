import Foundation
import SagaCore

/// Header lists are stored as a JSON array of `[name, value]` pairs (the outbox's
/// `extra_headers`, the retry schedule's `headers`): order and repeated names survive, and
/// an operator can read the column with `sqlite3` or `json_each`. A value that is not UTF-8
/// text, which only a dead letter carries, is an object instead (`{"name":…,"base64":…}`,
/// or `{"name":…}` for a null value): see `HeaderJSON`.
///
/// A saga event's envelope has columns of its own (`OutboxHeaderColumns`), so its list is
/// usually `[]`; the rest is written and read by hand for that one shape (`HeaderJSON`):
/// Foundation's JSONEncoder and JSONDecoder took ~10 % of the saga's CPU when every header
/// went through them. Anything the hand-written reader does
/// not recognise (the object forms, a row someone edited, odd whitespace or escapes it
/// does not handle) is given to JSONDecoder.
enum HeaderCoding {
  static func encode(_ headers: [RecordHeader]) throws -> String {
    if headers.isEmpty { return "[]" }
    return HeaderJSON.encode(headers)
  }

  /// `row` names the row in the error: a malformed column can only come from
  /// someone editing the database by hand, who needs to find it.
  static func decode(_ text: String, row: @autoclosure () -> String, in db: some SQLConnection) throws -> [RecordHeader]
  {
    if text == "[]" { return [] }
    if let headers = HeaderJSON.decode(text) { return headers }
    guard let columns = try? JSONDecoder().decode([ColumnHeader].self, from: Data(text.utf8)) else {
      throw StorageError(
        kind: .corrupt, code: 0, path: db.location,
        message:
          "\(row()): headers are not a JSON array of [name, value] pairs and {name, base64} objects:"
          + " \(text.prefix(200))")
    }
    return columns.map(\.header)
  }

  /// One element of the column for JSONDecoder: a `[name, value]` pair, or an object with
  /// `name` and `text`, `base64` or neither (null).
  private struct ColumnHeader: Decodable {
    let header: RecordHeader

    private enum CodingKeys: String, CodingKey {
      case name, text, base64
    }

    init(from decoder: any Decoder) throws {
      if var pair = try? decoder.unkeyedContainer() {
        guard pair.count == 2 else {
          throw DecodingError.dataCorruptedError(in: pair, debugDescription: "not a [name, value] pair")
        }
        header = RecordHeader(name: try pair.decode(String.self), value: try pair.decode(String.self))
        return
      }
      let object = try decoder.container(keyedBy: CodingKeys.self)
      let name = try object.decode(String.self, forKey: .name)
      if let text = try object.decodeIfPresent(String.self, forKey: .text) {
        header = RecordHeader(name: name, value: text)
      } else if let base64 = try object.decodeIfPresent(String.self, forKey: .base64) {
        guard let data = Data(base64Encoded: base64) else {
          throw DecodingError.dataCorruptedError(forKey: .base64, in: object, debugDescription: "not base64")
        }
        header = RecordHeader(name: name, bytes: [UInt8](data))
      } else {
        header = RecordHeader(name: name, bytes: nil)
      }
    }
  }
}
