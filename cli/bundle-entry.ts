/**
 * What the bundle's `dist/bin/main.js` holds: the command line and, under the
 * same module instance, the library, which the bundle's ES-module parts (the
 * Ink UI, the demo) import from it (see scripts/bundle.mjs).
 */
export * from "../src/index.js";
export { main } from "./main.js";
