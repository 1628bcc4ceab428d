{
  # The native kernels (native/): built by scripts/build-native.mjs with node-gyp against the
  # installed Node's headers. One binary for any CPU of the architecture: isa_avx512.cc and
  # isa_avx2.cc set their own targets with pragmas, the rest is baseline (never -march=native).
  "targets": [
    {
      "target_name": "charrnn_native",
      "sources": [
        "native/addon.cc",
        "native/dispatch.cc",
        "native/pool.cc",
        "native/optim.cc",
        "native/isa_base.cc",
        "native/isa_avx2.cc",
        "native/isa_avx512.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=gnu++17", "-O3", "-ffp-contract=fast", "-fno-math-errno"],
      "xcode_settings": {
        "OTHER_CPLUSPLUSFLAGS": ["-std=gnu++17", "-O3", "-ffp-contract=fast"]
      }
    }
  ]
}
