/// Why `sagad migrate-storage` refused or failed; ArgumentParser prints it and exits 1.
struct MigrateStorageError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}
