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
struct AdminLineDecoder: ByteToMessageDecoder {
  typealias InboundOut = AdminFrame

  let maximumLineLength: Int
  private var discarding = false

  init(maximumLineLength: Int = AdminProtocol.maximumLineLength) {
    self.maximumLineLength = maximumLineLength
  }

  mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
    if discarding {
      buffer.moveReaderIndex(to: buffer.writerIndex)
      return .needMoreData
    }
    let view = buffer.readableBytesView
    // Only the first limit+2 bytes can hold an acceptable newline (content, CR, LF).
    let window = view.prefix(maximumLineLength + 2)
    if let newline = window.firstIndex(of: UInt8(ascii: "\n")) {
      var content = Array(view[view.startIndex..<newline])
      if content.last == UInt8(ascii: "\r") { content.removeLast() }
      buffer.moveReaderIndex(forwardBy: newline - view.startIndex + 1)
      guard content.count <= maximumLineLength else { return overlong(context, &buffer) }
      context.fireChannelRead(wrapInboundOut(.line(content)))
      return .continue
    }
    if view.count > maximumLineLength + 1 { return overlong(context, &buffer) }
    return .needMoreData
  }

  /// At end of input, a last line without newline is still a request: `printf status |
  /// socat - UNIX-CONNECT:…` works like `echo status | …`.
  mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws
    -> DecodingState
  {
    if try decode(context: context, buffer: &buffer) == .continue { return .continue }
    if !discarding, buffer.readableBytes > 0, let rest = buffer.readBytes(length: buffer.readableBytes) {
      context.fireChannelRead(wrapInboundOut(.line(rest.last == UInt8(ascii: "\r") ? rest.dropLast() : rest)))
    }
    return .needMoreData
  }

  private mutating func overlong(_ context: ChannelHandlerContext, _ buffer: inout ByteBuffer) -> DecodingState {
    discarding = true
    buffer.moveReaderIndex(to: buffer.writerIndex)
    context.fireChannelRead(wrapInboundOut(.overlong))
    return .needMoreData
  }
}
