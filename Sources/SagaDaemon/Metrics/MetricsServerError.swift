/// The metrics endpoint could not start (the address is taken, or not this host's).
struct MetricsServerError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}
