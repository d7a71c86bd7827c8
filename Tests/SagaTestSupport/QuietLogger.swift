public import Logging

/// A logger for tests: only warnings and worse reach stderr, so a failing test's
/// output is about the failure.
public let quietLogger: Logger = {
  var logger = Logger(label: "test")
  logger.logLevel = .warning
  return logger
}()
