import Testing

@testable import AdminProtocol

@Suite("Admin protocol: request lines", .timeLimit(.minutes(2)))
struct RequestParsingTests {
  private func texts(_ line: String) throws -> [String] { try RequestLine.words(line).map(\.text) }

  @Test("a line with nothing quoted splits on its bytes exactly as the scalar parser splits it")
  func plainLinesAsScalars() throws {
    let lines = [
      "pay user=7 reservation=9 amount=50000 key=k-1 --json", "  pay\tuser=7   --json=false  ", "", " \t ",
      "a=b=c =x -- --x=1 Key=1 k_1-x=é", "user add 3 --initial-balance 100", "é\u{301}=1 a \u{301}b =\u{301}",
      "payments --from 1 --to 1000 --json", "--", "x= =",
    ]
    for line in lines {
      let plain = try #require(RequestLine.plainWords(line), "\(line)")
      #expect(plain == (try RequestLine.scalarWords(line)), "\(line)")
    }
    #expect(RequestLine.plainWords("a 'b'") == nil && RequestLine.plainWords(#"a \ b"#) == nil)
  }

  private func failure(_ line: String) -> AdminProtocolError? {
    do {
      _ = try AdminRequest.parse(line)
      return nil
    } catch {
      return error
    }
  }

  @Test("shell-style words: blanks, single and double quotes, backslashes")
  func quoting() throws {
    #expect(try texts("  pay   --user\t1  ") == ["pay", "--user", "1"])
    #expect(try texts("a 'b c' \"d e\"") == ["a", "b c", "d e"])
    #expect(try texts(#"a'b c'd"#) == ["ab cd"])
    #expect(try texts(#"'it'\''s'"#) == ["it's"])
    #expect(try texts(#""say \"hi\" \\ \n""#) == [#"say "hi" \ \n"#])
    #expect(try texts(#"'\n' a\ b \"x"#) == [#"\n"#, "a b", #""x"#])
    #expect(try texts("'' \"\"") == ["", ""])
    #expect(try texts("seat '한국 A-1'") == ["seat", "한국 A-1"])
    #expect(try texts("") == [])
    // A combining mark right after a quote does not hide the quote in one grapheme.
    #expect(try texts("a'\u{301}' b") == ["a\u{301}", "b"])
  }

  @Test("unterminated quotes and a trailing backslash are 9003, not crashes")
  func badQuoting() {
    for line in ["balance 'x", "balance \"x", #"balance x\"#, "'", "\"", #""\""#, #"a "b\" c"#] {
      #expect(failure(line)?.code == .badQuoting, "\(line)")
    }
  }

  @Test("quoting makes -- and = plain text")
  func quotedSpecials() throws {
    let words = try RequestLine.words(#"--json '--json' user=1 'user=1' us'er=1' a=b=c =x"#)
    #expect(words.map(\.isOption) == [true, false, false, false, false, false, false])
    #expect(words.map(\.key) == [nil, nil, "user", nil, nil, "a", nil])
    #expect(words[5].value == "b=c")
  }

  @Test("decode: length limit, UTF-8 and control characters")
  func decoding() throws {
    #expect(try RequestLine.decode(Array("status\r".utf8)) == "status")
    #expect(try RequestLine.decode(Array("a\tb".utf8)) == "a\tb")
    let limit = AdminProtocol.maximumLineLength
    #expect(try RequestLine.decode([UInt8](repeating: 0x61, count: limit)).utf8.count == limit)
    #expect(throws: AdminProtocolError(.lineTooLong, "request line of 4097 bytes; the limit is 4096")) {
      try RequestLine.decode([UInt8](repeating: 0x61, count: limit + 1))
    }
    for bad: [UInt8] in [[0xFF, 0xFE], [0x61, 0x00, 0x62], [0x1B, 0x5B, 0x41], [0x7F], [0xC3]] {
      #expect(throws: AdminProtocolError.self) { try RequestLine.decode(bad) }
      #expect((try? RequestLine.decode(bad)) == nil)
      do {
        _ = try RequestLine.decode(bad)
      } catch {
        #expect(error.code == .badEncoding)
      }
    }
  }

