/** The formatting helpers and the progress line, without spawning. */
import { describe, expect, it, vi } from "vitest";
import { decorate, formatBytes, formatDate, formatTable, plural, printJson, progress, shortOid } from "../../cli/output.js";
import { escapeBytes, escapeControl, escapeControlLine, isUtf8, quoteBytes, quotePath } from "../../src/format/display.js";

describe("output helpers", () => {
  it("formatBytes uses decimal units with one decimal", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(999)).toBe("999 B");
    expect(formatBytes(1000)).toBe("1.0 kB");
    expect(formatBytes(4_130_000)).toBe("4.1 MB");
    expect(formatBytes(999_960)).toBe("1.0 MB");
    expect(formatBytes(2.5e9)).toBe("2.5 GB");
  });

  it("plural, shortOid, formatDate, formatTable", () => {
    expect(plural(1, "chunk")).toBe("1 chunk");
    expect(plural(3, "chunk")).toBe("3 chunks");
    expect(shortOid("0123456789abcdef")).toBe("0123456");
    expect(formatDate({ name: "a", email: "b", timestamp: 1_700_000_000, tzOffset: 60 })).toBe("Tue Nov 14 23:13:20 2023 +0100");
    expect(formatDate({ name: "a", email: "b", timestamp: 0, tzOffset: -330 })).toBe("Wed Dec 31 18:30:00 1969 -0530");
    expect(formatTable(["A", "NUM"], [["x", "1"], ["long", "100"]], new Set([1]))).toEqual(["A     NUM", "x       1", "long  100"]);
  });

  it("decorate marks HEAD's branch and tags like git", () => {
    const ctx = { current: "main", branches: new Set(["main", "dev", "v1"]) };
    expect(decorate(["HEAD", "dev", "main", "v1", "v1"], ctx)).toBe("HEAD -> main, dev, v1, tag: v1");
    expect(decorate(["dev", "v2"], ctx)).toBe("dev, tag: v2");
    expect(decorate(["HEAD", "v2"], { current: null, branches: new Set() })).toBe("HEAD, tag: v2");
  });

  it("quotePath, escapeControl and escapeBytes leave no control character and keep distinct names distinct", () => {
    expect(quotePath("era5.zarr/t2m")).toBe("era5.zarr/t2m");
    expect(quotePath("Ωmega/ü.txt")).toBe("Ωmega/ü.txt"); // printable non-ASCII stays as it is
    expect(quotePath("esc\x1b]0;pwned\x07.txt")).toBe('"esc\\x1b]0;pwned\\x07.txt"');
    expect(quotePath("clear\x1b[2J")).toBe('"clear\\x1b[2J"');
    expect(quotePath("a\tb\nc\r")).toBe('"a\\tb\\nc\\r"');
    expect(quotePath("csi\u009b31m del\u007f")).toBe('"csi\\x9b31m del\\x7f"');
    // the quote and escape characters themselves: a literal "\x1b" is not the escape
    expect(quotePath("lit\\x1b")).toBe('"lit\\\\x1b"');
    expect(quotePath('say "hi"')).toBe('"say \\"hi\\""');
    expect(escapeControl("line one\n\tline \x1b[2Jtwo\x07\u009b")).toBe("line one\n\tline \\x1b[2Jtwo\\x07\\x9b");
    expect(escapeControlLine("a\nb\tc")).toBe("a\\nb\\tc");
    const bad = Buffer.concat([Buffer.from("bad"), Buffer.from([0xff]), Buffer.from(".txt")]);
    expect(isUtf8(bad)).toBe(false);
    expect(escapeBytes(bad)).toBe("bad\\xff.txt");
    expect(quoteBytes(bad)).toBe('"bad\\xff.txt"');
    expect(quoteBytes(Buffer.from("ok ü"))).toBe("ok ü");
    // overlong, surrogate, truncated and out-of-range sequences are not UTF-8; valid 2-, 3- and 4-byte ones are
    for (const b of [[0xc0, 0xaf], [0xe0, 0x80, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0x80]]) expect(isUtf8(Uint8Array.from(b))).toBe(false);
    for (const s of ["é", "€", "𝄞", "\uFFFD"]) expect(isUtf8(Buffer.from(s))).toBe(true);
    expect(escapeBytes(Uint8Array.from([0xe2, 0x82, 0x41]))).toBe("\\xe2\\x82A");
  });

  it("printJson keeps every string exact and escapes DEL and C1 as well as C0", () => {
    const chunks: string[] = [];
    const spy = vi.spyOn(process.stdout, "write").mockImplementation((s: string | Uint8Array) => {
      chunks.push(String(s));
      return true;
    });
    try {
      printJson({ path: "esc\x1b]0;x\x07 csi\u009b del\u007f ü" });
    } finally {
      spy.mockRestore();
    }
    const text = chunks.join("");
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);
    expect(JSON.parse(text)).toEqual({ path: "esc\x1b]0;x\x07 csi\u009b del\u007f ü" });
  });

  it("progress draws on a terminal only, at most ~10 times a second, and erases itself", () => {
    const writes: string[] = [];
    const tty = { isTTY: true, write: (s: string) => writes.push(s) } as unknown as NodeJS.WriteStream;
    vi.useFakeTimers();
    try {
      const p = progress({ stream: tty });
      for (let i = 1; i <= 50; i++) {
        p.update({ phase: "storing", done: i, total: 100, bytes: i * 1000 });
        vi.advanceTimersByTime(10);
      }
      p.update({ phase: "storing", done: 100, total: 100, bytes: 100_000 });
      p.done();
    } finally {
      vi.useRealTimers();
    }
    expect(writes.length).toBeGreaterThanOrEqual(4);
    expect(writes.length).toBeLessThanOrEqual(9);
    expect(writes[0]).toMatch(/^\r\x1b\[Kstoring\s+1%\s+1\/100 files\s+1\.0 kB/);
    expect(writes.at(-2)).toMatch(/storing 100%\s+100\/100 files\s+100\.0 kB\s+[\d.]+ [kM]?B\/s/);
    expect(writes.at(-1)).toBe("\r\x1b[K");

    const quiet: string[] = [];
    const q = progress({ stream: { isTTY: true, write: (s: string) => quiet.push(s) } as unknown as NodeJS.WriteStream, quiet: true });
    q.update({ phase: "storing", done: 1, total: 1, bytes: 1 });
    q.done();
    const pipe = progress({ stream: { isTTY: false, write: (s: string) => quiet.push(s) } as unknown as NodeJS.WriteStream });
    pipe.update({ phase: "storing", done: 1, total: 1, bytes: 1 });
    pipe.done();
    expect(quiet).toEqual([]);
  });
});
