{
  "targets": [
    {
      "target_name": "tunkit_windows",
      "sources": [
        "addon.cc",
        "adapter.cc",
        "device.cc",
        "receive_thread.cc",
        "send_queue.cc"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!(node -p \"require('@tunkit/tun-core/native').include\")"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_ADDON_API_CPP_EXCEPTIONS_ALL",
        "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"
      ],
      "conditions": [
        ["OS=='win'", {
          "sources": [
            "win32/api_win32.cc",
            "win32/ip_helper_win32.cc"
          ],
          "defines": ["_WIN32_WINNT=0x0A00", "WIN32_LEAN_AND_MEAN", "NOMINMAX"],
          "libraries": ["-liphlpapi.lib"],
          "msvs_settings": {
            "VCCLCompilerTool": {
              "ExceptionHandling": 1,
              "AdditionalOptions": ["/std:c++17", "/W4"]
            }
          }
        }, {
          "sources": [
            "fake/fake_api.cc",
            "fake/fake_ip_helper.cc",
            "fake/fake_kernel.cc",
            "fake/fake_table.cc",
            "fake/fake_wintun.cc",
            "fake/test_hooks.cc"
          ],
          "cflags!": ["-fno-exceptions"],
          "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20"],
          "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-O2"],
          "libraries": ["-lpthread"]
        }]
      ]
    }
  ]
}
