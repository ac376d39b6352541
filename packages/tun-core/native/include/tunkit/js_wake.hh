// JsWake: wakes the JS thread from any thread through a thread-safe function, with at most one
// call queued at a time (one wake-up per batch, never per packet). Shared by the addons that
// deliver batches through a BatchChannel (tun-linux, tun-windows). Header-only, N-API and the
// standard library only, so the mingw cross-compile of tun-windows builds it as well.
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

namespace tunkit {

class JsWake {
 public:
  /** Wraps `onWake` (called with no arguments). Keeps the event loop alive until close(). JS thread. */
  static std::shared_ptr<JsWake> create(Napi::Env env, Napi::Function onWake, const char* resourceName) {
    std::shared_ptr<JsWake> wake(new JsWake());
    // The function's finaliser owns one reference: a queued call never outlives its state.
    auto* keepAlive = new std::shared_ptr<JsWake>(wake);
    const napi_status status =
        napi_create_threadsafe_function(env, onWake, nullptr, Napi::String::New(env, resourceName), 0, 1, keepAlive,
                                        &JsWake::Finalize, wake.get(), &JsWake::CallJs, &wake->function_);
    if (status != napi_ok) {
      delete keepAlive;
      throw Napi::Error::New(env, "cannot create the thread-safe function that wakes JS");
    }
    return wake;
  }

  JsWake(const JsWake&) = delete;
  JsWake& operator=(const JsWake&) = delete;

  /** Queues one call of onWake, unless one is queued already or close() ran. Never blocks. Any thread. */
  void wake() {
    if (pending_.exchange(true, std::memory_order_acq_rel)) return;
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_ || napi_call_threadsafe_function(function_, nullptr, napi_tsfn_nonblocking) != napi_ok) {
      pending_.store(false, std::memory_order_release);
    }
  }

  /**
   * Later wake() calls do nothing and a queued call is dropped; the event loop is no longer kept
   * alive. The object itself stays valid for whoever still holds it (a thread abandoned at close
   * may go on calling wake()). Idempotent. JS thread.
   */
  void close() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (closed_) return;
    closed_ = true;
    napi_release_threadsafe_function(function_, napi_tsfn_abort);
  }

 private:
  JsWake() = default;

  // JS thread (the loop dispatching the thread-safe function); env is null when the function is
  // torn down with calls still queued: nothing to run then.
  static void CallJs(napi_env env, napi_value onWake, void* context, void*) {
    if (env == nullptr || onWake == nullptr) return;
    auto* self = static_cast<JsWake*>(context);
    self->pending_.store(false, std::memory_order_release);
    if (self->closed_) return;
    napi_value undefined;
    napi_get_undefined(env, &undefined);
    // A throwing callback leaves a pending exception, which node reports as uncaught; a failure
    // while the environment is being torn down (worker terminated) needs nothing from us.
    napi_call_function(env, undefined, onWake, 0, nullptr, nullptr);
  }

  // JS thread, when the thread-safe function is gone (after close(), or at environment teardown).
  static void Finalize(napi_env, void* data, void*) { delete static_cast<std::shared_ptr<JsWake>*>(data); }

  std::mutex mutex_;     // orders wake() against close(): no call on an aborted function
  bool closed_ = false;  // written under mutex_, on the JS thread
  std::atomic<bool> pending_{false};
  napi_threadsafe_function function_ = nullptr;
};

}  // namespace tunkit
