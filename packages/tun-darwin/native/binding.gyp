{
  "targets": [
    {
      "target_name": "tunkit_darwin",
      "sources": [
        "addon.cc",
        "test_support.cc"
      ],
      "conditions": [
        [
          "OS==\"mac\"",
          {
            "sources": [
              "utun_exports_darwin.cc",
              "utun_darwin.cc",
              "interface_config_darwin.cc",
              "route_socket_darwin.cc"
            ]
          },
          {
            "sources": ["utun_exports_other.cc"]
          }
        ]
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
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-O2"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "MACOSX_DEPLOYMENT_TARGET": "11.0",
        "WARNING_CFLAGS": ["-Wall", "-Wextra"]
      }
    }
  ]
}