  @Test("positional, --name value, --name=value and name=value are the same request")
  func argumentForms() throws {
    let expected = AdminRequest(.pay, ["user": .integer(1), "schedule": .integer(2), "amount": .integer(50_000)])
    for line in [
      "pay --user 1 --schedule 2 --amount 50000", "pay user=1 schedule=2 amount=50000",
      "pay --amount=50000 schedule=2 --user 1", "pay  --user '1' --schedule \"2\" amount=50000",
    ] {
      #expect(try AdminRequest.parse(line) == expected, "\(line)")
    }
    #expect(
      try AdminRequest.parse("charge 1 100") == AdminRequest(.charge, ["user": .integer(1), "amount": .integer(100)]))
    #expect(
      try AdminRequest.parse("charge amount=100 1")
        == AdminRequest(.charge, ["user": .integer(1), "amount": .integer(100)]))
    #expect(try AdminRequest.parse("user add 7 --no-points").flag("no-points"))
    #expect(try AdminRequest.parse("user add 7 no-points=false").flag("no-points") == false)
    #expect(try AdminRequest.parse("balance 1 --json").json)
    #expect(try AdminRequest.parse("balance 1 json=1").json)
    #expect(try AdminRequest.parse("help user add").words("command") == ["user", "add"])
    #expect(try AdminRequest.parse("pay --user 1 --schedule 2 --amount 5 --seat --A").text("seat") == "--A")
    #expect(try AdminRequest.parse("charge 1 -- -5").integer("amount") == -5)
  }

  @Test("bad arguments are 9000 with the usage; unknown commands 9001")
  func usageErrors() {
    let cases: [(String, ReplyCode, String)] = [
      ("frob", .unknownCommand, "unknown command 'frob'"),
      ("user frob 1", .unknownCommand, "user commands: user add"),
      ("--json", .unknownCommand, "unknown command"),
      ("", .usage, "empty request"),
      ("   ", .usage, "empty request"),
      ("balance", .usage, "missing <user>; usage: balance <user>"),
      ("balance x", .usage, "'x' is not an integer"),
      ("balance 99999999999999999999", .usage, "is not an integer"),
      ("balance 1 2", .usage, "unexpected word '2'"),
      ("balance 1 user=2", .usage, "user given twice"),
      ("balance 1 --frob", .usage, "unknown option --frob"),
      ("balance 1 frob=2", .usage, "unknown argument frob="),
      ("pay --user 1 --schedule 2", .usage, "missing --amount"),
      ("pay --user 1 --schedule 2 --amount", .usage, "--amount needs a value"),
      ("user add 1 --no-points=maybe", .usage, "not true or false"),
      ("version --json=perhaps", .usage, "not true or false"),
    ]
    for (line, code, fragment) in cases {
      let error = failure(line)
      #expect(error?.code == code, "\(line)")
      #expect(error?.message.contains(fragment) == true, "\(line): \(error?.message ?? "parsed")")
    }
  }

  @Test("quote leaves words of plain characters bare (ASCII or not) and quotes the rest so they parse back")
  func quoteForClients() throws {
    for bare in [
      "pay", "A-12", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "user@host:5/a_b.c,d%e+f", "좌석7",
      "Grüße",
    ] {
      #expect(RequestLine.quote(bare) == bare)
    }
    for word in ["", "--json", "a b", "it's", "a=b", "tab\there", "x\"y", "$HOME", "a;b", "ü\u{301}'", "\\"] {
      let quoted = RequestLine.quote(word)
      #expect(quoted.hasPrefix("'"), "\(word)")
      #expect(try RequestLine.words(quoted).map(\.text) == [word], "\(word) as \(quoted)")
    }
  }

  @Test("a client's line parses back to the same request, whatever the values hold")
  func roundTrip() throws {
    let requests = [
      AdminRequest(.version),
      AdminRequest(.pay, ["user": .integer(1), "schedule": .integer(2), "amount": .integer(3)], json: true),
      AdminRequest(
        .pay, ["user": .integer(1), "schedule": .integer(2), "amount": .integer(3), "seat": .text("A 'x'=\"1\"")]),
      AdminRequest(
        .pay, ["user": .integer(-1), "schedule": .integer(2), "amount": .integer(3), "seat": .text("--json")]),
      AdminRequest(.pay, ["user": .integer(1), "schedule": .integer(2), "amount": .integer(3), "seat": .text("")]),
      AdminRequest(.userAdd, ["id": .integer(5), "balance": .integer(100), "no-points": .flag(true)]),
      AdminRequest(.charge, ["user": .integer(1), "amount": .integer(-5)]),
      AdminRequest(.help, ["command": .words(["user", "add"])]),
      AdminRequest(.saga, ["payment": .integer(9)]),
    ]
    for request in requests {
      #expect(try AdminRequest.parse(request.line) == request, "\(request.line)")
    }
    #expect(AdminRequest(.userAdd, ["id": .integer(5), "balance": .integer(100)]).line == "user add 5 --balance 100")
  }

  @Test("every command has a level, a summary and a usage line starting with its name")
  func catalog() {
    for command in AdminCommand.allCases {
      #expect(command.usage.hasPrefix(command.rawValue))
      #expect(!command.summary.isEmpty)
      #expect(command.isMutating == (command.level > .read))
    }
    #expect(AdminCommand.pay.usage == "pay --user U --schedule S [--seat N] --amount A [--traceparent TP]")
    #expect(AdminCommand.userAdd.usage == "user add <id> [--balance N] [--no-points]")
    #expect(
      Set(AdminCommand.allCases.filter(\.isMutating)) == [
        .userAdd, .charge, .pay, .dltReplay, .dltDiscard, .outboxDiscard, .logLevel, .drain, .shutdown,
        .compensationsRetry,
        .compensationsResolve, .failpointSet, .failpointClear, .pause, .resume, .restart,
      ])
  }
}
