{
  "targets": [
    {
      "target_name": "tunkit_wireguard",
      "sources": ["addon.cc", "aead_batch.cc", "openssl_aead.cc", "xaead.cc"],
      "conditions": [
        ["OS=='linux'", {
          "sources": [
            "linux/gro_split.cc",
            "linux/gso_runs.cc",
            "linux/udp_address.cc",
            "linux/udp_port.cc",
            "linux/udp_receive_thread.cc",
            "linux/udp_socket.cc",
            "linux/udp_socket_object.cc",
            "dataplane/data_plane.cc",
            "dataplane/data_plane_object.cc",
            "dataplane/route_table.cc",
            "dataplane/session_table.cc"
          ]
        }, {
          "sources": ["other/udp_exports.cc"]
        }]
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!(node -p \"require('@tunkit/tun-core/native').include\")"
      ],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_CPP_EXCEPTIONS_ALL", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-O2"]
    }
  ]
}
