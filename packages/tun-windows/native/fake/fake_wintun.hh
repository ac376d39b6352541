// The fake WinTun of the Linux build: adapters by name, and per session two byte-bounded rings
// with the documented behaviour — ReceivePacket answers ERROR_NO_MORE_ITEMS when empty and the
// read event is set when a packet arrives; AllocateSendPacket answers ERROR_BUFFER_OVERFLOW when
// the send ring is full; both answer ERROR_HANDLE_EOF once the adapter terminates or the session
// ended. The "OS side" (tests) injects packets and takes what the adapter sent.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "../win_api.hh"

namespace tunkit::windows_tun::fake {

// ---- the WinTun entry points (same signatures as the table) ----
AdapterHandle TUNKIT_WINAPI createAdapter(const char16_t* name, const char16_t* tunnelType, const WinGuid* requestedGuid);
AdapterHandle TUNKIT_WINAPI openAdapter(const char16_t* name);
void TUNKIT_WINAPI closeAdapter(AdapterHandle adapter);
void TUNKIT_WINAPI getAdapterLuid(AdapterHandle adapter, uint64_t* luid);
SessionHandle TUNKIT_WINAPI startSession(AdapterHandle adapter, uint32_t capacity);
void TUNKIT_WINAPI endSession(SessionHandle session);
Handle TUNKIT_WINAPI getReadWaitEvent(SessionHandle session);
uint8_t* TUNKIT_WINAPI receivePacket(SessionHandle session, uint32_t* packetSize);
void TUNKIT_WINAPI releaseReceivePacket(SessionHandle session, const uint8_t* packet);
uint8_t* TUNKIT_WINAPI allocateSendPacket(SessionHandle session, uint32_t packetSize);
void TUNKIT_WINAPI sendPacket(SessionHandle session, const uint8_t* packet);

// ---- the OS side, for tests (adapter addressed by name; false/empty when there is no session) ----

/** Windows sends a packet to the adapter: it enters the receive ring (false when the ring is full: dropped). */
bool inject(const std::u16string& name, const uint8_t* data, uint32_t size);
/** Takes up to `max` packets the adapter sent, oldest first. */
std::vector<std::vector<uint8_t>> takeSent(const std::u16string& name, uint32_t max);
/** Makes `data` appear in the receive ring after `polls` empty ReceivePacket calls, WITHOUT setting the read event. */
bool deferUntilEmptyPolls(const std::u16string& name, const uint8_t* data, uint32_t size, uint32_t polls);
/** The next ReceivePacket call sleeps `milliseconds` inside the call (models a slow call racing close). */
bool delayNextReceive(const std::u16string& name, uint32_t milliseconds);
/** The adapter goes away (device removed): calls answer ERROR_HANDLE_EOF, the read event is set. */
bool terminate(const std::u16string& name);
/** The next call named `call` ("WintunCreateAdapter", "WintunStartSession", "CreateUnicastIpAddressEntry", ...) fails with `error`. */
void failNext(const std::string& call, uint32_t error);
/** Consumes a failNext for `call`: its error, or 0. */
uint32_t takeFailure(const std::string& call);
/** Records a configuration call on the adapter with `luid`. */
void recordConfig(uint64_t luid, const std::string& entry);

struct SessionState {
  bool exists = false;
  bool adapterOpen = false;
  bool sessionActive = false;
  bool created = false;
  bool hasGuid = false;
  WinGuid guid{};
  uint64_t luid = 0;
  uint32_t capacity = 0;
  uint64_t receiveRingPackets = 0;
  uint64_t receiveRingBytes = 0;
  uint64_t receiveHeld = 0;  // received by the app, not yet released
  uint64_t sendRingPackets = 0;
  uint64_t injectDropped = 0;
  uint64_t receiveCalls = 0;
  uint64_t emptyReceives = 0;
  uint64_t overflows = 0;
  uint64_t callsAfterEnd = 0;  // any call on an ended session: a shutdown-order bug
  uint64_t sessionsStarted = 0;
  std::vector<std::string> config;
};
SessionState state(const std::u16string& name);
/** Adapters open and sessions active, over all names (leak checks). */
void openCounts(uint64_t& adapters, uint64_t& sessions);

}  // namespace tunkit::windows_tun::fake
