import SagaDaemon

/// The executable stays thin: everything lives in SagaDaemon, where tests can reach it.
@main
enum Sagad {
  static func main() async {
    await SagadCommand.main()
  }
}
