/// Events, envelope, codec, topic catalog, retry policy and reward rule live here
/// (Docs/architecture.md, "Modules"). This module does no I/O and imports Foundation only.
public enum SagaCore {
  /// The product version, reported by `--version`, the admin banner and `sagad_build_info`.
  public static let version = "0.1.0"
}
