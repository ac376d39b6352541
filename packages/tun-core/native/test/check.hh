// The one assertion of tunkit's native tests: CHECK(condition) counts, reports a failure with its
// file and line, and carries on; checkSummary(name) prints the totals and gives main's exit code.
// Test-only: it lives beside tun-core's native tests, not in native/include (never shipped);
// other packages' native tests reach it as <tun-core's include dir>/../test. Call CHECK from the
// test's main thread only (the counters are plain ints; the ThreadSanitizer builds would see a race).
#pragma once

#include <cstdio>

namespace tunkit::testing {

inline int failures = 0;
inline int checks = 0;

/** Prints "<name>: N checks, M failed"; returns 0 when none failed, else 1. */
inline int checkSummary(const char* name) {
  std::printf("%s: %d checks, %d failed\n", name, checks, failures);
  return failures == 0 ? 0 : 1;
}

}  // namespace tunkit::testing

#define CHECK(cond)                                                                  \
  do {                                                                               \
    ++tunkit::testing::checks;                                                       \
    if (!(cond)) {                                                                   \
      ++tunkit::testing::failures;                                                   \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                                \
  } while (0)
