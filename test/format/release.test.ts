/** The record a release tag keeps: written readable, parsed back exactly; a message that is no release, or a hostile one, is not mistaken for one. */
import { describe, expect, it } from "vitest";
import type { GitOid } from "../../src/format/hash.js";
import { formatReleaseMessage, isReleaseMessage, parseReleaseMessage, parseTrailers, type ReleaseRecord } from "../../src/format/release.js";

const oid = (c: string) => c.repeat(40) as GitOid;

const record: ReleaseRecord = {
  format: 1,
  tag: "v2024.06",
  commit: oid("a"),
  tree: oid("b"),
  message: "ERA5 June\n\nwith the QC fixes",
  verdict: { passed: true, rules: oid("c"), arraysChecked: 2, chunksRead: 40, failures: 0, since: null, override: null },
  arrays: [{ path: "era.zarr/t2m", metadataDoc: "zarr.json", metadata: oid("d"), attributes: null, manifest: oid("e"), chunks: 12, bytes: 49152 }],
  previous: { tag: "v2024.05", commit: oid("f") },
  commits: [{ oid: oid("a"), author: { name: "Ana", email: "ana@lab.org", date: "2026-06-30T12:00:00.000Z" }, subject: "Append June", trailers: { "Tdv-Command": "tdv commit -a -m 'Append June'" } }],
};

describe("release records", () => {
  it("the message starts with the user's words and a readable summary, and parses back to the same record", () => {
    const text = formatReleaseMessage(record);
    expect(text.startsWith("ERA5 June\n\nwith the QC fixes\n\nRules: passed (rules blob cccc")).toBe(true);
    expect(text).toContain("  era.zarr/t2m  12 chunks, 49.2 kB  manifest eeee");
    expect(text).toContain("Commits since v2024.05 (1):");
    expect(text).toContain("    Tdv-Command: tdv commit -a -m 'Append June'");
    expect(parseReleaseMessage(text)).toEqual(record);
    expect(isReleaseMessage(text)).toBe(true);
  });

  it("a failing verdict released anyway says so with its reason", () => {
    const text = formatReleaseMessage({ ...record, verdict: { ...record.verdict, passed: false, failures: 3, override: { reason: "known gap" } } });
    expect(text).toContain("Rules: FAILED, 3 failures, released anyway");
    expect(text).toContain("known gap");
  });

  it("a plain tag message, a broken block or a block of the wrong shape is no release", () => {
    expect(parseReleaseMessage("Release 1.0 of the reanalysis\n")).toBeNull();
    expect(parseReleaseMessage("x\n```tdv-release\n{not json\n```\n")).toBeNull();
    expect(parseReleaseMessage("x\n```tdv-release\n{\"tag\": 1}\n```\n")).toBeNull();
    expect(parseReleaseMessage("x\n```tdv-release\n[]\n```\n")).toBeNull();
    // the last block counts: text quoted above it cannot stand in for the record
    const text = formatReleaseMessage(record);
    const spoof = `${formatReleaseMessage({ ...record, tag: "other" })}\n`;
    expect(parseReleaseMessage(spoof + text)?.tag).toBe("v2024.06");
  });

  it("trailers are the key: value lines of the trailing paragraphs; the subject and prose are not", () => {
    expect(parseTrailers("Append June\n\nPipeline: qc-v2\nSource: s3://in/june\n\nTdv-Version: 0.1.0\nTdv-Command: tdv commit\n")).toEqual({
      "Tdv-Version": "0.1.0",
      "Tdv-Command": "tdv commit",
      Pipeline: "qc-v2",
      Source: "s3://in/june",
    });
    expect(parseTrailers("Fix: the subject is no trailer\n")).toEqual({});
    expect(parseTrailers("Subject\n\nA body line: with a colon\nand prose\n\nTdv-Version: 1\n")).toEqual({ "Tdv-Version": "1" });
    const hostile = parseTrailers("s\n\nconstructor: y\ntoString: z\n");
    expect(Object.getPrototypeOf(hostile)).toBeNull();
    expect({ ...hostile }).toEqual({ constructor: "y", toString: "z" });
  });
});
