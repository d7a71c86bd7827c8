import SagaCore

/// An outbox row's headers as columns: the seven envelope headers (Docs/event-catalog.md) in
/// `event_id` … `occurred_at`, everything else in `extra_headers` (`HeaderJSON`'s list).
/// The relay then reads seven strings per saga event instead of decoding JSON, and an
/// operator or a query (the Points saga timeline) reads `event_id` as a column.
///
/// The split is by shape, so that it is the same for a new row and for a row migrated from
/// the single `headers` column: a list that starts with the seven envelope names, in their
/// order, with text values, has them in the columns; any other list (a dead letter's
/// original headers with a binary value, a message without an envelope) stays whole in
/// `extra_headers`. Either way `Outbox.pending` rebuilds the list in its original order
/// (the seven, then the extras), byte for byte.
struct OutboxHeaderColumns: Sendable, Hashable {
  /// The seven values in `HeaderName.envelope` order, or nil when the row has no envelope.
  var envelope: [String]?
  var extras: [RecordHeader]

  /// The column names, in `HeaderName.envelope` order.
  static let envelopeColumns = [
    "event_id", "event_type", "event_version", "traceparent", "correlation_id", "producer", "occurred_at",
  ]

  init(splitting headers: [RecordHeader]) {
    let names = HeaderName.envelope
    guard headers.count >= names.count else {
      self.init(envelope: nil, extras: headers)
      return
    }
    var values: [String] = []
    values.reserveCapacity(names.count)
    for (header, name) in zip(headers, names) {
      guard header.name == name, case .text(let text) = header.content else {
        self.init(envelope: nil, extras: headers)
        return
      }
      values.append(text)
    }
    self.init(envelope: values, extras: Array(headers.dropFirst(names.count)))
  }

  init(envelope: [String]?, extras: [RecordHeader]) {
    self.envelope = envelope
    self.extras = extras
  }
}
