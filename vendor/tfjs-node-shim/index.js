// danfojs-node requires @tensorflow/tfjs-node, whose install downloads libtensorflow and fails offline.
// npm overrides point danfojs-node here; we hand it the real native package when the optional
// dependency installed, otherwise the pure-JS build.
"use strict";
let tf;
try {
  tf = require("@tensorflow/tfjs-node");
} catch {
  tf = require("@tensorflow/tfjs");
}
module.exports = tf;
