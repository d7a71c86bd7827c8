import AdminProtocol
import Foundation
import SagaTestSupport
import Testing

/// The admin protocol as an independent client sees it: `socat` from Debian speaks to
/// the socket, and the test reads the raw bytes it printed.
@Suite("Admin protocol through socat", .timeLimit(.minutes(2)))
struct AdminTranscriptTests {
  /// Splits a raw transcript into replies: each ends at the first `DDDD text` line (a
  /// space after the code) and every line before it in the reply is `DDDD-text`.
  private func replies(_ transcript: String) -> [[String]] {
    var replies: [[String]] = []
    var current: [String] = []
    for line in transcript.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
      current.append(String(line))
      let separator = line.dropFirst(4).first
      if separator == " " {
        replies.append(current)
        current = []
      }
    }
    if !current.isEmpty { replies.append(current) }
    return replies
  }

  @Test("banner, multi-line framing and the reply classes 0, 1, 2, 8 and 9 as socat prints them")
  func socatTranscript() async throws {
    let socat = try requiredTool("socat")
    try await AdminServerHarness.with { harness in
      let input =
        [
          "user add 1 --balance 100000",
          "balance 1",
          "balance user=1 --json",
          "help 'user add'",
          "payment 42",
          "frobnicate now",
          "balance 'unterminated",
          "version",
        ].joined(separator: "\n") + "\n"
      // sagad closes the connection once it has answered a half-closed client, so socat ends
      // then; `-t` only bounds a server that does not (5 s was too short on a loaded machine).
      let result = try await run(socat, ["-t", "60", "-", "UNIX-CONNECT:" + harness.socket], input: input)
      #expect(result.status == 0, "\(result.stderr)")
      let transcript = result.stdout
      // Every line is `DDDD-` or `DDDD `: four digits, then the continuation mark.
      for line in transcript.split(separator: "\n") {
        #expect(line.count >= 5 && line.prefix(4).allSatisfy(\.isNumber), "\(line)")
        #expect(["-", " "].contains(line.dropFirst(4).first), "\(line)")
      }
      let replies = replies(transcript)
      #expect(replies.count == 9, "\(transcript)")
      guard replies.count == 9 else { return }
      #expect(replies[0] == ["0001 sagad 9.9.9 proto=1 level=admin"])
      #expect(replies[1] == ["0000 user 1 added: wallet 100000 KRW, enrolled in Points"])
      // Class 2 (header), class 1 (row), class 0 (done), in that order.
      #expect(replies[2] == ["2000-USER\tWALLET KRW\tPOINTS", "1000-1\t100000\t0", "0000 ok"])
      #expect(replies[3] == ["1002-{\"points\":0,\"userId\":1,\"wallet\":100000}", "0000 ok"])
      #expect(replies[4].first == "1001-usage: user add <id> [--balance N] [--no-points]")
      #expect(replies[4].count > 2)
      #expect(replies[5] == ["8001 payment 42 does not exist"])
      #expect(replies[6].count == 1 && replies[6][0].hasPrefix("9001 "))
      #expect(replies[7].count == 1 && replies[7][0].hasPrefix("9003 "))
      #expect(replies[8] == ["0000 sagad 9.9.9 proto=1"])
    }
  }

  @Test("a request without a final newline is still answered when socat half-closes")
  func lastLineWithoutNewline() async throws {
    let socat = try requiredTool("socat")
    try await AdminServerHarness.with { harness in
      let result = try await run(socat, ["-t", "60", "-", "UNIX-CONNECT:" + harness.socket], input: "version")
      #expect(result.stdout == "0001 sagad 9.9.9 proto=1 level=admin\n0000 sagad 9.9.9 proto=1\n")
    }
  }
}
