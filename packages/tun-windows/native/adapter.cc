// Opening and ending a WinTun adapter + session through the WinApi table.
#include "adapter.hh"

#include "win_error.hh"

namespace tunkit::windows_tun {

namespace {
// The tunnel type shown in Windows' adapter list ("Description"); adapters of one type share a driver.
constexpr const char16_t* kTunnelType = u"tunkit";
}  // namespace

// JS thread.
WintunSession::WintunSession(const WinApi& api, const AdapterOptions& options) : api_(api) {
  adapter_ = api_.createAdapter(options.name.c_str(), kTunnelType, options.hasGuid ? &options.guid : nullptr);
  if (adapter_ == nullptr) {
    const uint32_t error = api_.getLastError();
    // An adapter of this name left by an earlier run (or another process): open it instead.
    if (error == win32_error::kAlreadyExists || error == win32_error::kObjectAlreadyExists) {
      adapter_ = api_.openAdapter(options.name.c_str());
      created_ = false;
    }
    if (adapter_ == nullptr) {
      const uint32_t last = created_ ? error : api_.getLastError();
      throw WinError(last, created_ ? "WintunCreateAdapter" : "WintunOpenAdapter",
                     last == win32_error::kAccessDenied ? "creating a WinTun adapter needs Administrator rights"
                                                        : "cannot create the WinTun adapter");
    }
  }
  api_.getAdapterLuid(adapter_, &luid_);
  session_ = api_.startSession(adapter_, options.ringCapacity);
  if (session_ == nullptr) {
    const uint32_t error = api_.getLastError();
    api_.closeAdapter(adapter_);
    adapter_ = nullptr;
    throw WinError(error, "WintunStartSession", "cannot start a WinTun session (is another process using this adapter?)");
  }
  readEvent_ = api_.getReadWaitEvent(session_);
}

// JS thread. The read event belongs to the session: EndSession releases it (never CloseHandle it).
void WintunSession::end() {
  if (session_ != nullptr) api_.endSession(session_);
  session_ = nullptr;
  readEvent_ = nullptr;
  if (adapter_ != nullptr) api_.closeAdapter(adapter_);
  adapter_ = nullptr;
}

}  // namespace tunkit::windows_tun
