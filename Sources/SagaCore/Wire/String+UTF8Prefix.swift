extension String {
  /// The longest prefix of whole characters within `limit` UTF-8 bytes: for names a peer caps by
  /// bytes and refuses when longer (a Linux thread name, 15; a PostgreSQL channel, 63).
  public func prefix(utf8Bytes limit: Int) -> String {
    var cut = ""
    for character in self where cut.utf8.count + character.utf8.count <= limit { cut.append(character) }
    return cut
  }
}
