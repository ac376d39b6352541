// UdpSocket: a non-blocking UDP socket driven from the JS thread in batches: recv() fills a whole
// PacketBatch with one recvmmsg, send() sends a whole batch with one sendmmsg (and UDP GSO for runs
// of equal-size datagrams to one destination). Readiness comes from a libuv poll handle on the
// fd, so no thread and no copy through a ring: datagrams land straight in the batch's memory.
#pragma once

#include <napi.h>
#include <uv.h>

#include <cstdint>

namespace tunkit::linux_tun {

class UdpSocket : public Napi::ObjectWrap<UdpSocket> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit UdpSocket(const Napi::CallbackInfo& info);
  ~UdpSocket() override;

 private:
  Napi::Value Port(const Napi::CallbackInfo& info);
  Napi::Value Recv(const Napi::CallbackInfo& info);
  Napi::Value Send(const Napi::CallbackInfo& info);
  Napi::Value Poll(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  static void OnPoll(uv_poll_t* handle, int status, int events);
  void closeNow();

  int fd_ = -1;
  bool ipv6_ = false;
  bool gso_ = true;
  uv_poll_t* poll_ = nullptr;
  int pollEvents_ = 0;
  Napi::FunctionReference onReady_;  // onReady(readable: boolean, writable: boolean)
  Napi::Env env_;
};

}  // namespace tunkit::linux_tun
