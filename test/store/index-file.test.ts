/**
 * The index file: version 2 keeps stat data as Node's fs.Stats numbers; an
 * index written by version 1 (u64 nanoseconds) still reads, to the same
 * numbers a stat call gives now, so a clean tree stays clean without hashing.
 */
import { promises as fsp } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { add, commit, isTdvError, Repository } from "../../src/index.js";
import { compareWorktree } from "../../src/worktree/work-state.js";
import { decodeIndex, encodeIndex, EntryTable, peekEntry, withAdded, writeIndex, type IndexEntry } from "../../src/store/index-file.js";
import { makeFixture } from "../helpers/fixture.js";
import { backdate, past } from "../helpers/time.js";

process.env.TDV_AUTHOR_NAME = "Test";
process.env.TDV_AUTHOR_EMAIL = "test@example.org";

/** The version 1 layout, written from the files' BigInt stat data as tdv 0.x wrote it. */
async function encodeV1(dir: string, b2: Buffer): Promise<Buffer> {
  const { tree, entries } = decodeIndex(b2, "index");
  const parts: Buffer[] = [Buffer.from([0x54, 0x44, 0x56, 1, 3, tree ? 1 : 0])];
  if (tree) parts.push(Buffer.from(tree, "hex"));
  const count = Buffer.alloc(4);
  count.writeUInt32LE(entries.size);
  parts.push(count);
  for (const [rel, e] of entries) {
    const st = await fsp.lstat(path.join(dir, rel), { bigint: true });
    const name = Buffer.from(rel, "utf8");
    const head = Buffer.alloc(5);
    head.writeUInt32LE(name.length);
    head[4] = e.store === "git" ? 0 : 1;
    const tail = Buffer.alloc(32);
    tail.writeDoubleLE(e.size, 0);
    tail.writeBigUInt64LE(st.mtimeNs, 8);
    tail.writeBigUInt64LE(st.ctimeNs, 16);
    tail.writeBigUInt64LE(st.ino, 24);
    parts.push(head.subarray(0, 4), name, head.subarray(4), Buffer.from(e.id, "hex"), tail);
  }
  return Buffer.concat(parts);
}

