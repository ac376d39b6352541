// Stress test of BatchChannel under ThreadSanitizer: 4 producer threads x 1,000,000 packets into
// one consumer thread that drains into a PacketBatchView (batch of 100). Checks the exact count,
// per-producer FIFO, coalesced notifies, and that the full-lane and space-hook paths are taken.
// Producers 0 and 1 retry refused pushes by yielding; producers 2 and 3 use reserve/commit and
// sleep on their space hook, as a TUN queue thread does with its eventfd.
#include <tunkit/batch_channel.hh>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <thread>
#include <vector>

using tunkit::BatchChannel;
using tunkit::PacketBatchView;

namespace {

constexpr uint32_t kProducers = 4;
constexpr uint64_t kPerProducer = 1000000;
constexpr uint32_t kBatch = 100;

struct Signal {
  std::mutex mutex;
  std::condition_variable cv;
  bool raised = false;
  void raise() {
    std::lock_guard<std::mutex> lock(mutex);
    raised = true;
    cv.notify_one();
  }
  void wait() {
    std::unique_lock<std::mutex> lock(mutex);
    cv.wait(lock, [this] { return raised; });
    raised = false;
  }
};

void fail(const char* what) {
  std::fprintf(stderr, "batch_channel_stress: FAIL: %s\n", what);
  std::exit(1);
}

}  // namespace

int main() {
  const auto started = std::chrono::steady_clock::now();
  Signal consumerSignal;
  std::vector<Signal> spaceSignals(kProducers);
  BatchChannel channel(kProducers, 256, 64, [&] { consumerSignal.raise(); });
  for (uint32_t lane = 0; lane < kProducers; ++lane) channel.setSpaceHook(lane, [&, lane] { spaceSignals[lane].raise(); });

  // A watchdog: a lost wake-up would hang; fail loudly instead.
  std::atomic<bool> finished{false};
  std::thread watchdog([&] {
    for (int i = 0; i < 1200 && !finished.load(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    if (!finished.load()) fail("no progress for 120 s: a wake-up was lost");
  });

  std::atomic<uint64_t> refusals{0};
  std::atomic<uint64_t> spaceWaits{0};
  std::vector<std::thread> producers;
  for (uint32_t id = 0; id < kProducers; ++id) {
    producers.emplace_back([&, id] {
      uint8_t packet[40];
      for (uint64_t seq = 0; seq < kPerProducer; ++seq) {
        const uint32_t size = 16 + static_cast<uint32_t>(seq % 24);
        std::memcpy(packet, &id, sizeof id);
        std::memcpy(packet + 4, &seq, sizeof seq);
        std::memset(packet + 12, static_cast<int>(seq & 0xff), size - 12);
        if (id < 2) {
          while (!channel.push(id, packet, size)) {
            refusals.fetch_add(1, std::memory_order_relaxed);
            std::this_thread::yield();
          }
        } else {
          uint8_t* slot;
          while ((slot = channel.reserve(id)) == nullptr) {
            refusals.fetch_add(1, std::memory_order_relaxed);
            spaceWaits.fetch_add(1, std::memory_order_relaxed);
            spaceSignals[id].wait();
          }
          std::memcpy(slot, packet, size);
          channel.commit(id, size);
        }
      }
    });
  }

  // The consumer: wait for a notify, drain batches until empty, repeat.
  std::vector<uint8_t> buffer(kBatch * 64);
  std::vector<uint32_t> offsets(kBatch), lengths(kBatch);
  std::vector<uint64_t> expected(kProducers, 0);
  uint64_t received = 0;
  uint64_t drains = 0;
  const uint64_t total = kProducers * kPerProducer;
  while (received < total) {
    PacketBatchView view{buffer.data(), offsets.data(), lengths.data(), kBatch, static_cast<uint32_t>(buffer.size()), 0, 0, 0, 0};
    const uint32_t n = channel.drainInto(view, kBatch);
    ++drains;
    if (n == 0) {
      consumerSignal.wait();
      continue;
    }
    if (view.length != n) fail("view.length differs from the count returned");
    for (uint32_t i = 0; i < n; ++i) {
      const uint8_t* p = buffer.data() + offsets[i];
      uint32_t id;
      uint64_t seq;
      std::memcpy(&id, p, sizeof id);
      std::memcpy(&seq, p + 4, sizeof seq);
      if (id >= kProducers) fail("corrupt producer id");
      if (seq != expected[id]) fail("per-producer FIFO broken (gap, duplicate or reorder)");
      if (lengths[i] != 16 + seq % 24) fail("wrong packet length");
      for (uint32_t b = 12; b < lengths[i]; ++b) {
        if (p[b] != static_cast<uint8_t>(seq & 0xff)) fail("corrupt payload");
      }
      ++expected[id];
    }
    received += n;
  }
  for (auto& t : producers) t.join();
  finished.store(true);
  watchdog.join();

  PacketBatchView empty{buffer.data(), offsets.data(), lengths.data(), kBatch, static_cast<uint32_t>(buffer.size()), 0, 0, 0, 0};
  if (channel.drainInto(empty, kBatch) != 0) fail("packets left after all were received");
  if (received != total) fail("wrong total");
  if (refusals.load() == 0) fail("no lane was ever full: the bound was not exercised");
  if (spaceWaits.load() == 0) fail("the space-hook path was not exercised");
  if (channel.notifies() > drains + 1) fail("more notifies than drains: wake-ups are not coalesced");
  uint64_t laneRefused = 0;
  for (uint32_t lane = 0; lane < kProducers; ++lane) laneRefused += channel.laneStats(lane).refused;
  if (laneRefused != refusals.load()) fail("refusal counters disagree");

  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf(
      "batch_channel_stress: ok: %llu packets from %u producers in order; %llu drains, %llu notifies, %llu refusals "
      "(%llu space waits); %.1f s under TSan (%.2f M packets/s)\n",
      static_cast<unsigned long long>(received), kProducers, static_cast<unsigned long long>(drains),
      static_cast<unsigned long long>(channel.notifies()), static_cast<unsigned long long>(refusals.load()),
      static_cast<unsigned long long>(spaceWaits.load()), seconds, received / seconds / 1e6);
  return 0;
}
