/**
 * Shared maths and constants: the physical constants (one table, with sources), dense linear algebra, the
 * nonlinear least-squares solver, the seeded random generators and order statistics. Every other module takes
 * these from here; nothing here depends on the rest of the project.
 */
export * from "./constants.js";
export * from "./linalg.js";
export * from "./least-squares.js";
export * from "./random.js";
export * from "./stats.js";
export * from "./disjoint-sets.js";
export * from "./filters.js";