describe("index file", () => {
  it("reads a version 1 index to the stat numbers of today: a clean tree hashes nothing, an edit still shows", async () => {
    const dir = await makeFixture("v3");
    await backdate(dir, past(0)); // the files are older than the index written below: none is "racy"
    const { repo } = await Repository.init({ dir });
    await add(repo, { all: true });
    await commit(repo, { message: "import" });
    const v2 = await fsp.readFile(repo.indexFile);
    expect(v2[3]).toBe(2);

    const v1 = await encodeV1(dir, v2);
    expect(v1.length).toBe(v2.length); // same layout, other encoding of the three stat fields
    await fsp.writeFile(repo.indexFile, v1);
    const index = await repo.readIndex();
    expect(index.entries.size).toBeGreaterThan(5);
    for (const [rel, e] of index.entries) {
      const st = await fsp.lstat(path.join(dir, rel));
      expect({ mtimeMs: e.mtimeMs, ctimeMs: e.ctimeMs, ino: e.ino }).toEqual({ mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino });
    }
    const clean = await compareWorktree(repo, index);
    expect(clean.hashed).toBe(0);
    expect([clean.modified.size, clean.deleted.length, clean.untracked.length]).toEqual([0, 0, 0]);

    // the same size, other bytes: the stat data differs, so the file is hashed and shows as modified
    const rel = [...index.entries.keys()].find((p) => p.endsWith("zarr.json")) as string;
    const bytes = await fsp.readFile(path.join(dir, rel));
    bytes[bytes.length - 2] = bytes[bytes.length - 2] === 0x20 ? 0x0a : 0x20;
    await fsp.writeFile(path.join(dir, rel), bytes);
    const edited = await compareWorktree(repo, await repo.readIndex());
    expect([...edited.modified.keys()]).toEqual([rel]);
  });

  it("a write after edits copies unchanged entries and equals an encoding from scratch", async () => {
    const dir = await makeFixture("v3");
    await backdate(dir, past(0)); // the files are older than the index written below: none is "racy"
    const { repo } = await Repository.init({ dir });
    await add(repo, { all: true });
    const bytes = await fsp.readFile(repo.indexFile);
    const { entries } = decodeIndex(bytes, "index");
    const paths = [...entries.keys()];
    expect(paths.length).toBeGreaterThan(6);
    const first = paths[0] as string;
    const middle = paths[Math.floor(paths.length / 2)] as string;
    const last = paths[paths.length - 1] as string;
    // an entry changed (a new object), one gone, one new between two others and one at the end, one set again as itself
    entries.set(middle, { ...(entries.get(middle) as IndexEntry), size: 12345, mtimeMs: 1.5 });
    entries.delete(first);
    entries.set(`${paths[2]}-added`, { store: "git", id: "ab".repeat(20), size: 3, mtimeMs: 2, ctimeMs: 3, ino: 4 } as IndexEntry);
    entries.set("\u{10ffff}-last", { store: "chunk", id: "cd".repeat(32), size: 5, mtimeMs: 6, ctimeMs: 7, ino: 8 } as IndexEntry);
    entries.set(last, entries.get(last) as IndexEntry);
    const copied = encodeIndex({ tree: null, entries });
    const fresh = encodeIndex({ tree: null, entries: new Map(entries) }); // a new map: nothing to copy from
    expect(copied.equals(fresh)).toBe(true);
    const back = decodeIndex(copied, "index");
    expect([...back.entries]).toEqual([...entries].sort(([a], [b]) => (a < b ? -1 : 1)));
    expect(back.entries.get(middle)).toMatchObject({ size: 12345, mtimeMs: 1.5 });
    expect(back.entries.has(first)).toBe(false);
  });

  it("writes what it reads, and refuses an index from a newer tdv naming the version", async () => {
    const dir = await makeFixture("v3");
    await backdate(dir, past(0)); // the files are older than the index written below: none is "racy"
    const { repo } = await Repository.init({ dir });
    await add(repo, { all: true });
    const bytes = await fsp.readFile(repo.indexFile);
    expect(encodeIndex(decodeIndex(bytes, "index")).equals(bytes)).toBe(true);

    // a count far beyond what the file holds: refused as damage
    const huge = Buffer.from(bytes);
    huge.writeUInt32LE(0xfffffff0, huge[5] === 1 ? 26 : 6);
    expect(() => decodeIndex(huge, "index")).toThrow(/truncated/);

    bytes[3] = 3;
    await fsp.writeFile(repo.indexFile, bytes);
    const err = await repo.readIndex().catch((e: unknown) => e);
    expect(isTdvError(err)).toBe(true);
    expect(String((err as Error).message)).toMatch(/version 3/);
  });

  it("an index as read behaves as a Map through any sequence of sets, deletes and reads, and writes what a plain map writes", () => {
    const entry = (n: number): IndexEntry => ({ store: n % 3 === 0 ? "git" : "chunk", id: (n % 3 === 0 ? "a1" : "b2").repeat(n % 3 === 0 ? 20 : 32), size: n, mtimeMs: n + 0.5, ctimeMs: n + 0.25, ino: n * 7 } as IndexEntry);
    const names = Array.from({ length: 60 }, (_, i) => `arr/c/${i % 7}/${i}`);
    const start = new Map(names.filter((_, i) => i % 2 === 0).sort().map((p, i) => [p, entry(i)] as [string, IndexEntry]));
    const bytes = encodeIndex({ tree: null, entries: start });
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let round = 0; round < 40; round++) {
      const lazy = decodeIndex(bytes, "index").entries;
      const plain = new Map(start);
      for (let step = 0; step < 30; step++) {
        const p = names[rand(names.length)] as string;
        const op = rand(10);
        if (op < 4) {
          const e = entry(100 + step);
          lazy.set(p, e);
          plain.set(p, e);
        } else if (op < 7) expect(lazy.delete(p)).toBe(plain.delete(p));
        else if (op === 7 && rand(8) === 0) {
          lazy.clear();
          plain.clear();
        } else {
          expect(lazy.has(p)).toBe(plain.has(p));
          expect(lazy.get(p)).toEqual(plain.get(p));
        }
        expect(lazy.size).toBe(plain.size);
      }
      const sorted = [...plain].sort(([a], [b]) => (a < b ? -1 : 1));
      expect([...lazy]).toEqual(sorted);
      expect([...lazy.keys()]).toEqual(sorted.map(([k]) => k));
      expect([...lazy.values()]).toEqual(sorted.map(([, v]) => v));
      const each: string[] = [];
      lazy.forEach((_, k) => {
        each.push(k);
      });
      expect(each).toEqual(sorted.map(([k]) => k));
      expect(encodeIndex({ tree: null, entries: lazy }).equals(encodeIndex({ tree: null, entries: plain }))).toBe(true);
    }
  });

  it("new entries added from a table make the index a map with them set would make, through any edits before and after", async () => {
    const entry = (n: number): IndexEntry => ({ store: n % 3 === 0 ? "git" : "chunk", id: (n % 3 === 0 ? "a1" : "b2").repeat(n % 3 === 0 ? 20 : 32), size: n, mtimeMs: n + 0.5, ctimeMs: n + 0.25, ino: n * 7 } as IndexEntry);
    const names = Array.from({ length: 80 }, (_, i) => `arr/c/${i % 7}/${i}${i % 5 === 0 ? "-\u00e9" : ""}`);
    let seed = 3;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const dir = await fsp.mkdtemp(path.join((await import("node:os")).tmpdir(), "tdv-index-"));
    for (let round = 0; round < 40; round++) {
      const start = new Map(names.filter(() => rand(2) === 0).sort().map((p, i) => [p, entry(i)] as [string, IndexEntry]));
      // from an index as read (edited or not), or from a plain map (a first add has no index file)
      const fromFile = rand(3) > 0;
      const before = fromFile ? decodeIndex(encodeIndex({ tree: null, entries: start }), "index").entries : new Map(start);
      const plain = new Map(start);
      for (let step = rand(8); step > 0; step--) {
        const p = names[rand(names.length)] as string;
        if (rand(2) === 0) {
          before.set(p, entry(200 + step));
          plain.set(p, entry(200 + step));
        } else expect(before.delete(p)).toBe(plain.delete(p));
      }
      const fresh = names.filter((p) => !plain.has(p) && rand(2) === 0).sort();
      const table = new EntryTable(before, fresh, Uint8Array.from(fresh, (_, i) => (entry(500 + i).store === "git" ? 0 : 1)));
      // filled in any order (both threads store files), then joined
      for (const i of fresh.map((_, i) => i).sort(() => rand(3) - 1)) {
        table.set(i, entry(500 + i));
        plain.set(fresh[i] as string, entry(500 + i));
      }
      expect(fresh.map((_, i) => table.size(i))).toEqual(fresh.map((_, i) => entry(500 + i).size));
      const after = withAdded(table);
      expect(after.size).toBe(plain.size);
      const sorted = [...plain].sort(([a], [b]) => (a < b ? -1 : 1));
      expect([...after]).toEqual(sorted);
      for (const p of names) {
        expect(peekEntry(after, p)).toEqual(plain.get(p));
        expect(after.get(p)).toEqual(plain.get(p));
      }
      // written without a copy of its bytes, and with edits over it, it writes what a plain map writes
      const tree = rand(2) === 0 ? null : ("1f".repeat(20) as never);
      const file = path.join(dir, `index-${round}`);
      await writeIndex(file, { tree, entries: after }, false);
      expect((await fsp.readFile(file)).equals(encodeIndex({ tree, entries: new Map(sorted) }))).toBe(true);
      const p = names[rand(names.length)] as string;
      after.set(p, entry(900));
      plain.set(p, entry(900));
      expect(encodeIndex({ tree: null, entries: after }).equals(encodeIndex({ tree: null, entries: new Map([...plain].sort(([a], [b]) => (a < b ? -1 : 1))) }))).toBe(true);
    }
    // edits scattered through a larger index: thousands of parts, written in batches, the same bytes
    const many = new Map(Array.from({ length: 3000 }, (_, i) => [`m/${String(i).padStart(5, "0")}`, entry(i)] as [string, IndexEntry]));
    const lazy = decodeIndex(encodeIndex({ tree: null, entries: many }), "index").entries;
    for (let i = 0; i < 3000; i += 2) {
      lazy.set(`m/${String(i).padStart(5, "0")}`, entry(7000 + i));
      many.set(`m/${String(i).padStart(5, "0")}`, entry(7000 + i));
    }
    await writeIndex(path.join(dir, "scattered"), { tree: null, entries: lazy }, false);
    expect((await fsp.readFile(path.join(dir, "scattered"))).equals(encodeIndex({ tree: null, entries: many }))).toBe(true);
    await fsp.rm(dir, { recursive: true, force: true });
    const stores = (n: number) => new Uint8Array(n).fill(entry(1).store === "git" ? 0 : 1);
    expect(() => new EntryTable(new Map(), ["b", "a"], stores(2))).toThrow(/not sorted/);
    expect(() => new EntryTable(new Map([["a", entry(2)]]), ["a"], stores(1))).toThrow(/in the index already/);
    const one = new EntryTable(new Map(), ["a", "b"], stores(2));
    expect(() => one.set(0, { ...entry(1), id: "zz" } as IndexEntry)).toThrow(/malformed id/);
    one.set(1, entry(1));
    expect(() => withAdded(one)).toThrow(/a was never stored/); // a slot never filled is not an entry
    expect(() => one.set(0, { ...entry(1), store: entry(1).store === "git" ? "chunk" : "git" } as IndexEntry)).toThrow(/laid out as/);
  });
});
