// The Windows backend's WinApi table: wintun.dll loaded at run time with LoadLibraryExW restricted
// to explicit paths, the application directory and System32 (never the current directory or
// PATH: a planted wintun.dll there must not load into a process that creates network adapters),
// and every entry resolved with GetProcAddress, kernel32's included.
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>

#include <cstring>
#include <string>
#include <vector>

#include "../platform.hh"
#include "ip_helper_win32.hh"

namespace tunkit::windows_tun {

namespace {

static_assert(sizeof(wchar_t) == sizeof(char16_t), "WCHAR is UTF-16 on Windows");

std::string utf8(const wchar_t* text) {
  const int size = WideCharToMultiByte(CP_UTF8, 0, text, -1, nullptr, 0, nullptr, nullptr);
  if (size <= 1) return std::string();
  std::string out(static_cast<size_t>(size - 1), '\0');
  WideCharToMultiByte(CP_UTF8, 0, text, -1, &out[0], size, nullptr, nullptr);
  return out;
}

const wchar_t* wide(const std::u16string& text) { return reinterpret_cast<const wchar_t*>(text.c_str()); }

/** Directory of `module` (nullptr: the executable, node.exe) with a trailing backslash. */
std::wstring moduleDirectory(HMODULE module) {
  wchar_t path[MAX_PATH] = {};
  const DWORD n = GetModuleFileNameW(module, path, MAX_PATH);
  std::wstring text(path, n);
  const size_t slash = text.find_last_of(L"\\/");
  return slash == std::wstring::npos ? std::wstring() : text.substr(0, slash + 1);
}

std::wstring systemDirectory() {
  wchar_t path[MAX_PATH] = {};
  const UINT n = GetSystemDirectoryW(path, MAX_PATH);
  return std::wstring(path, n) + L"\\";
}

/** Stores GetProcAddress's FARPROC into a typed pointer (memcpy: no function-pointer cast warnings). */
template <typename Pointer>
bool resolve(HMODULE module, const char* name, Pointer& out) {
  FARPROC proc = GetProcAddress(module, name);
  static_assert(sizeof(proc) == sizeof(out), "function pointers have one size");
  std::memcpy(&out, &proc, sizeof out);
  return proc != nullptr;
}

HMODULE loadWintunDll(const std::vector<std::u16string>& explicitPaths, std::vector<std::string>& tried) {
  for (const auto& path : explicitPaths) {
    tried.push_back(utf8(wide(path)));
    // The DLL's own directory and System32 for its dependencies; the path itself is absolute (checked in TS).
    HMODULE module = LoadLibraryExW(wide(path), nullptr, LOAD_LIBRARY_SEARCH_DLL_LOAD_DIR | LOAD_LIBRARY_SEARCH_SYSTEM32);
    if (module != nullptr) return module;
  }
  tried.push_back(utf8((moduleDirectory(nullptr) + L"wintun.dll").c_str()));
  tried.push_back(utf8((systemDirectory() + L"wintun.dll").c_str()));
  return LoadLibraryExW(L"wintun.dll", nullptr, LOAD_LIBRARY_SEARCH_APPLICATION_DIR | LOAD_LIBRARY_SEARCH_SYSTEM32);
}

WinApi loadTable(const std::vector<std::u16string>& explicitPaths) {
  std::vector<std::string> tried;
  HMODULE wintun = loadWintunDll(explicitPaths, tried);
  if (wintun == nullptr) throw LoadError("WINTUN_MISSING", "wintun.dll was not found", tried);
  WinApi api{};
  const struct {
    const char* name;
    bool ok;
  } wintunEntries[] = {
      {"WintunCreateAdapter", resolve(wintun, "WintunCreateAdapter", api.createAdapter)},
      {"WintunOpenAdapter", resolve(wintun, "WintunOpenAdapter", api.openAdapter)},
      {"WintunCloseAdapter", resolve(wintun, "WintunCloseAdapter", api.closeAdapter)},
      {"WintunGetAdapterLUID", resolve(wintun, "WintunGetAdapterLUID", api.getAdapterLuid)},
      {"WintunStartSession", resolve(wintun, "WintunStartSession", api.startSession)},
      {"WintunEndSession", resolve(wintun, "WintunEndSession", api.endSession)},
      {"WintunGetReadWaitEvent", resolve(wintun, "WintunGetReadWaitEvent", api.getReadWaitEvent)},
      {"WintunReceivePacket", resolve(wintun, "WintunReceivePacket", api.receivePacket)},
      {"WintunReleaseReceivePacket", resolve(wintun, "WintunReleaseReceivePacket", api.releaseReceivePacket)},
      {"WintunAllocateSendPacket", resolve(wintun, "WintunAllocateSendPacket", api.allocateSendPacket)},
      {"WintunSendPacket", resolve(wintun, "WintunSendPacket", api.sendPacket)},
  };
  for (const auto& entry : wintunEntries) {
    if (!entry.ok) {
      const std::string where = utf8((moduleDirectory(wintun)).c_str());
      FreeLibrary(wintun);
      throw LoadError("WINTUN_TOO_OLD", std::string("the wintun.dll in ") + where + " has no " + entry.name, tried);
    }
  }
  HMODULE kernel32 = GetModuleHandleW(L"kernel32.dll");
  const bool kernelOk = resolve(kernel32, "GetLastError", api.getLastError) && resolve(kernel32, "CreateEventW", api.createEventW) &&
                        resolve(kernel32, "SetEvent", api.setEvent) && resolve(kernel32, "CloseHandle", api.closeHandle) &&
                        resolve(kernel32, "WaitForMultipleObjects", api.waitForMultipleObjects) &&
                        resolve(kernel32, "WaitForSingleObject", api.waitForSingleObject) &&
                        resolve(kernel32, "CreateThread", api.createThread) && resolve(kernel32, "GetCurrentThread", api.getCurrentThread) &&
                        resolve(kernel32, "SwitchToThread", api.switchToThread);
  if (!kernelOk) throw LoadError("KERNEL32", "kernel32.dll lacks a function this addon needs", tried);
  resolve(kernel32, "SetThreadDescription", api.setThreadDescription);  // optional: Windows 10 1607+
  api.setInterfaceMtu = &iphelper::setInterfaceMtu;
  api.addUnicastAddress = &iphelper::addUnicastAddress;
  api.addRoute = &iphelper::addRoute;
  api.deleteRoute = &iphelper::deleteRoute;
  return api;
}

}  // namespace

// JS thread. The first successful load is kept for the life of the process (the DLL is never
// unloaded: sessions of other devices may use it); a failed one is retried on the next call.
const WinApi& loadWinApi(const std::vector<std::u16string>& explicitPaths) {
  static const WinApi table = loadTable(explicitPaths);
  return table;
}

void registerPlatformExports(Napi::Env, Napi::Object) {}

bool isFakeBackend() { return false; }

}  // namespace tunkit::windows_tun
