/**
 * Error injection for the reliability suite, loaded into a spawned tdv with
 * `node --import inject.mjs dist/bin/tdv.js …` (tests run as root in CI,
 * where permissions do not stop reads, and a real full disk needs a mount).
 *
 *   TDV_INJECT_CODE   ENOSPC (default), EACCES, EIO …
 *   TDV_INJECT_OP     "write" (default: writes of file contents, as a full disk
 *                     fails them) or "read" (opening a file for reading)
 *   TDV_INJECT_PATH   a regular expression the file's path must match
 *                     (default: inside a .tdv folder)
 *   TDV_INJECT_AT     the n-th matching call fails (1-based), and every one
 *                     after it (a full disk stays full); 0 or unset: none fail
 *   TDV_INJECT_COUNT  a file to write the number of matching calls to at exit
 */
import fs from "node:fs";
import { syncBuiltinESMExports } from "node:module";

const code = process.env.TDV_INJECT_CODE || "ENOSPC";
const op = process.env.TDV_INJECT_OP || "write";
const match = new RegExp(process.env.TDV_INJECT_PATH || "[/\\\\]\\.tdv[/\\\\]");
const at = Number(process.env.TDV_INJECT_AT || 0);
let calls = 0;

function hit(file) {
  if (typeof file !== "string" && !(file instanceof URL)) return false;
  if (!match.test(String(file))) return false;
  calls++;
  return at > 0 && calls >= at;
}

function fail(file, syscall) {
  const err = new Error(`${code}: injected failure, ${syscall} '${file}'`);
  err.code = code;
  err.syscall = syscall;
  err.path = String(file);
  return err;
}

const fdPaths = new Map();
const handlePaths = new WeakMap();
const isWriteFlag = (flags) => typeof flags === "string" ? /[wax+]/.test(flags) : typeof flags === "number" && (flags & (fs.constants.O_WRONLY | fs.constants.O_RDWR)) !== 0;

const orig = {
  openSync: fs.openSync,
  closeSync: fs.closeSync,
  writeSync: fs.writeSync,
  writeFileSync: fs.writeFileSync,
  readFileSync: fs.readFileSync,
  open: fs.promises.open,
  writeFile: fs.promises.writeFile,
  appendFile: fs.promises.appendFile,
  readFile: fs.promises.readFile,
};

if (op === "write") {
  fs.openSync = function (file, flags, ...rest) {
    const fd = orig.openSync.call(this, file, flags, ...rest);
    if (isWriteFlag(flags)) fdPaths.set(fd, String(file));
    return fd;
  };
  fs.closeSync = function (fd) {
    fdPaths.delete(fd);
    return orig.closeSync.call(this, fd);
  };
  fs.writeSync = function (fd, ...rest) {
    const file = fdPaths.get(fd);
    if (file && hit(file)) throw fail(file, "write");
    return orig.writeSync.call(this, fd, ...rest);
  };
  fs.writeFileSync = function (file, ...rest) {
    if (hit(file)) {
      // a full disk still creates the (empty) file
      try {
        orig.writeFileSync.call(this, file, "", rest[1]);
      } catch {}
      throw fail(file, "write");
    }
    return orig.writeFileSync.call(this, file, ...rest);
  };
  fs.promises.writeFile = async function (file, ...rest) {
    if (hit(file)) throw fail(file, "write");
    return orig.writeFile.call(this, file, ...rest);
  };
  fs.promises.appendFile = async function (file, ...rest) {
    if (hit(file)) throw fail(file, "write");
    return orig.appendFile.call(this, file, ...rest);
  };
  fs.promises.open = async function (file, flags, ...rest) {
    const fh = await orig.open.call(this, file, flags, ...rest);
    if (isWriteFlag(flags)) handlePaths.set(fh, String(file));
    return fh;
  };
  // FileHandle methods live on the prototype of any handle
  const probe = await orig.open(new URL(import.meta.url), "r");
  const proto = Object.getPrototypeOf(probe);
  await probe.close();
  for (const name of ["writeFile", "write", "appendFile"]) {
    const method = proto[name];
    proto[name] = async function (...args) {
      const file = handlePaths.get(this);
      if (file && hit(file)) throw fail(file, "write");
      return method.apply(this, args);
    };
  }
} else {
  fs.openSync = function (file, flags, ...rest) {
    if (!isWriteFlag(flags ?? "r") && hit(file)) throw fail(file, "open");
    return orig.openSync.call(this, file, flags, ...rest);
  };
  fs.readFileSync = function (file, ...rest) {
    if (hit(file)) throw fail(file, "open");
    return orig.readFileSync.call(this, file, ...rest);
  };
  fs.promises.open = async function (file, flags, ...rest) {
    if (!isWriteFlag(flags ?? "r") && hit(file)) throw fail(file, "open");
    return orig.open.call(this, file, flags, ...rest);
  };
  fs.promises.readFile = async function (file, ...rest) {
    if (hit(file)) throw fail(file, "open");
    return orig.readFile.call(this, file, ...rest);
  };
}
syncBuiltinESMExports();

if (process.env.TDV_INJECT_COUNT) {
  process.on("exit", () => orig.writeFileSync(process.env.TDV_INJECT_COUNT, String(calls)));
}
