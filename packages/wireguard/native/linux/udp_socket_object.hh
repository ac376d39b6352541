// UdpSocketObject: the JS face of UdpSocket (udp_socket.hh), exported as `UdpSocket`, for
// LinuxUdpBind. It converts arguments (validating every length and offset JS passes), owns the
// libuv poll on the fd that tells JS when the socket is readable or writable, and tears down with
// its environment. Once its packet port is handed out (nativePort), a receive thread reads the
// socket instead of JS, and JS drains what it passes on (drainPunted). Every method runs on the
// JS thread (OnPoll too: libuv calls it from the loop).
#pragma once

#include <napi.h>
#include <uv.h>

#include <memory>
#include <vector>

#include <tunkit/batch_channel.hh>
#include <tunkit/js_wake.hh>

#include "udp_port.hh"
#include "udp_receive_thread.hh"
#include "udp_socket.hh"

namespace tunkit::wireguard {

class UdpSocketObject : public Napi::ObjectWrap<UdpSocketObject> {
 public:
  static Napi::Function Define(Napi::Env env);
  /** new UdpSocket({ address, port, ipv6, bufferBytes, gso, gro }, onReady). Throws with errno/syscall; leaks nothing. JS thread. */
  explicit UdpSocketObject(const Napi::CallbackInfo& info);
  ~UdpSocketObject() override;

 private:
  /** port() → the bound port. JS thread. */
  Napi::Value Port(const Napi::CallbackInfo& info);
  /** recv(buffer, offsets, lengths, meta, addresses, maxDatagram) → messages received, one recvmmsg. JS thread. */
  Napi::Value Recv(const Napi::CallbackInfo& info);
  /** gro() → whether the kernel accepted UDP_GRO (so recv may split coalesced messages). JS thread. */
  Napi::Value Gro(const Napi::CallbackInfo& info);
  /** send(buffer, offsets, lengths, start, end, addresses) → [taken, errors, messages], sendmmsg. JS thread. */
  Napi::Value Send(const Napi::CallbackInfo& info);
  /** setMark(mark): SO_MARK on the socket; throws with errno (EPERM without CAP_NET_ADMIN). JS thread. */
  Napi::Value SetMark(const Napi::CallbackInfo& info);
  /** mark() → the socket's SO_MARK as the kernel has it. JS thread. */
  Napi::Value Mark(const Napi::CallbackInfo& info);
  /** poll(readable, writable): arm the one-shot readiness callback. JS thread. */
  Napi::Value Poll(const Napi::CallbackInfo& info);
  /**
   * nativePort(maxDatagram, onPunted) → the socket's packet port in a tagged external. The first
   * call starts the receive thread: from then on JS reads through drainPunted, woken by onPunted
   * once per batch. JS thread.
   */
  Napi::Value NativePort(const Napi::CallbackInfo& info);
  /**
   * drainPunted(buffer, offsets, lengths, meta, addresses) → datagrams moved: what the receive
   * thread passed on, into a PacketBatch (meta as in recv: capacity, byteCapacity, headroom,
   * tailroom, length, bytesUsed), each sender's 20 bytes into addresses. 0 arms onPunted. JS thread.
   */
  Napi::Value DrainPunted(const Napi::CallbackInfo& info);
  /** portStats() → Float64Array of UdpPortCounters, in their order. JS thread. */
  Napi::Value PortStats(const Napi::CallbackInfo& info);
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

  std::shared_ptr<UdpSocket> socket_;
  UdpPort* port_ = nullptr;  // one reference held until close
  std::shared_ptr<BatchChannel> punted_;
  std::shared_ptr<JsWake> puntedWake_;
  std::vector<std::unique_ptr<UdpReceiveThread>> receivers_;  // one per receive thread (receiveThreads)
  napi_async_cleanup_hook_handle cleanupHook_ = nullptr;
  uv_poll_t* poll_ = nullptr;
  int pollEvents_ = 0;
  Napi::FunctionReference onReady_;  // onReady(readable: boolean, writable: boolean)
  Napi::Env env_;
};

}  // namespace tunkit::wireguard
