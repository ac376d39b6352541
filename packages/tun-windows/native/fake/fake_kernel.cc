// Fake kernel32 objects. One process-wide mutex and condition variable: waits are rare (a thread
// waits only when its ring is empty or the channel full) and this keeps the semantics obvious.
#include "fake_kernel.hh"

#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>

namespace tunkit::windows_tun::fake {

namespace {

struct Object {
  bool thread = false;
  bool manualReset = true;
  bool signaled = false;
  // Threads only.
  pthread_t id{};
  ThreadRoutine routine = nullptr;
  void* argument = nullptr;
  int refs = 1;  // the handle, plus the running thread
};

std::mutex& lock() {
  static std::mutex m;
  return m;
}
std::condition_variable& changed() {
  static std::condition_variable cv;
  return cv;
}
std::atomic<uint64_t> live{0};
thread_local uint32_t lastError = 0;
// GetCurrentThread's pseudo-handle: (HANDLE)-2 on Windows.
Handle const kCurrentThread = reinterpret_cast<Handle>(static_cast<intptr_t>(-2));

/** Drops one reference; the last one frees the object. Caller holds lock(). */
void unref(Object* object) {
  if (--object->refs == 0) {
    delete object;
    live.fetch_sub(1);
  }
}

void* trampoline(void* raw) {
  Object* object = static_cast<Object*>(raw);
  object->routine(object->argument);
  std::lock_guard<std::mutex> guard(lock());
  object->signaled = true;
  changed().notify_all();
  unref(object);
  return nullptr;
}

}  // namespace

uint32_t TUNKIT_WINAPI getLastError() { return lastError; }
void setLastError(uint32_t error) { lastError = error; }

Handle TUNKIT_WINAPI createEventW(void*, int32_t manualReset, int32_t initialState, const char16_t*) {
  Object* event = new Object;
  event->manualReset = manualReset != 0;
  event->signaled = initialState != 0;
  live.fetch_add(1);
  return event;
}

int32_t TUNKIT_WINAPI setEvent(Handle handle) {
  std::lock_guard<std::mutex> guard(lock());
  static_cast<Object*>(handle)->signaled = true;
  changed().notify_all();
  return 1;
}

// A thread handle closed while the thread runs detaches it (as Windows lets it run on); closed
// after it ended, it reaps the thread so no task is left behind.
int32_t TUNKIT_WINAPI closeHandle(Handle handle) {
  Object* object = static_cast<Object*>(handle);
  if (object == nullptr) {
    lastError = win32_error::kInvalidParameter;
    return 0;
  }
  std::unique_lock<std::mutex> guard(lock());
  if (object->thread) {
    const bool ended = object->signaled;
    const pthread_t id = object->id;
    guard.unlock();
    if (ended) pthread_join(id, nullptr);
    else pthread_detach(id);
    guard.lock();
  }
  unref(object);
  return 1;
}

uint32_t TUNKIT_WINAPI waitForMultipleObjects(uint32_t count, const Handle* handles, int32_t, uint32_t milliseconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(milliseconds);
  std::unique_lock<std::mutex> guard(lock());
  for (;;) {
    for (uint32_t i = 0; i < count; ++i) {
      Object* object = static_cast<Object*>(handles[i]);
      if (object->signaled) {
        if (!object->manualReset && !object->thread) object->signaled = false;
        return kWaitObject0 + i;
      }
    }
    if (milliseconds == kInfinite) {
      changed().wait(guard);
    } else if (changed().wait_until(guard, deadline) == std::cv_status::timeout) {
      return kWaitTimeout;
    }
  }
}

uint32_t TUNKIT_WINAPI waitForSingleObject(Handle handle, uint32_t milliseconds) {
  return waitForMultipleObjects(1, &handle, 0, milliseconds);
}

Handle TUNKIT_WINAPI createThread(void*, size_t, ThreadRoutine routine, void* argument, uint32_t, uint32_t* threadId) {
  Object* object = new Object;
  object->thread = true;
  object->routine = routine;
  object->argument = argument;
  object->refs = 2;
  live.fetch_add(1);
  if (pthread_create(&object->id, nullptr, &trampoline, object) != 0) {
    delete object;
    live.fetch_sub(1);
    lastError = win32_error::kNotEnoughMemory;
    return nullptr;
  }
  if (threadId != nullptr) *threadId = 0;
  return object;
}

Handle TUNKIT_WINAPI getCurrentThread() { return kCurrentThread; }

int32_t TUNKIT_WINAPI setThreadDescription(Handle thread, const char16_t* description) {
  if (thread != kCurrentThread) return 1;
  std::string name;
  for (const char16_t* c = description; *c != 0 && name.size() < 15; ++c) name.push_back(static_cast<char>(*c));
  pthread_setname_np(pthread_self(), name.c_str());
  return 0;
}

int32_t TUNKIT_WINAPI switchToThread() { return sched_yield() == 0 ? 1 : 0; }

uint64_t liveObjects() { return live.load(); }

}  // namespace tunkit::windows_tun::fake
