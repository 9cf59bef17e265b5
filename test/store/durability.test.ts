/**
 * Durability's flush: one `sync -f` of the file system when it works; where it
 * does not (no `sync` program), each file written since the last flush is
 * fsynced on its own, the paths made back from the compact pending list.
 */
import { promises as fsp } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { Durability, WRITE_BACK_BYTES } from "../../src/store/durability.js";
import { tempDir } from "../helpers/fixture.js";

describe("Durability.flush", () => {
  const PATH = process.env.PATH;
  afterEach(() => {
    process.env.PATH = PATH;
    vi.restoreAllMocks();
  });

  it("without `sync -f`, fsyncs every file written since the last flush, once, and skips one gone since", async () => {
    const dir = await tempDir();
    const files = ["ab/0123456789abcdef", "cd/plain.name", "ef/fedcba9876543210"].map((f) => path.join(dir, f));
    for (const f of files) {
      await fsp.mkdir(path.dirname(f), { recursive: true });
      await fsp.writeFile(f, "x");
    }
    const d = new Durability(dir, "deferred");
    for (const f of files) d.written(f);
    d.written(path.join(dir, "ab/00ff")); // written, then removed before the flush
    process.env.PATH = await tempDir(); // no `sync` program to run
    const opened: string[] = [];
    const open = fsp.open.bind(fsp);
    vi.spyOn(fsp, "open").mockImplementation(async (f, ...rest) => {
      opened.push(String(f));
      return open(f, ...rest);
    });
    await d.flush();
    expect(opened.sort()).toEqual([...files, path.join(dir, "ab/00ff")].sort());
    opened.length = 0;
    await d.flush(); // nothing written since
    expect(opened).toEqual([]);
  });

  it("past WRITE_BACK_BYTES written, starts one `sync -f` in the background; the flush waits for it, then syncs itself", async () => {
    const dir = await tempDir();
    const bin = await tempDir();
    const log = path.join(dir, "sync.log");
    // a `sync` that takes a while and says when it starts and ends, with its arguments
    await fsp.writeFile(path.join(bin, "sync"), `#!/bin/sh\necho "start $*" >> '${log}'\nsleep 0.3\necho "end $*" >> '${log}'\n`, { mode: 0o755 });
    process.env.PATH = `${bin}:${PATH}`;
    const lines = async () => (await fsp.readFile(log, "utf8").catch(() => "")).split("\n").filter(Boolean);
    const d = new Durability(dir, "deferred");
    d.written(path.join(dir, "ab/01"), WRITE_BACK_BYTES - 1);
    expect(d.writeBacks).toBe(0);
    d.written(path.join(dir, "ab/02"), 1);
    expect(d.writeBacks).toBe(1);
    d.written(path.join(dir, "ab/03"), WRITE_BACK_BYTES); // one at a time: none starts while one runs
    expect(d.writeBacks).toBe(1);
    await d.flush();
    expect(await lines()).toEqual([`start -f ${dir}`, `end -f ${dir}`, `start -f ${dir}`, `end -f ${dir}`]);
    // objects written in the other modes start none
    for (const mode of ["fsync", "none"] as const) {
      const other = new Durability(dir, mode);
      other.written(path.join(dir, "ab/04"), 2 * WRITE_BACK_BYTES);
      expect(other.writeBacks, mode).toBe(0);
    }
  });
});
