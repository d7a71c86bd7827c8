import AdminProtocol
import Foundation

/// Sends one request and prints the reply: tables aligned for people, or the JSON
/// document as sagad sent it. Errors go to stderr; the exit status follows the class of
/// the final reply line.
enum ReplyPrinter {
  /// Returns the exit status: 0 done, 1 runtime error or no connection, 2 usage error.
  static func exchange(_ request: AdminRequest, socket: String, timeout: Duration) -> Int32 {
    let reply: AdminReply
    do {
      let client = try AdminClient(socketPath: socket, timeout: timeout)
      defer { client.close() }
      reply = try client.send(request)
    } catch {
      if let rejected = error.reply {
        printError(rejected)
      } else {
        FileHandle.standardError.write(Data("sagactl: \(error.message)\n".utf8))
      }
      return 1
    }
    if request.json {
      if let json = reply.json { print(json) }
    } else {
      printHuman(reply.body)
    }
    switch reply.code.replyClass {
    case .done:
      if !request.json, reply.text != "ok" { print(reply.text) }
      return 0
    case .usageError:
      printError(reply)
      return 2
    case .runtimeError, .data, .header, .reserved:
      printError(reply)
      return 1
    }
  }

  private static func printError(_ reply: AdminReply) {
    FileHandle.standardError.write(Data("error \(reply.code): \(reply.text)\n".utf8))
  }

  /// Text and JSON lines as they are; each run of header and row lines as one table with
  /// aligned columns (the last column is not padded, it is often free text).
  static func printHuman(_ lines: ArraySlice<ReplyLine>) {
    var table: [[String]] = []
    func flush() {
      guard !table.isEmpty else { return }
      let columns = table.map(\.count).max() ?? 0
      let widths = (0..<columns).map { column in table.map { column < $0.count ? $0[column].count : 0 }.max() ?? 0 }
      for row in table {
        let padded = row.enumerated().map { index, cell in
          index == row.count - 1 ? cell : cell.padding(toLength: widths[index], withPad: " ", startingAt: 0)
        }
        print(padded.joined(separator: "  "))
      }
      table.removeAll()
    }
    for line in lines {
      switch line.code.replyClass {
      case .header:
        flush()
        table.append(line.cells)
      case .data where line.code == .row:
        table.append(line.cells)
      default:
        flush()
        print(line.text)
      }
    }
    flush()
  }
}
