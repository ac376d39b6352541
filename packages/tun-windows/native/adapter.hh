// WintunSession: one WinTun adapter (created, or opened when it already exists) and one session
// on it with its ring capacity. Ending it is EndSession then CloseAdapter, and the owner does it
// only once no thread can be inside ReceivePacket or AllocateSendPacket any more.
#pragma once

#include <cstdint>
#include <string>

#include "win_api.hh"

namespace tunkit::windows_tun {

struct AdapterOptions {
  std::u16string name;
  bool hasGuid = false;
  WinGuid guid{};
  uint32_t ringCapacity = 8u << 20;
};

class WintunSession {
 public:
  /** Creates (or opens) the adapter and starts the session. JS thread. Throws WinError. */
  WintunSession(const WinApi& api, const AdapterOptions& options);
  ~WintunSession() { end(); }
  WintunSession(const WintunSession&) = delete;
  WintunSession& operator=(const WintunSession&) = delete;

  /** EndSession, then CloseAdapter. Idempotent. JS thread. */
  void end();

  /** Keeps the session and adapter open for good: a thread still uses them (its join timed out). JS thread. */
  void abandon() {
    session_ = nullptr;
    adapter_ = nullptr;
  }

  SessionHandle session() const { return session_; }
  Handle readEvent() const { return readEvent_; }
  uint64_t luid() const { return luid_; }
  /** False when an adapter of that name existed and was opened instead of created. */
  bool created() const { return created_; }

 private:
  const WinApi& api_;
  AdapterHandle adapter_ = nullptr;
  SessionHandle session_ = nullptr;
  Handle readEvent_ = nullptr;
  uint64_t luid_ = 0;
  bool created_ = true;
};

}  // namespace tunkit::windows_tun
