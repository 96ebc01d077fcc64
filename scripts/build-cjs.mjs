// Kept for scripts that call it by this name (scripts/run-notebooks.sh): the build is scripts/build.mjs.
import "./build.mjs";
