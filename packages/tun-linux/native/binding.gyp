{
  "targets": [
    {
      "target_name": "tunkit_linux",
      "sources": [
        "addon.cc",
        "config_binding.cc",
        "device.cc",
        "device_port.cc",
        "flow_hash.cc",
        "netlink.cc",
        "netns.cc",
        "notify_binding.cc",
        "offload.cc",
        "queue_thread.cc",
        "tun_object.cc",
        "unix_datagram.cc"
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
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-O2"]
    }
  ]
}
