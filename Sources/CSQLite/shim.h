#include <sqlite3.h>

// What Swift cannot call in SQLite's API: the variadic sqlite3_config, and the
// SQLITE_TRANSIENT destructor (a cast macro). Docs/storage-engines.md, "SQLite's hot path".

/// Turns off SQLite's process-wide memory statistics. With them on (the default) every
/// allocation SQLite makes takes one global mutex, which sagad's two writers and the readers
/// then contend for. Only valid before SQLite initialises (the first open); later it returns
/// SQLITE_MISUSE and changes nothing.
static inline int sagad_sqlite3_disable_memory_statistics(void) {
  return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/// Binds `length` bytes of UTF-8 at `text`, copied by SQLite. An empty string binds '', never
/// NULL (a null pointer would bind NULL).
static inline int sagad_sqlite3_bind_text(sqlite3_stmt *statement, int index, const char *text, int length) {
  return sqlite3_bind_text(statement, index, length == 0 ? "" : text, length, SQLITE_TRANSIENT);
}

/// Binds `length` bytes at `bytes`, copied by SQLite. An empty blob binds X'', never NULL.
static inline int sagad_sqlite3_bind_blob(sqlite3_stmt *statement, int index, const void *bytes, int length) {
  if (length == 0) return sqlite3_bind_zeroblob(statement, index, 0);
  return sqlite3_bind_blob(statement, index, bytes, length, SQLITE_TRANSIENT);
}
