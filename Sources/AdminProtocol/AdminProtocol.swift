/// The admin line protocol shared by the server in `sagad` and the `sagactl` client
/// (DESIGN.md §6). It links nothing heavy: no GRDB, no librdkafka.
public enum AdminProtocol {
  /// Protocol revision announced in the connection banner (`proto=1`).
  public static let protocolVersion = 1
  /// Version of the tools built from this tree; kept equal to `SagaCore.version`.
  public static let toolVersion = "0.1.0"
}
