// A deliberate data race. The test run expects ThreadSanitizer to report it (exit code 66):
// proof that the stress test's silence means "no race", not "TSan was not active".
#include <cstdio>
#include <thread>

int shared = 0;

int main() {
  std::thread a([] { for (int i = 0; i < 100000; ++i) ++shared; });
  std::thread b([] { for (int i = 0; i < 100000; ++i) ++shared; });
  a.join();
  b.join();
  std::printf("%d\n", shared);
  return 0;
}
