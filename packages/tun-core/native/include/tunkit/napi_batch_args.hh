// The N-API side of tun-core's NativeBatchDevice (src/native-tun.ts) that every platform object
// shares: drain()'s arguments as a validated PacketBatchView, the walk over sendMany()'s packets,
// and the 7 per-queue counters every stats() row starts with. Each platform's device object
// (tun-linux TunDevice, tun-windows WintunDevice, FdDeviceObject) keeps only what differs: where
// packets come from and go to. Everything here runs on the JS thread. Windows-clean C++17: the
// mingw build of tun-windows includes it.
#pragma once

#include <napi.h>

#include <atomic>
#include <cstdint>

#include "packet_batch_view.hh"

namespace tunkit {

/** options[key] as a uint32 when it is a number, else `fallback` (the baton: validated in TS). JS thread. */
inline uint32_t uintOption(const Napi::Object& object, const char* key, uint32_t fallback) {
  const Napi::Value value = object.Get(key);
  return value.IsNumber() ? value.As<Napi::Number>().Uint32Value() : fallback;
}

/**
 * Slot size of a device's channels: at least 2048 bytes (any MTU up to 2048 fits, so it can be
 * raised that far on an open device), else the MTU, at most 65535 (the largest IP packet). Why
 * not 64 KiB whatever the MTU: slots are preallocated per queue in both directions, so with
 * tun-linux's defaults (2 queues × 1024 + 1024 slots) 64 KiB slots would cost 256 MiB against
 * 8 MiB. A larger MTU is refused on an open device and a larger packet is dropped and counted.
 */
inline uint32_t slotSizeFor(uint32_t mtu) { return mtu < 2048 ? 2048 : (mtu > 65535 ? 65535 : mtu); }

/**
 * drain(buffer, offsets, lengths, meta[capacity, byteCapacity, headroom, tailroom, length,
 * bytesUsed]) as a PacketBatchView over the JS batch's memory. The constructor throws a
 * RangeError when the metadata would let native code write outside the buffers (nothing from JS
 * is trusted); after filling `view`, finish() writes length and bytesUsed back to `meta`.
 */
class DrainArgs {
 public:
  explicit DrainArgs(const Napi::CallbackInfo& info) : env_(info.Env()), meta_(info[3].As<Napi::Uint32Array>()) {
    auto buffer = info[0].As<Napi::Uint8Array>();
    auto offsets = info[1].As<Napi::Uint32Array>();
    auto lengths = info[2].As<Napi::Uint32Array>();
    if (meta_.ElementLength() < 6) throw Napi::RangeError::New(env_, "drain: meta needs 6 numbers");
    view = PacketBatchView{buffer.Data(), offsets.Data(), lengths.Data(), meta_[0], meta_[1], meta_[2], meta_[3], meta_[4], meta_[5]};
    if (view.byteCapacity > buffer.ByteLength() || view.capacity > offsets.ElementLength() ||
        view.capacity > lengths.ElementLength() || view.length > view.capacity || view.bytesUsed > view.byteCapacity) {
      throw Napi::RangeError::New(env_, "drain: PacketBatch metadata does not match its buffers");
    }
  }

  /** Packets the batch can still take. */
  uint32_t room() const { return view.capacity - view.length; }

  /** Writes the view's length and bytesUsed back to the JS batch; returns drain()'s result, `moved`. */
  Napi::Value finish(uint32_t moved) {
    meta_[4] = view.length;
    meta_[5] = view.bytesUsed;
    return Napi::Number::New(env_, moved);
  }

  PacketBatchView view;

 private:
  Napi::Env env_;
  Napi::Uint32Array meta_;
};

/**
 * sendMany(buffer, offsets, lengths, start, end): calls `send(packet, length)` for packets
 * start..end-1 in order and stops at the first that returns false (later packets must not
 * overtake a refused one); returns the number of packets taken. Throws a RangeError for an
 * `end` beyond the arrays or a packet outside the buffer, and, when `mtu` is not 0, for an empty
 * packet or one over `mtu` (for devices that do not check sizes further down).
 */
template <typename Send>
Napi::Value sendManyPackets(const Napi::CallbackInfo& info, Send&& send, uint32_t mtu = 0) {
  Napi::Env env = info.Env();
  auto buffer = info[0].As<Napi::Uint8Array>();
  auto offsets = info[1].As<Napi::Uint32Array>();
  auto lengths = info[2].As<Napi::Uint32Array>();
  const uint32_t start = info[3].As<Napi::Number>().Uint32Value();
  const uint32_t end = info[4].As<Napi::Number>().Uint32Value();
  if (end > offsets.ElementLength() || end > lengths.ElementLength()) throw Napi::RangeError::New(env, "sendMany: end beyond the batch");
  uint32_t taken = 0;
  for (uint32_t i = start; i < end; ++i) {
    const uint64_t offset = offsets[i];
    const uint32_t length = lengths[i];
    if (mtu == 0) {
      if (offset + length > buffer.ByteLength()) throw Napi::RangeError::New(env, "sendMany: packet outside the batch buffer");
    } else if (offset + length > buffer.ByteLength() || length == 0 || length > mtu) {
      throw Napi::RangeError::New(env, "sendMany: packet outside the batch buffer or the MTU");
    }
    if (!send(buffer.Data() + offset, length)) break;
    ++taken;
  }
  return Napi::Number::New(env, static_cast<double>(taken));
}

/** Counters kept as atomics (written by a device thread) or as plain numbers (JS thread only). */
template <typename T>
double statValue(const std::atomic<T>& counter) {
  return static_cast<double>(counter.load());
}
template <typename T>
double statValue(const T& counter) {
  return static_cast<double>(counter);
}

/** Numbers at the start of every stats() row: TunQueueStats's counters, in tun-core's order. */
constexpr size_t kQueueStatsFields = 7;

/**
 * Writes the 7 TunQueueStats counters of `counters` (rxPackets, rxBytes, txPackets, txBytes,
 * rxDropped, txDropped, rxStalls: the order NativeTun reads) to row[0..6]; returns row + 7, where
 * the platform's own fields follow.
 */
template <typename Counters>
double* writeQueueStats(double* row, const Counters& counters) {
  row[0] = statValue(counters.rxPackets);
  row[1] = statValue(counters.rxBytes);
  row[2] = statValue(counters.txPackets);
  row[3] = statValue(counters.txBytes);
  row[4] = statValue(counters.rxDropped);
  row[5] = statValue(counters.txDropped);
  row[6] = statValue(counters.rxStalls);
  return row + kQueueStatsFields;
}

}  // namespace tunkit
