// The fake kernel32 of the Linux build: events, threads, waits and the per-thread last error,
// with the Win32 semantics the addon relies on (auto- and manual-reset events, a thread handle
// that becomes signaled when the thread ends, WaitForMultipleObjects returning the first
// signaled index). Backed by pthreads and one mutex + condition variable.
#pragma once

#include <cstdint>

#include "../win_api.hh"

namespace tunkit::windows_tun::fake {

uint32_t TUNKIT_WINAPI getLastError();
void setLastError(uint32_t error);
Handle TUNKIT_WINAPI createEventW(void* security, int32_t manualReset, int32_t initialState, const char16_t* name);
int32_t TUNKIT_WINAPI setEvent(Handle event);
int32_t TUNKIT_WINAPI closeHandle(Handle handle);
uint32_t TUNKIT_WINAPI waitForMultipleObjects(uint32_t count, const Handle* handles, int32_t waitAll, uint32_t milliseconds);
uint32_t TUNKIT_WINAPI waitForSingleObject(Handle handle, uint32_t milliseconds);
Handle TUNKIT_WINAPI createThread(void* security, size_t stackSize, ThreadRoutine routine, void* argument, uint32_t flags,
                                  uint32_t* threadId);
Handle TUNKIT_WINAPI getCurrentThread();
int32_t TUNKIT_WINAPI setThreadDescription(Handle thread, const char16_t* description);
int32_t TUNKIT_WINAPI switchToThread();

/** Kernel objects (events and threads) not yet closed, for leak checks. */
uint64_t liveObjects();

}  // namespace tunkit::windows_tun::fake
