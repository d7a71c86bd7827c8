import AdminProtocol
import NIOCore

/// What the line decoder hands to a connection: a request line (bytes before the
/// newline), or the news that the peer exceeded the line limit.
enum AdminFrame: Sendable, Hashable {
  case line([UInt8])
  case overlong
}

/// Splits the byte stream at `\n` with a hard limit. NIO's `LineBasedFrameDecoder`
/// buffers without bound, so a peer sending megabytes without a newline would grow
/// memory; this one gives up after `maximumLineLength` bytes (plus an optional CR),
/// emits `.overlong` once and discards everything after it while the connection closes.
///
/// The lines of one read go on as one array: the server answers a lone request on the
/// connection's own task and hands pipelined ones to tasks of their own
/// (`AdminServer.pipeline`), and only the batch tells a lone request from the first of several.
struct AdminLineDecoder: ByteToMessageDecoder {
  typealias InboundOut = [AdminFrame]

  let maximumLineLength: Int
  private var discarding = false

  init(maximumLineLength: Int = AdminProtocol.maximumLineLength) {
    self.maximumLineLength = maximumLineLength
  }

  mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
    var frames: [AdminFrame] = []
    while !discarding, let frame = nextFrame(&buffer) { frames.append(frame) }
    if discarding { buffer.moveReaderIndex(to: buffer.writerIndex) }
    if !frames.isEmpty { context.fireChannelRead(wrapInboundOut(frames)) }
    return .needMoreData
  }

  /// The next complete line in `buffer`, or `.overlong` once it cannot hold one within the
  /// limit; nil when it needs more bytes.
  private mutating func nextFrame(_ buffer: inout ByteBuffer) -> AdminFrame? {
    let view = buffer.readableBytesView
    // Only the first limit+2 bytes can hold an acceptable newline (content, CR, LF).
    let window = view.prefix(maximumLineLength + 2)
    if let newline = window.firstIndex(of: UInt8(ascii: "\n")) {
      var content = Array(view[view.startIndex..<newline])
      if content.last == UInt8(ascii: "\r") { content.removeLast() }
      buffer.moveReaderIndex(forwardBy: newline - view.startIndex + 1)
      guard content.count <= maximumLineLength else { return overlong() }
      return .line(content)
    }
    if view.count > maximumLineLength + 1 { return overlong() }
    return nil
  }

  /// At end of input, a last line without newline is still a request: `printf status |
  /// socat - UNIX-CONNECT:…` works like `echo status | …`.
  mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws
    -> DecodingState
  {
    _ = try decode(context: context, buffer: &buffer)
    if !discarding, buffer.readableBytes > 0, let rest = buffer.readBytes(length: buffer.readableBytes) {
      context.fireChannelRead(wrapInboundOut([.line(rest.last == UInt8(ascii: "\r") ? rest.dropLast() : rest)]))
    }
    return .needMoreData
  }

  private mutating func overlong() -> AdminFrame {
    discarding = true
    return .overlong
  }
}
