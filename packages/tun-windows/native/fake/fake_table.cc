// The fake backend's WinApi table, entry for entry the Windows one (win32/api_win32.cc).
#include "fake_table.hh"

#include "fake_ip_helper.hh"
#include "fake_kernel.hh"
#include "fake_wintun.hh"

namespace tunkit::windows_tun::fake {

const WinApi& table() {
  static const WinApi api = [] {
    WinApi t{};
    t.createAdapter = &createAdapter;
    t.openAdapter = &openAdapter;
    t.closeAdapter = &closeAdapter;
    t.getAdapterLuid = &getAdapterLuid;
    t.startSession = &startSession;
    t.endSession = &endSession;
    t.getReadWaitEvent = &getReadWaitEvent;
    t.receivePacket = &receivePacket;
    t.releaseReceivePacket = &releaseReceivePacket;
    t.allocateSendPacket = &allocateSendPacket;
    t.sendPacket = &sendPacket;
    t.getLastError = &getLastError;
    t.createEventW = &createEventW;
    t.setEvent = &setEvent;
    t.closeHandle = &closeHandle;
    t.waitForMultipleObjects = &waitForMultipleObjects;
    t.waitForSingleObject = &waitForSingleObject;
    t.createThread = &createThread;
    t.getCurrentThread = &getCurrentThread;
    t.setThreadDescription = &setThreadDescription;
    t.switchToThread = &switchToThread;
    t.setInterfaceMtu = &setInterfaceMtu;
    t.addUnicastAddress = &addUnicastAddress;
    t.addRoute = &addRoute;
    t.deleteRoute = &deleteRoute;
    return t;
  }();
  return api;
}

}  // namespace tunkit::windows_tun::fake
