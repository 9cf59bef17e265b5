#!/usr/bin/env node
/**
 * tdv's command line: scripts/bundle.mjs copies this file to dist/bin/tdv.js.
 *
 * It compiles the bundle beside it (main.js: the command line and the
 * library, one CommonJS script) with V8's code cache (main.cache, written by
 * the build after running the everyday commands), so that a command starts
 * without parsing and compiling the functions it runs. V8 refuses a cache made
 * by another Node or V8, and the bundle is then compiled as usual.
 */
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const vm = require("node:vm");
const Module = require("node:module");

const MAIN = path.join(__dirname, "main.js");
const CACHE = path.join(__dirname, "main.cache");

/**
 * The bundle's exports, compiled with V8's code cache `cachedData` when given.
 * `script` is kept for a cache of it. Functions compiled from a code cache
 * cannot run import() themselves, so the bundle's import() calls come here
 * (the bundle and this file share a folder: the same specifiers resolve).
 */
function load(cachedData) {
  const source = fs.readFileSync(MAIN, "utf8");
  const wrapper = `(function (exports, require, module, __filename, __dirname, __tdv_import) {${source}\n})`;
  const script = new vm.Script(wrapper, { filename: MAIN, cachedData });
  const mod = new Module(MAIN, module);
  mod.filename = MAIN;
  // registered as required: the Ink UI and the demo (ES modules) import the library from it, the same instance
  Module._cache[MAIN] = mod;
  const run = script.runInThisContext();
  run.call(mod.exports, mod.exports, Module.createRequire(MAIN), mod, MAIN, __dirname, (specifier) => import(specifier));
  mod.loaded = true;
  return { script, exports: mod.exports };
}

function readCache() {
  try {
    return fs.readFileSync(CACHE);
  } catch {
    return undefined; // no cache: compiled as usual
  }
}

if (require.main === module) load(readCache()).exports.main(process.argv);
else module.exports = { load };
