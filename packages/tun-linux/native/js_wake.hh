// JsWake: wakes the JS thread from any thread through a thread-safe function, with at most one
// call queued at a time (one wake-up per batch, never per packet).
// Why not Napi::ThreadSafeFunction::NonBlockingCall(lambda): it allocates per call, and a lambda
// capturing its owner raw could run after the owner was finalised (a call queued at close still
// runs after Release). Here a queued call touches only this object, which the thread-safe
// function's own finaliser keeps alive, and close() aborts the function: calls still queued are
// dropped (node hands them over with a null env) instead of run.
#pragma once

#include <napi.h>

#include <atomic>
#include <memory>
#include <mutex>

namespace tunkit::linux_tun {

class JsWake {
 public:
  /** Wraps `onWake` (called with no arguments). Keeps the event loop alive until close(). JS thread. */
  static std::shared_ptr<JsWake> create(Napi::Env env, Napi::Function onWake, const char* resourceName);

  JsWake(const JsWake&) = delete;
  JsWake& operator=(const JsWake&) = delete;

  /** Queues one call of onWake, unless one is queued already or close() ran. Never blocks. Any thread. */
  void wake();

  /** Later wake() calls do nothing and a queued call is dropped. Idempotent. JS thread. */
  void close();

 private:
  JsWake() = default;
  static void CallJs(napi_env env, napi_value onWake, void* context, void* data);
  static void Finalize(napi_env env, void* data, void* hint);

  std::mutex mutex_;     // orders wake() against close(): no call on an aborted function
  bool closed_ = false;  // written under mutex_, on the JS thread
  std::atomic<bool> pending_{false};
  napi_threadsafe_function function_ = nullptr;
};

}  // namespace tunkit::linux_tun
