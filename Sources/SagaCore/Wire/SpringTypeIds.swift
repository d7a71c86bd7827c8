/// The `__TypeId__` header values sagad writes so that Spring Kafka consumers can read its
/// events (Docs/event-catalog.md, "Running beside the Spring services").
///
/// Spring's `JsonDeserializer`, configured as the report's services are (no default type, no
/// type mapping), takes the Java class to build from this header and fails inside `poll()`
/// without it: a record without the header stops the Spring consumer's partition. The value
/// must name a class on the Spring service's class path, so the package and the names are
/// settings (`spring.type_package`, `spring.type_id.*`).
public struct SpringTypeIds: Sendable, Hashable {
  /// The report's class names, one per event.
  public static let reportClassNames: [EventType: String] = [
    .reservationCompleted: "ReservationCompletedKafkaEvent",
    .pointRewardCompleted: "PointRewardCompletedEvent",
    .pointRewardFailed: "PointRewardFailedEvent",
    .compensatePayment: "CompensatePaymentEvent",
    .compensationFailed: "CompensationFailedEvent",
  ]
  /// The report keeps its events in `shared/domain/event/` under a root it does not name:
  /// a placeholder root, to be set to the Spring services' own package.
  public static let defaultPackage = "com.example.concert.shared.domain.event"

  /// The report's names under ``defaultPackage``: what sagad writes unless configured.
  public static let standard = SpringTypeIds(
    values: reportClassNames.mapValues { defaultPackage + "." + $0 })

  /// Off: no `__TypeId__` is written (for peers that configure a default type instead).
  public static let disabled = SpringTypeIds(values: [:])

  /// The header value per event type; an event without one gets no header.
  public let values: [EventType: String]

  private init(values: [EventType: String]) {
    self.values = values
  }

  /// - Parameters:
  ///   - package: prefixed to every name without a dot.
  ///   - classNames: per event, a simple name (prefixed with `package`) or a fully
  ///     qualified one; events not named keep the report's name.
  /// - Throws: `invalid-value` naming the event whose name is not a Java class name.
  public init(package: String = defaultPackage, classNames: [EventType: String] = [:]) throws(SagaError) {
    guard package.isEmpty || Self.isQualifiedName(package) else {
      throw SagaError(.invalidValue, "'\(package)' is not a Java package name", field: "package")
    }
    var values: [EventType: String] = [:]
    for type in EventType.allCases {
      let name = classNames[type] ?? Self.reportClassNames[type] ?? type.rawValue
      guard Self.isQualifiedName(name) else {
        throw SagaError(.invalidValue, "'\(name)' is not a Java class name", field: type.rawValue)
      }
      values[type] = name.contains(".") || package.isEmpty ? name : package + "." + name
    }
    self.values = values
  }

  /// The header value for `type`, nil when disabled.
  public func typeId(for type: EventType) -> String? { values[type] }

  public var isEnabled: Bool { !values.isEmpty }

  /// Dot-separated Java identifiers (letters, digits, `_`, `$`; not starting with a digit).
  private static func isQualifiedName(_ text: String) -> Bool {
    let parts = text.split(separator: ".", omittingEmptySubsequences: false)
    return !parts.isEmpty
      && parts.allSatisfy { part in
        guard let first = part.first, !first.isNumber else { return false }
        return part.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "$" }
      }
  }
}
