import AdminProtocol
import Testing

@Suite("Admin protocol: reply lines", .timeLimit(.minutes(2)))
struct ReplyCodecTests {
  @Test("codes are four digits and their first digit is the class")
  func codes() {
    #expect(ReplyCode.ok.description == "0000")
    #expect(ReplyCode.banner.description == "0001")
    #expect(ReplyCode.unknownCommand.description == "9001")
    #expect(ReplyCode.ok.replyClass == .done)
    #expect(ReplyCode.row.replyClass == .data)
    #expect(ReplyCode.header.replyClass == .header)
    #expect(ReplyCode.notFound.replyClass == .runtimeError)
    #expect(ReplyCode.lineTooLong.replyClass == .usageError)
    #expect(ReplyCode(rawValue: 5000)?.replyClass == .reserved)
    #expect(ReplyCode(rawValue: 10_000) == nil)
    #expect(ReplyCode(rawValue: -1) == nil)
  }

  @Test("every line but the last has '-', the last a space")
  func framing() {
    var out = ReplyBuilder()
    out.header(["USER", "WALLET"])
    out.row(["1", "50000"])
    let reply = out.finish()
    #expect(reply.encoded() == "2000-USER\tWALLET\n1000-1\t50000\n0000 ok\n")
    #expect(AdminReply.final(.notFound, "payment 7 does not exist").encoded() == "8001 payment 7 does not exist\n")
  }

  @Test("line breaks and TABs in values cannot break the framing")
  func sanitising() {
    var out = ReplyBuilder()
    out.row(["a\tb", "c\nd", "e\r\nf"])
    out.text("two\nlines")
    let reply = out.finish(.failed, "bad\nthing")
    let encoded = reply.encoded()
    #expect(encoded.split(separator: "\n").count == 3)
    #expect(reply.lines[0].cells == ["a b", "c d", "e f"])
    #expect(reply.lines[1].text == "two lines")
    #expect(reply.text == "bad thing")
  }

  @Test("a reader reassembles replies from lines and round-trips the encoder")
  func reading() throws {
    var out = ReplyBuilder()
    out.header(["A", "B"])
    out.row(["1", ""])
    out.json(#"{"ok":true}"#)
    let original = out.finish(.verifyFailed, "verify found 1 violation")
    var reader = ReplyReader()
    var decoded: [AdminReply] = []
    for line in original.encoded().split(separator: "\n") {
      if let reply = try reader.feed(line) { decoded.append(reply) }
    }
    #expect(decoded == [original])
    #expect(decoded.first?.json == #"{"ok":true}"#)
    #expect(decoded.first?.lines[1].cells == ["1", ""])
  }

  @Test("CRLF, a bare code and an empty text are accepted; garbage is not")
  func parsingEdges() throws {
    var reader = ReplyReader()
    #expect(try reader.feed("0000 ok\r")?.text == "ok")
    #expect(try reader.feed("0000")?.code == .ok)
    #expect(try reader.feed("0000 ")?.text == "")
    #expect(try reader.feed("1000-partial") == nil)
    #expect(try reader.feed("0000 done")?.lines.count == 2)
    for garbage in ["", "ok", "000 ok", "00a0 ok", "0000:ok", "HTTP/1.1 200 OK"] {
      #expect(throws: ReplyReader.Malformed.self) { try reader.feed(garbage[...]) }
    }
  }

  @Test("the banner names version, protocol and level")
  func banner() {
    #expect(AdminProtocol.bannerText(version: "0.1.0", level: .operate) == "sagad 0.1.0 proto=1 level=operate")
    #expect(PermissionLevel(name: "read") == .read)
    #expect(PermissionLevel(name: "root") == nil)
    #expect(PermissionLevel.read < .operate && PermissionLevel.operate < .admin)
  }
}
