// WinApi: the one table of function pointers through which every WinTun and Win32 call of this
// addon goes. On Windows (win32/api_win32.cc) the entries are resolved from wintun.dll and
// kernel32 with GetProcAddress; elsewhere (fake/fake_api.cc) they point at an in-memory fake
// WinTun, so the receive thread, the send queue and shutdown run on Linux in CI.
// The types are declared here, from the WinTun and Win32 documentation, with fixed-width
// equivalents of the Windows ones (DWORD = uint32_t, HANDLE = void*, WCHAR = char16_t, NET_LUID =
// uint64_t, GUID = WinGuid): same size and layout, so no Windows header is needed outside win32/.
#pragma once

#include <cstddef>
#include <cstdint>

// The calling convention of Windows APIs: the only platform switch in shared code (x64 ignores it).
#if defined(_WIN32)
#define TUNKIT_WINAPI __stdcall
#else
#define TUNKIT_WINAPI
#endif

namespace tunkit::windows_tun {

using Handle = void*;
using AdapterHandle = void*;
using SessionHandle = void*;

struct WinGuid {
  uint32_t data1;
  uint16_t data2;
  uint16_t data3;
  uint8_t data4[8];
};
static_assert(sizeof(WinGuid) == 16, "WinGuid must have GUID's layout");

/** Win32 error codes this addon branches on (winerror.h values). */
namespace win32_error {
constexpr uint32_t kSuccess = 0;
constexpr uint32_t kFileNotFound = 2;
constexpr uint32_t kAccessDenied = 5;
constexpr uint32_t kInvalidData = 13;
constexpr uint32_t kNotEnoughMemory = 8;
constexpr uint32_t kHandleEof = 38;
constexpr uint32_t kNotSupported = 50;
constexpr uint32_t kInvalidParameter = 87;
constexpr uint32_t kBufferOverflow = 111;
constexpr uint32_t kModNotFound = 126;
constexpr uint32_t kProcNotFound = 127;
constexpr uint32_t kAlreadyExists = 183;
constexpr uint32_t kNoMoreItems = 259;
constexpr uint32_t kNotFound = 1168;
constexpr uint32_t kObjectAlreadyExists = 5010;
}  // namespace win32_error

/** WaitForMultipleObjects / WaitForSingleObject results and the infinite timeout. */
constexpr uint32_t kWaitObject0 = 0;
constexpr uint32_t kWaitTimeout = 258;
constexpr uint32_t kWaitFailed = 0xFFFFFFFFu;
constexpr uint32_t kInfinite = 0xFFFFFFFFu;

/** WinTun's documented ring bounds and largest packet. */
constexpr uint32_t kMinRingCapacity = 0x20000;   // 128 KiB
constexpr uint32_t kMaxRingCapacity = 0x4000000;  // 64 MiB
constexpr uint32_t kMaxIpPacketSize = 0xFFFF;

/** An address or route prefix for the IP Helper entries: family 4 or 6, 4 or 16 address bytes. */
struct IpPrefix {
  int family = 4;
  uint8_t address[16] = {};
  uint8_t length = 0;
};

using ThreadRoutine = uint32_t(TUNKIT_WINAPI*)(void* argument);

struct WinApi {
  // ---- wintun.dll (names as exported, without the "Wintun" prefix) ----
  AdapterHandle(TUNKIT_WINAPI* createAdapter)(const char16_t* name, const char16_t* tunnelType, const WinGuid* requestedGuid);
  AdapterHandle(TUNKIT_WINAPI* openAdapter)(const char16_t* name);
  void(TUNKIT_WINAPI* closeAdapter)(AdapterHandle adapter);
  void(TUNKIT_WINAPI* getAdapterLuid)(AdapterHandle adapter, uint64_t* luid);
  SessionHandle(TUNKIT_WINAPI* startSession)(AdapterHandle adapter, uint32_t capacity);
  void(TUNKIT_WINAPI* endSession)(SessionHandle session);
  Handle(TUNKIT_WINAPI* getReadWaitEvent)(SessionHandle session);
  /** A packet or nullptr with the error in getLastError: kNoMoreItems, kHandleEof, kInvalidData. */
  uint8_t*(TUNKIT_WINAPI* receivePacket)(SessionHandle session, uint32_t* packetSize);
  void(TUNKIT_WINAPI* releaseReceivePacket)(SessionHandle session, const uint8_t* packet);
  /** Room for a packet or nullptr with kBufferOverflow (ring full) or kHandleEof. */
  uint8_t*(TUNKIT_WINAPI* allocateSendPacket)(SessionHandle session, uint32_t packetSize);
  void(TUNKIT_WINAPI* sendPacket)(SessionHandle session, const uint8_t* packet);

  // ---- kernel32 ----
  uint32_t(TUNKIT_WINAPI* getLastError)();
  Handle(TUNKIT_WINAPI* createEventW)(void* security, int32_t manualReset, int32_t initialState, const char16_t* name);
  int32_t(TUNKIT_WINAPI* setEvent)(Handle event);
  int32_t(TUNKIT_WINAPI* closeHandle)(Handle handle);
  uint32_t(TUNKIT_WINAPI* waitForMultipleObjects)(uint32_t count, const Handle* handles, int32_t waitAll, uint32_t milliseconds);
  uint32_t(TUNKIT_WINAPI* waitForSingleObject)(Handle handle, uint32_t milliseconds);
  Handle(TUNKIT_WINAPI* createThread)(void* security, size_t stackSize, ThreadRoutine routine, void* argument, uint32_t flags,
                                      uint32_t* threadId);
  Handle(TUNKIT_WINAPI* getCurrentThread)();
  /** Optional (Windows 10 1607+): nullptr when kernel32 lacks it. */
  int32_t(TUNKIT_WINAPI* setThreadDescription)(Handle thread, const char16_t* description);
  /** Gives the rest of the time slice to another ready thread (never Sleep: see send_queue.cc). */
  int32_t(TUNKIT_WINAPI* switchToThread)();

  // ---- IP Helper (win32/ip_helper_win32.cc; each returns a Win32 error code) ----
  uint32_t (*setInterfaceMtu)(uint64_t luid, int family, uint32_t mtu);
  uint32_t (*addUnicastAddress)(uint64_t luid, const IpPrefix& prefix);
  uint32_t (*addRoute)(uint64_t luid, const IpPrefix& prefix, uint32_t metric);
  uint32_t (*deleteRoute)(uint64_t luid, const IpPrefix& prefix);
};

}  // namespace tunkit::windows_tun
