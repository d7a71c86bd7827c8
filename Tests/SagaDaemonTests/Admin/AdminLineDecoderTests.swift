import NIOCore
import NIOEmbedded
import Testing

@testable import SagaDaemon

/// The admin socket's line decoder: the lines of one read go on together (the server tells a
/// lone request from pipelined ones by that), a line cut between reads waits for its end, and
/// a line over the limit ends the input.
@Suite("AdminLineDecoder")
struct AdminLineDecoderTests {
  @Test("the complete lines of one read arrive as one batch; a line cut between reads comes with its end")
  func batchesPerRead() throws {
    let channel = try Self.channel()
    try channel.writeInbound(ByteBuffer(string: "pay 1\r\npay 2\npay 3\nbal"))
    #expect(
      try channel.readInbound(as: [AdminFrame].self) == [Self.line("pay 1"), Self.line("pay 2"), Self.line("pay 3")])
    #expect(try channel.readInbound(as: [AdminFrame].self) == nil, "the cut line waits")
    try channel.writeInbound(ByteBuffer(string: "ance 7\n"))
    #expect(try channel.readInbound(as: [AdminFrame].self) == [Self.line("balance 7")])
    try channel.writeInbound(ByteBuffer(string: "status"))
    _ = try channel.finish()
  }

  @Test("a last line without a newline is a request at the end of input")
  func lastLineAtEnd() throws {
    let channel = try Self.channel()
    try channel.writeInbound(ByteBuffer(string: "version\nstatus"))
    #expect(try channel.readInbound(as: [AdminFrame].self) == [Self.line("version")])
    channel.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
    #expect(try channel.readInbound(as: [AdminFrame].self) == [Self.line("status")])
    _ = try channel.finish()
  }

  @Test("lines before an over-long one go on with it; nothing after it does")
  func overlong() throws {
    let channel = try Self.channel(maximumLineLength: 8)
    try channel.writeInbound(ByteBuffer(string: "version\n0123456789\nstatus\n"))
    #expect(try channel.readInbound(as: [AdminFrame].self) == [Self.line("version"), .overlong])
    try channel.writeInbound(ByteBuffer(string: "status\n"))
    #expect(try channel.readInbound(as: [AdminFrame].self) == nil)
    _ = try channel.finish()
  }

  private static func channel(maximumLineLength: Int = 64) throws -> EmbeddedChannel {
    let channel = EmbeddedChannel()
    try channel.pipeline.syncOperations.addHandler(
      ByteToMessageHandler(AdminLineDecoder(maximumLineLength: maximumLineLength)))
    return channel
  }

  private static func line(_ text: String) -> AdminFrame { .line(Array(text.utf8)) }
}
