import CRdKafka

/// Every failure SagaKafka reports. It carries librdkafka's error code (or one of
/// librdkafka's local codes for conditions we detect ourselves), a message meant for
/// an operator, and whether repeating the operation may succeed.
public struct KafkaError: Error, Sendable, Hashable, CustomStringConvertible {
  /// A librdkafka error code (`rd_kafka_resp_err_t`), without exposing the C type.
  public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: Int32
    public init(rawValue: Int32) { self.rawValue = rawValue }

    init(_ err: rd_kafka_resp_err_t) { self.rawValue = Int32(err.rawValue) }
    var cValue: rd_kafka_resp_err_t { rd_kafka_resp_err_t(rawValue: .init(rawValue)) }

    /// librdkafka's symbolic name, e.g. `_QUEUE_FULL` or `NOT_LEADER_FOR_PARTITION`.
    public var name: String { String(cString: rd_kafka_err2name(cValue)) }
    public var description: String { name }

    public static let noError = Code(RD_KAFKA_RESP_ERR_NO_ERROR)
    public static let invalidArgument = Code(RD_KAFKA_RESP_ERR__INVALID_ARG)
    public static let invalidConfiguration = Code(RD_KAFKA_RESP_ERR__INVALID_TYPE)
    public static let queueFull = Code(RD_KAFKA_RESP_ERR__QUEUE_FULL)
    public static let timedOut = Code(RD_KAFKA_RESP_ERR__TIMED_OUT)
    public static let messageTimedOut = Code(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT)
    public static let closed = Code(RD_KAFKA_RESP_ERR__DESTROY)
    public static let state = Code(RD_KAFKA_RESP_ERR__STATE)
    public static let interrupted = Code(RD_KAFKA_RESP_ERR__INTR)
    public static let transport = Code(RD_KAFKA_RESP_ERR__TRANSPORT)
    public static let allBrokersDown = Code(RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN)
    public static let unknownTopicOrPartition = Code(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART)
    public static let unknownTopic = Code(RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC)
    public static let topicAlreadyExists = Code(RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
    public static let noOffset = Code(RD_KAFKA_RESP_ERR__NO_OFFSET)
    public static let fatal = Code(RD_KAFKA_RESP_ERR__FATAL)
    public static let notLeader = Code(RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION)
    public static let leaderNotAvailable = Code(RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE)
    public static let notEnoughReplicas = Code(RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS)
    public static let requestTimedOut = Code(RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT)
    public static let coordinatorNotAvailable = Code(RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE)
    public static let notCoordinator = Code(RD_KAFKA_RESP_ERR_NOT_COORDINATOR)
    public static let rebalanceInProgress = Code(RD_KAFKA_RESP_ERR_REBALANCE_IN_PROGRESS)
    public static let assignmentLost = Code(RD_KAFKA_RESP_ERR__ASSIGNMENT_LOST)
    public static let illegalGeneration = Code(RD_KAFKA_RESP_ERR_ILLEGAL_GENERATION)
    public static let unknownMemberId = Code(RD_KAFKA_RESP_ERR_UNKNOWN_MEMBER_ID)
  }

  /// The consumer is no longer the group member that owned the partitions (its session
  /// expired, e.g. while the brokers were unreachable): librdkafka rejoins by itself, and
  /// whoever gets the partitions next resumes from the committed offsets.
  public var isGroupMembershipLost: Bool {
    [.assignmentLost, .illegalGeneration, .unknownMemberId].contains(code)
  }

  public let code: Code
  public let message: String
  /// Repeating the same operation later may succeed (broker unreachable, leader moving…).
  public let isRetriable: Bool
  /// The client instance is unusable and must be recreated (e.g. idempotence violated).
  public let isFatal: Bool

  public init(code: Code, message: String, isRetriable: Bool? = nil, isFatal: Bool = false) {
    self.code = code
    self.message = message
    self.isRetriable = isRetriable ?? Self.retriableCodes.contains(code)
    self.isFatal = isFatal || code == .fatal
  }

  public var description: String { "\(code.name): \(message)" }

  /// Codes that describe a transient condition of the cluster or the network.
  static let retriableCodes: Set<Code> = [
    .queueFull, .timedOut, .messageTimedOut, .transport, .allBrokersDown, .notLeader,
    .leaderNotAvailable, .notEnoughReplicas, .requestTimedOut, .coordinatorNotAvailable,
    .notCoordinator, .rebalanceInProgress, .unknownTopicOrPartition,
    Code(RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION), Code(RD_KAFKA_RESP_ERR__RESOLVE),
    Code(RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS),
    Code(RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND),
    Code(RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR), Code(RD_KAFKA_RESP_ERR__WAIT_COORD),
    Code(RD_KAFKA_RESP_ERR__IN_PROGRESS), Code(RD_KAFKA_RESP_ERR__PREV_IN_PROGRESS),
  ]

  /// Codes with which librdkafka refuses a message at enqueue for what the message is:
  /// `MSG_SIZE_TOO_LARGE` (above the producer's `message.max.bytes`), an invalid topic name
  /// or argument. Repeating the same message can never succeed.
  static let unsendableCodes: Set<Code> = [
    Code(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE), Code(RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION),
    Code(RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE), Code(RD_KAFKA_RESP_ERR_INVALID_RECORD), .invalidArgument,
  ]

  /// An error from a plain librdkafka error code, with librdkafka's own description.
  static func from(_ err: rd_kafka_resp_err_t, context: String) -> KafkaError {
    let text = String(cString: rd_kafka_err2str(err))
    return KafkaError(code: Code(err), message: "\(context): \(text)")
  }

  /// An error from an `rd_kafka_error_t`, which knows its own retriable/fatal flags.
  /// Takes ownership and destroys it.
  static func consuming(_ error: OpaquePointer, context: String) -> KafkaError {
    defer { rd_kafka_error_destroy(error) }
    let code = Code(rd_kafka_error_code(error))
    let text = String(cString: rd_kafka_error_string(error))
    return KafkaError(
      code: code, message: "\(context): \(text)",
      isRetriable: rd_kafka_error_is_retriable(error) != 0 || retriableCodes.contains(code),
      isFatal: rd_kafka_error_is_fatal(error) != 0)
  }

  static func configuration(_ message: String) -> KafkaError {
    KafkaError(code: .invalidConfiguration, message: message, isRetriable: false)
  }

  static func closed(_ what: String) -> KafkaError {
    KafkaError(code: .closed, message: "\(what) is closed", isRetriable: false)
  }
}
