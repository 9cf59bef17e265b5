/**
 * The files a deferred flush must make durable, kept as bytes: the list given
 * back is every path recorded, in order, whatever its name looks like.
 */
import { describe, expect, it } from "vitest";
import { PendingFiles } from "../../src/store/durability.js";

describe("pending files of a deferred flush", () => {
  it("gives back every path recorded, in order: object names as bytes, any other name as it is", () => {
    let seed = 5;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    const hex = (n: number) => Array.from({ length: n }, () => "0123456789abcdef"[rand(16)]).join("");
    const names = [
      () => hex(62), // a chunk object
      () => hex(38), // a loose Git object
      () => `tmp_obj_${hex(8)}`,
      () => hex(7), // odd length: kept as text
      () => hex(4).toUpperCase(), // not lower-case hex
      () => "",
      () => hex(600), // longer than a byte counts
      () => `é${hex(2)}`,
    ];
    const dirs = ["/r/.tdv/chunks/ab/", "/r/.tdv/git/objects/0c/", "C:\\r\\.tdv\\chunks\\12\\", "/", ""];
    for (let round = 0; round < 20; round++) {
      const pending = new PendingFiles();
      const want: string[] = [];
      for (let i = rand(3000); i > 0; i--) {
        const file = (dirs[rand(dirs.length)] as string) + (names[rand(names.length)] as () => string)();
        pending.add(file);
        want.push(file);
      }
      expect(pending.length).toBe(want.length);
      expect(pending.list()).toEqual(want);
    }
  });
});
