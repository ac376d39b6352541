// UdpSocket: a non-blocking UDP socket driven from the JS thread in batches: recv() fills a whole
// PacketBatch with one recvmmsg (with UDP GRO, a message may carry several datagrams, split back
// into packets of the batch), send() sends a whole batch with one sendmmsg (and UDP GSO for runs
// of equal-size datagrams to one destination). Readiness comes from a libuv poll handle on the
// fd, so no thread and no copy through a ring: datagrams land straight in the batch's memory.
// Every method runs on the JS thread (OnPoll too: libuv calls it from the loop).
#pragma once

#include <napi.h>
#include <uv.h>

#include <cstdint>
#include <vector>

namespace tunkit::wireguard {

/**
 * The datagrams of one coalesced (UDP GRO) message that did not fit the previous batch: bytes
 * [start, end) of `bytes`, `segment` bytes each (the last may be shorter), all from `from` (20-byte
 * address form). Delivered first by the next recv, so nothing received is lost to a full batch.
 */
struct PendingDatagrams {
  std::vector<uint8_t> bytes;  // 64 KiB, allocated once when GRO is on
  uint32_t start = 0;
  uint32_t end = 0;
  uint32_t segment = 0;
  uint8_t from[20] = {};
};

class UdpSocket : public Napi::ObjectWrap<UdpSocket> {
 public:
  static Napi::Function Define(Napi::Env env);
  /** new UdpSocket({ address, port, ipv6, bufferBytes, gso, gro }, onReady). Throws with errno/syscall; leaks nothing. JS thread. */
  explicit UdpSocket(const Napi::CallbackInfo& info);
  ~UdpSocket() override;

 private:
  /** port() → the bound port. JS thread. */
  Napi::Value Port(const Napi::CallbackInfo& info);
  /** recv(...) → datagrams received, one recvmmsg. JS thread. */
  Napi::Value Recv(const Napi::CallbackInfo& info);
  /** gro() → whether the kernel accepted UDP_GRO (so recv may split coalesced messages). JS thread. */
  Napi::Value Gro(const Napi::CallbackInfo& info);
  /** send(...) → [taken, errors, messages], sendmmsg. JS thread. */
  Napi::Value Send(const Napi::CallbackInfo& info);
  /** poll(readable, writable): arm the one-shot readiness callback. JS thread. */
  Napi::Value Poll(const Napi::CallbackInfo& info);
  /** close(). Idempotent. JS thread. */
  Napi::Value Close(const Napi::CallbackInfo& info);
  /** libuv readiness: calls onReady; no exception leaves it. JS thread (the loop). */
  static void OnPoll(uv_poll_t* handle, int status, int events);
  /**
   * Environment teardown (worker terminated, process exiting) with the socket open: closes the
   * poll handle and the fd; the hook is removed once libuv has closed the handle. JS thread.
   */
  static void AsyncCleanup(napi_async_cleanup_hook_handle handle, void* self);
  /** Stops polling, closes the handle (asynchronously) and the fd. Idempotent. JS thread. */
  void closeNow();
  /** recv with UDP_GRO on: see the comment above its definition. JS thread. */
  Napi::Value RecvCoalesced(const Napi::CallbackInfo& info);

  int fd_ = -1;
  napi_async_cleanup_hook_handle cleanupHook_ = nullptr;
  bool ipv6_ = false;
  bool gso_ = true;
  bool gro_ = false;
  PendingDatagrams pending_;
  uv_poll_t* poll_ = nullptr;
  int pollEvents_ = 0;
  Napi::FunctionReference onReady_;  // onReady(readable: boolean, writable: boolean)
  Napi::Env env_;
};

}  // namespace tunkit::wireguard
