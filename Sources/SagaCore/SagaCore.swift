/// Events, envelope, codec, topic catalog, retry policy and reward rule live here
/// (DESIGN.md §5). This module does no I/O and imports Foundation only.
public enum SagaCore {
  /// The product version, reported by `--version`, the admin banner and `sagad_build_info`.
  public static let version = "0.1.0"
}
