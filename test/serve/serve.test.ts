/** The pure parts of `tdv serve`: URL targets, Range headers, If-None-Match, cache classes, pinning. */
import { describe, expect, it } from "vitest";
import type { GitOid } from "../../src/index.js";
import { etagMatches, HttpRefusal, isImmutableRev, parseRange, parseTarget, pinRev } from "../../src/remote/serve-http.js";

const refused = (url: string) => {
  try {
    parseTarget(url);
  } catch (e) {
    return e instanceof HttpRefusal ? e.status : -1;
  }
  return 0;
};

describe("serve: URL targets", () => {
  it("names the refs, a revision's folders and files; the revision is one decoded part", () => {
    expect(parseTarget("/")).toEqual({ kind: "refs" });
    expect(parseTarget("/main")).toEqual({ kind: "rev", rev: "main", path: "", folder: true });
    expect(parseTarget("/main/")).toEqual({ kind: "rev", rev: "main", path: "", folder: true });
    expect(parseTarget("/v1/a.zarr/t/0.0?x=1")).toEqual({ kind: "rev", rev: "v1", path: "a.zarr/t/0.0", folder: false });
    expect(parseTarget("/v1/a.zarr/t/")).toEqual({ kind: "rev", rev: "v1", path: "a.zarr/t", folder: true });
    expect(parseTarget("/main%40%7B2026-03-31%7D/a.zarr/zarr.json")).toMatchObject({ rev: "main@{2026-03-31}", path: "a.zarr/zarr.json" });
    expect(parseTarget("/team%2Frun/a%20b.zarr/.zattrs")).toMatchObject({ rev: "team/run", path: "a b.zarr/.zattrs" });
    expect(parseTarget("/HEAD~2/x")).toMatchObject({ rev: "HEAD~2", path: "x" });
  });

  it("refuses traversal and non-canonical paths with 400", () => {
    for (const url of ["/main/../x", "/main/%2e%2e/x", "/main/a%2Fb", "/main//a", "/main/a//b", "/main/a\\b", "/main/a%5cb", "/main/./a", "/main/%00", "/main/%E0%A4%A", "/%2e%2e/x", "/a%2F..%2Fb/x", "//x", "main/x"]) {
      expect([url, refused(url)]).toEqual([url, 400]);
    }
  });
});

describe("serve: Range", () => {
  it("one range: a-b, a-, -n (clamped to the file); several: the whole file; bad or past the end: unsatisfiable", () => {
    expect(parseRange(undefined, 10)).toBeNull();
    expect(parseRange("bytes=2-4", 10)).toEqual({ start: 2, end: 4 });
    expect(parseRange("bytes=2-", 10)).toEqual({ start: 2, end: 9 });
    expect(parseRange("bytes=-3", 10)).toEqual({ start: 7, end: 9 });
    expect(parseRange("bytes=-30", 10)).toEqual({ start: 0, end: 9 });
    expect(parseRange("bytes=5-999", 10)).toEqual({ start: 5, end: 9 });
    expect(parseRange("bytes=0-1, 4-5", 10)).toBeNull();
    for (const bad of ["bytes=10-", "bytes=4-2", "bytes=-0", "bytes=-", "bytes=1-2,x", "items=0-1", "bytes=99999999999999999999-", "bytes=0-99999999999999999999", "bytes=a-b"]) {
      expect([bad, parseRange(bad, 10)]).toEqual([bad, "unsatisfiable"]);
    }
    expect(parseRange("bytes=0-", 0)).toBe("unsatisfiable");
  });

  it("If-None-Match: a list, weak forms and *", () => {
    expect(etagMatches('"a", "b"', '"b"')).toBe(true);
    expect(etagMatches('W/"b"', '"b"')).toBe(true);
    expect(etagMatches("*", '"b"')).toBe(true);
    expect(etagMatches('"c"', '"b"')).toBe(false);
    expect(etagMatches(undefined, '"b"')).toBe(false);
  });
});

describe("serve: cache classes and pins", () => {
  const id = "a".repeat(40) as GitOid;
  const refs = { branches: new Map([["main", id], ["deadbeef", id]]), tags: new Map([["v1", id]]), head: "main" };

  it("full commit ids and tags are immutable; branches, HEAD, dates and abbreviated ids are live", () => {
    for (const rev of [id, `${id}~2`, "v1", "v1~1", "refs/tags/v1"]) expect([rev, isImmutableRev(rev, refs)]).toEqual([rev, true]);
    for (const rev of ["main", "main~1", "HEAD", "@", "v1@{1}", `${id}@{1}`, "aaaaaaa", "deadbeef", "refs/heads/main", "main@{2026-01-01}"]) expect([rev, isImmutableRev(rev, refs)]).toEqual([rev, false]);
  });

  it("a pinned branch (or HEAD) becomes its commit, with its suffix; dates and other names stay", () => {
    expect(pinRev("main", refs)).toBe(id);
    expect(pinRev("main~2", refs)).toBe(`${id}~2`);
    expect(pinRev("HEAD^", refs)).toBe(`${id}^`);
    expect(pinRev("refs/heads/main", refs)).toBe(id);
    expect(pinRev("main@{1}", refs)).toBe("main@{1}");
    expect(pinRev("v1", refs)).toBe("v1");
    expect(pinRev("other", refs)).toBe("other");
  });
});
