import Foundation

/// A secret kept in a file of its own (a password, a key's passphrase), so that it is in neither
/// the configuration nor the environment nor a process listing: Kafka's SASL and TLS passwords,
/// PostgreSQL's password.
enum SecretFile {
  /// The first line of the file at `path`, without its line ending; `key` names the setting in
  /// the error when the file cannot be read or holds nothing.
  static func read(_ path: String, key: String) throws(DaemonConfiguration.Invalid) -> String {
    guard let data = FileManager.default.contents(atPath: path) else {
      throw .init(key: key, reason: "cannot read \(path)")
    }
    let text = String(decoding: data, as: UTF8.self)
    let line = text.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
    let secret = line.trimmingCharacters(in: CharacterSet(charactersIn: "\r"))
    guard !secret.isEmpty else { throw .init(key: key, reason: "\(path) is empty") }
    return secret
  }
}
