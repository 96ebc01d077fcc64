"use strict";
// Throws when the addon was not built (then ssb-ct falls back to its portable kernels).
module.exports = require("./build/Release/ssb_ct_tfjs_kernels.node");
