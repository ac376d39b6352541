// The fake WinTun's rings. Each packet takes 4 + size bytes rounded up to 4 in its ring, as in
// WinTun's own layout, so "full" happens at the same point as with the real ring capacity.
// Sessions are never freed (only their buffers), so a call on an ended session is detected and
// counted instead of being a use-after-free.
#include "fake_wintun.hh"

#include <chrono>
#include <cstring>
#include <deque>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "fake_kernel.hh"

namespace tunkit::windows_tun::fake {

namespace {

struct Adapter;

struct Session {
  Adapter* adapter = nullptr;
  uint32_t capacity = 0;
  Handle readEvent = nullptr;
  bool ended = false;
  std::deque<std::vector<uint8_t>> receiveRing;  // OS → app
  std::list<std::vector<uint8_t>> held;          // handed to the app, not yet released
  uint64_t receiveBytes = 0;                     // ring bytes of receiveRing + held
  std::vector<uint8_t> deferred;
  bool hasDeferred = false;
  uint32_t deferPolls = 0;
  uint32_t delayMs = 0;
  std::deque<std::vector<uint8_t>> sendRing;  // app → OS
  std::list<std::vector<uint8_t>> allocated;  // allocated, not yet sent
  uint64_t sendBytes = 0;                     // ring bytes of sendRing + allocated
};

struct Adapter {
  std::u16string name;
  bool open = false;
  bool created = false;
  bool terminated = false;
  bool hasGuid = false;
  WinGuid guid{};
  uint64_t luid = 0;
  Session* session = nullptr;  // the active (or last) session
  uint64_t sessionsStarted = 0;
  std::vector<std::string> config;
  // Counters over the adapter's life.
  uint64_t injectDropped = 0, receiveCalls = 0, emptyReceives = 0, overflows = 0, callsAfterEnd = 0;
};

std::mutex& lock() {
  static std::mutex m;
  return m;
}
std::map<std::u16string, std::unique_ptr<Adapter>>& adapters() {
  static std::map<std::u16string, std::unique_ptr<Adapter>> all;
  return all;
}
std::vector<std::unique_ptr<Session>>& sessions() {
  static std::vector<std::unique_ptr<Session>> all;
  return all;
}
std::map<std::string, uint32_t>& failures() {
  static std::map<std::string, uint32_t> all;
  return all;
}
uint64_t nextLuid = 0x1000;

uint64_t footprint(uint32_t size) { return (4u + uint64_t{size} + 3u) & ~uint64_t{3}; }

/** The live (not ended) session of `name`, or nullptr. Caller holds lock(). */
Session* liveSession(const std::u16string& name) {
  auto it = adapters().find(name);
  if (it == adapters().end() || it->second->session == nullptr || it->second->session->ended) return nullptr;
  return it->second->session;
}

/** False (and ERROR_HANDLE_EOF) when the session cannot be used. Caller holds lock(). */
bool usable(Session* session) {
  if (session->ended) {
    ++session->adapter->callsAfterEnd;
    setLastError(win32_error::kHandleEof);
    return false;
  }
  if (session->adapter->terminated) {
    setLastError(win32_error::kHandleEof);
    return false;
  }
  return true;
}

uint32_t takeFailureLocked(const std::string& call) {
  auto it = failures().find(call);
  if (it == failures().end()) return 0;
  const uint32_t error = it->second;
  failures().erase(it);
  return error;
}

}  // namespace

AdapterHandle TUNKIT_WINAPI createAdapter(const char16_t* name, const char16_t*, const WinGuid* requestedGuid) {
  std::lock_guard<std::mutex> guard(lock());
  if (const uint32_t error = takeFailureLocked("WintunCreateAdapter")) {
    setLastError(error);
    return nullptr;
  }
  std::unique_ptr<Adapter>& slot = adapters()[name];
  if (slot && slot->open) {
    setLastError(win32_error::kAlreadyExists);
    return nullptr;
  }
  if (!slot) slot = std::make_unique<Adapter>();
  Adapter& a = *slot;
  a.name = name;
  a.open = true;
  a.created = true;
  a.terminated = false;
  a.hasGuid = requestedGuid != nullptr;
  if (requestedGuid != nullptr) a.guid = *requestedGuid;
  a.luid = ++nextLuid;
  a.config.clear();
  return &a;
}

AdapterHandle TUNKIT_WINAPI openAdapter(const char16_t* name) {
  std::lock_guard<std::mutex> guard(lock());
  auto it = adapters().find(name);
  if (it == adapters().end()) {
    setLastError(win32_error::kFileNotFound);
    return nullptr;
  }
  it->second->open = true;
  it->second->created = false;
  return it->second.get();
}

void TUNKIT_WINAPI closeAdapter(AdapterHandle handle) {
  std::lock_guard<std::mutex> guard(lock());
  static_cast<Adapter*>(handle)->open = false;
}

void TUNKIT_WINAPI getAdapterLuid(AdapterHandle handle, uint64_t* luid) {
  std::lock_guard<std::mutex> guard(lock());
  *luid = static_cast<Adapter*>(handle)->luid;
}

SessionHandle TUNKIT_WINAPI startSession(AdapterHandle handle, uint32_t capacity) {
  std::lock_guard<std::mutex> guard(lock());
  Adapter* adapter = static_cast<Adapter*>(handle);
  if (const uint32_t error = takeFailureLocked("WintunStartSession")) {
    setLastError(error);
    return nullptr;
  }
  const bool powerOfTwo = capacity != 0 && (capacity & (capacity - 1)) == 0;
  if (!powerOfTwo || capacity < kMinRingCapacity || capacity > kMaxRingCapacity) {
    setLastError(win32_error::kInvalidParameter);
    return nullptr;
  }
  if (adapter->session != nullptr && !adapter->session->ended) {
    setLastError(win32_error::kAlreadyExists);  // WinTun allows one session per adapter
    return nullptr;
  }
  sessions().push_back(std::make_unique<Session>());
  Session* session = sessions().back().get();
  session->adapter = adapter;
  session->capacity = capacity;
  session->readEvent = createEventW(nullptr, 0, 0, nullptr);
  adapter->session = session;
  ++adapter->sessionsStarted;
  return session;
}

void TUNKIT_WINAPI endSession(SessionHandle handle) {
  std::lock_guard<std::mutex> guard(lock());
  Session* session = static_cast<Session*>(handle);
  if (session->ended) {
    ++session->adapter->callsAfterEnd;
    return;
  }
  session->ended = true;
  closeHandle(session->readEvent);
  session->readEvent = nullptr;
  session->receiveRing.clear();
  session->held.clear();
  session->sendRing.clear();
  session->allocated.clear();
  session->receiveBytes = session->sendBytes = 0;
}

Handle TUNKIT_WINAPI getReadWaitEvent(SessionHandle handle) {
  std::lock_guard<std::mutex> guard(lock());
  return static_cast<Session*>(handle)->readEvent;
}

uint8_t* TUNKIT_WINAPI receivePacket(SessionHandle handle, uint32_t* packetSize) {
  Session* session = static_cast<Session*>(handle);
  std::unique_lock<std::mutex> guard(lock());
  if (session->delayMs > 0 && !session->ended) {
    const uint32_t delay = session->delayMs;
    session->delayMs = 0;
    guard.unlock();
    std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    guard.lock();
  }
  if (!usable(session)) return nullptr;
  ++session->adapter->receiveCalls;
  if (session->receiveRing.empty() && session->hasDeferred && session->deferPolls-- == 0) {
    session->receiveBytes += footprint(static_cast<uint32_t>(session->deferred.size()));
    session->receiveRing.push_back(std::move(session->deferred));
    session->hasDeferred = false;
  }
  if (session->receiveRing.empty()) {
    ++session->adapter->emptyReceives;
    setLastError(win32_error::kNoMoreItems);
    return nullptr;
  }
  session->held.push_back(std::move(session->receiveRing.front()));
  session->receiveRing.pop_front();
  *packetSize = static_cast<uint32_t>(session->held.back().size());
  return session->held.back().data();
}

void TUNKIT_WINAPI releaseReceivePacket(SessionHandle handle, const uint8_t* packet) {
  std::lock_guard<std::mutex> guard(lock());
  Session* session = static_cast<Session*>(handle);
  if (session->ended) {
    ++session->adapter->callsAfterEnd;
    return;
  }
  for (auto it = session->held.begin(); it != session->held.end(); ++it) {
    if (it->data() == packet) {
      session->receiveBytes -= footprint(static_cast<uint32_t>(it->size()));
      session->held.erase(it);
      return;
    }
  }
}

uint8_t* TUNKIT_WINAPI allocateSendPacket(SessionHandle handle, uint32_t packetSize) {
  std::lock_guard<std::mutex> guard(lock());
  Session* session = static_cast<Session*>(handle);
  if (!usable(session)) return nullptr;
  if (const uint32_t error = takeFailureLocked("WintunAllocateSendPacket")) {
    setLastError(error);
    return nullptr;
  }
  if (packetSize > kMaxIpPacketSize) {
    setLastError(win32_error::kInvalidParameter);
    return nullptr;
  }
  if (session->sendBytes + footprint(packetSize) > session->capacity) {
    ++session->adapter->overflows;
    setLastError(win32_error::kBufferOverflow);
    return nullptr;
  }
  session->sendBytes += footprint(packetSize);
  session->allocated.emplace_back(packetSize);
  return session->allocated.back().data();
}

void TUNKIT_WINAPI sendPacket(SessionHandle handle, const uint8_t* packet) {
  std::lock_guard<std::mutex> guard(lock());
  Session* session = static_cast<Session*>(handle);
  if (session->ended) {
    ++session->adapter->callsAfterEnd;
    return;
  }
  for (auto it = session->allocated.begin(); it != session->allocated.end(); ++it) {
    if (it->data() == packet) {
      session->sendRing.push_back(std::move(*it));
      session->allocated.erase(it);
      return;
    }
  }
}

bool inject(const std::u16string& name, const uint8_t* data, uint32_t size) {
  std::lock_guard<std::mutex> guard(lock());
  Session* session = liveSession(name);
  if (session == nullptr || session->adapter->terminated) return false;
  if (session->receiveBytes + footprint(size) > session->capacity) {
    ++session->adapter->injectDropped;  // Windows drops when the ring is full
    return false;
  }
  const bool wasEmpty = session->receiveRing.empty();
  session->receiveBytes += footprint(size);
  session->receiveRing.emplace_back(data, data + size);
  if (wasEmpty) setEvent(session->readEvent);
  return true;
}

std::vector<std::vector<uint8_t>> takeSent(const std::u16string& name, uint32_t max) {
  std::lock_guard<std::mutex> guard(lock());
  std::vector<std::vector<uint8_t>> out;
  Session* session = liveSession(name);
  if (session == nullptr) return out;
  while (out.size() < max && !session->sendRing.empty()) {
    session->sendBytes -= footprint(static_cast<uint32_t>(session->sendRing.front().size()));
    out.push_back(std::move(session->sendRing.front()));
    session->sendRing.pop_front();
  }
  return out;
}

bool deferUntilEmptyPolls(const std::u16string& name, const uint8_t* data, uint32_t size, uint32_t polls) {
  std::lock_guard<std::mutex> guard(lock());
  Session* session = liveSession(name);
  if (session == nullptr) return false;
  session->deferred.assign(data, data + size);
  session->hasDeferred = true;
  session->deferPolls = polls;
  return true;
}

bool delayNextReceive(const std::u16string& name, uint32_t milliseconds) {
  std::lock_guard<std::mutex> guard(lock());
  Session* session = liveSession(name);
  if (session == nullptr) return false;
  session->delayMs = milliseconds;
  return true;
}

bool terminate(const std::u16string& name) {
  std::lock_guard<std::mutex> guard(lock());
  Session* session = liveSession(name);
  if (session == nullptr) return false;
  session->adapter->terminated = true;
  setEvent(session->readEvent);
  return true;
}

void failNext(const std::string& call, uint32_t error) {
  std::lock_guard<std::mutex> guard(lock());
  failures()[call] = error;
}

uint32_t takeFailure(const std::string& call) {
  std::lock_guard<std::mutex> guard(lock());
  return takeFailureLocked(call);
}

void recordConfig(uint64_t luid, const std::string& entry) {
  std::lock_guard<std::mutex> guard(lock());
  for (auto& [name, adapter] : adapters()) {
    if (adapter->luid == luid) adapter->config.push_back(entry);
  }
}

SessionState state(const std::u16string& name) {
  std::lock_guard<std::mutex> guard(lock());
  SessionState s;
  auto it = adapters().find(name);
  if (it == adapters().end()) return s;
  const Adapter& a = *it->second;
  s.exists = true;
  s.adapterOpen = a.open;
  s.created = a.created;
  s.hasGuid = a.hasGuid;
  s.guid = a.guid;
  s.luid = a.luid;
  s.sessionsStarted = a.sessionsStarted;
  s.injectDropped = a.injectDropped;
  s.receiveCalls = a.receiveCalls;
  s.emptyReceives = a.emptyReceives;
  s.overflows = a.overflows;
  s.callsAfterEnd = a.callsAfterEnd;
  s.config = a.config;
  if (a.session != nullptr) {
    const Session& session = *a.session;
    s.sessionActive = !session.ended;
    s.capacity = session.capacity;
    s.receiveRingPackets = session.receiveRing.size();
    s.receiveRingBytes = session.receiveBytes;
    s.receiveHeld = session.held.size();
    s.sendRingPackets = session.sendRing.size();
  }
  return s;
}

void openCounts(uint64_t& adapterCount, uint64_t& sessionCount) {
  std::lock_guard<std::mutex> guard(lock());
  adapterCount = sessionCount = 0;
  for (auto& [name, adapter] : adapters()) {
    if (adapter->open) ++adapterCount;
    if (adapter->session != nullptr && !adapter->session->ended) ++sessionCount;
  }
}

}  // namespace tunkit::windows_tun::fake
