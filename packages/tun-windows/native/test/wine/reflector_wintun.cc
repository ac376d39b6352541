// A stand-in wintun.dll for running the REAL Windows build of the addon under Wine (no driver
// there): the eleven WinTun exports, with real Win32 events and a lock, where every packet the
// adapter sends comes straight back as received (a reflector). Built with mingw by `make wine`.
// A sent packet of IP protocol 253 (RFC 3692's experimental number) plays the adapter being
// removed: from then on the session answers ERROR_HANDLE_EOF, as WinTun does while terminating.
// Test-only: never shipped, never a substitute for the signed wintun.dll.
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include <cstdint>
#include <cstring>
#include <deque>
#include <list>
#include <vector>

namespace {

struct Session {
  CRITICAL_SECTION lock;
  HANDLE readEvent;
  DWORD capacity;
  bool ended = false;  // the adapter was "removed" (see above)
  uint64_t bytes = 0;  // ring bytes of `ring` + `held` + `allocated`
  std::deque<std::vector<BYTE>> ring;
  std::list<std::vector<BYTE>> held, allocated;
};

struct Adapter {
  uint64_t luid;
};

uint64_t footprint(size_t size) { return (4 + size + 3) & ~uint64_t{3}; }
constexpr BYTE kEndProtocol = 253;
uint64_t nextLuid = 0x5000;

}  // namespace

extern "C" {

__declspec(dllexport) void* WINAPI WintunCreateAdapter(const WCHAR*, const WCHAR*, const GUID*) {
  return new Adapter{++nextLuid};
}

__declspec(dllexport) void* WINAPI WintunOpenAdapter(const WCHAR*) {
  SetLastError(ERROR_FILE_NOT_FOUND);
  return nullptr;
}

__declspec(dllexport) void WINAPI WintunCloseAdapter(void* adapter) { delete static_cast<Adapter*>(adapter); }

__declspec(dllexport) void WINAPI WintunGetAdapterLUID(void* adapter, uint64_t* luid) { *luid = static_cast<Adapter*>(adapter)->luid; }

__declspec(dllexport) void* WINAPI WintunStartSession(void*, DWORD capacity) {
  Session* session = new Session;
  InitializeCriticalSection(&session->lock);
  session->readEvent = CreateEventW(nullptr, FALSE, FALSE, nullptr);
  session->capacity = capacity;
  return session;
}

__declspec(dllexport) void WINAPI WintunEndSession(void* raw) {
  Session* session = static_cast<Session*>(raw);
  CloseHandle(session->readEvent);
  DeleteCriticalSection(&session->lock);
  delete session;
}

__declspec(dllexport) HANDLE WINAPI WintunGetReadWaitEvent(void* raw) { return static_cast<Session*>(raw)->readEvent; }

__declspec(dllexport) BYTE* WINAPI WintunReceivePacket(void* raw, DWORD* size) {
  Session* session = static_cast<Session*>(raw);
  EnterCriticalSection(&session->lock);
  if (session->ended) {
    LeaveCriticalSection(&session->lock);
    SetLastError(ERROR_HANDLE_EOF);
    return nullptr;
  }
  if (session->ring.empty()) {
    LeaveCriticalSection(&session->lock);
    SetLastError(ERROR_NO_MORE_ITEMS);
    return nullptr;
  }
  session->held.push_back(std::move(session->ring.front()));
  session->ring.pop_front();
  BYTE* data = session->held.back().data();
  *size = static_cast<DWORD>(session->held.back().size());
  LeaveCriticalSection(&session->lock);
  return data;
}

__declspec(dllexport) void WINAPI WintunReleaseReceivePacket(void* raw, const BYTE* packet) {
  Session* session = static_cast<Session*>(raw);
  EnterCriticalSection(&session->lock);
  for (auto it = session->held.begin(); it != session->held.end(); ++it) {
    if (it->data() == packet) {
      session->bytes -= footprint(it->size());
      session->held.erase(it);
      break;
    }
  }
  LeaveCriticalSection(&session->lock);
}

__declspec(dllexport) BYTE* WINAPI WintunAllocateSendPacket(void* raw, DWORD size) {
  Session* session = static_cast<Session*>(raw);
  EnterCriticalSection(&session->lock);
  if (session->ended) {
    LeaveCriticalSection(&session->lock);
    SetLastError(ERROR_HANDLE_EOF);
    return nullptr;
  }
  if (session->bytes + footprint(size) > session->capacity) {
    LeaveCriticalSection(&session->lock);
    SetLastError(ERROR_BUFFER_OVERFLOW);
    return nullptr;
  }
  session->bytes += footprint(size);
  session->allocated.emplace_back(size);
  BYTE* data = session->allocated.back().data();
  LeaveCriticalSection(&session->lock);
  return data;
}

// Sent → received: the packet moves to the receive ring and the read event is set (or, for the
// end packet, the session ends and the read event wakes the receive thread to see it).
__declspec(dllexport) void WINAPI WintunSendPacket(void* raw, const BYTE* packet) {
  Session* session = static_cast<Session*>(raw);
  EnterCriticalSection(&session->lock);
  for (auto it = session->allocated.begin(); it != session->allocated.end(); ++it) {
    if (it->data() == packet) {
      if (it->size() > 9 && (*it)[9] == kEndProtocol) {
        session->ended = true;  // the adapter "removed": this packet goes nowhere
        session->bytes -= footprint(it->size());
      } else {
        session->ring.push_back(std::move(*it));
      }
      session->allocated.erase(it);
      break;
    }
  }
  LeaveCriticalSection(&session->lock);
  SetEvent(session->readEvent);
}

}  // extern "C"
