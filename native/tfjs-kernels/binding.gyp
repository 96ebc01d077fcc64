{
  "targets": [
    {
      "target_name": "ssb_ct_tfjs_kernels",
      "sources": ["src/kernels.cc"],
      "cflags_cc": ["-O3", "-std=c++17", "-ffp-contract=fast", "-pthread"],
      "ldflags": ["-pthread"],
      "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-O3", "-std=c++17"] }
    }
  ]
}
