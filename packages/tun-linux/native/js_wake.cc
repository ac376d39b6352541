#include "js_wake.hh"

namespace tunkit::linux_tun {

// JS thread.
std::shared_ptr<JsWake> JsWake::create(Napi::Env env, Napi::Function onWake, const char* resourceName) {
  std::shared_ptr<JsWake> wake(new JsWake());
  // The function's finaliser owns one reference: a queued call never outlives its state.
  auto* keepAlive = new std::shared_ptr<JsWake>(wake);
  const napi_status status =
      napi_create_threadsafe_function(env, onWake, nullptr, Napi::String::New(env, resourceName), 0, 1, keepAlive, &JsWake::Finalize,
                                      wake.get(), &JsWake::CallJs, &wake->function_);
  if (status != napi_ok) {
    delete keepAlive;
    throw Napi::Error::New(env, "cannot create the thread-safe function that wakes JS");
  }
  return wake;
}

// Any thread: a queue thread, or the JS thread through BatchChannel::close.
void JsWake::wake() {
  if (pending_.exchange(true, std::memory_order_acq_rel)) return;
  std::lock_guard<std::mutex> lock(mutex_);
  if (closed_ || napi_call_threadsafe_function(function_, nullptr, napi_tsfn_nonblocking) != napi_ok) {
    pending_.store(false, std::memory_order_release);
  }
}

// JS thread.
void JsWake::close() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (closed_) return;
  closed_ = true;
  napi_release_threadsafe_function(function_, napi_tsfn_abort);
}

// JS thread (the loop dispatching the thread-safe function); env is null when the function is
// torn down with calls still queued: nothing to run then.
void JsWake::CallJs(napi_env env, napi_value onWake, void* context, void*) {
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
void JsWake::Finalize(napi_env, void* data, void*) { delete static_cast<std::shared_ptr<JsWake>*>(data); }

}  // namespace tunkit::linux_tun
