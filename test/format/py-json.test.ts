/** Python's json.dumps, number spelling and all, against the real thing (python3) when present. */
import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { floatRepr, pyDumps, pyLoads } from "../../src/format/py-json.js";

function python(script: string, input: string): string | null {
  try {
    return execFileSync("/usr/bin/python3", ["-c", script], { input, encoding: "utf8" });
  } catch {
    return null;
  }
}

describe("py-json", () => {
  it("floats as Python's repr", () => {
    const cases: [number, string][] = [
      [0, "0.0"], [-0, "-0.0"], [1, "1.0"], [100, "100.0"], [1e-5, "1e-05"], [0.0001, "0.0001"], [1e16, "1e+16"],
      [1e15, "1000000000000000.0"], [1.5e300, "1.5e+300"], [5e-324, "5e-324"], [0.1, "0.1"], [-2.5e-7, "-2.5e-07"],
      [123.456, "123.456"], [Number.NaN, "NaN"], [Number.POSITIVE_INFINITY, "Infinity"], [Number.NEGATIVE_INFINITY, "-Infinity"],
    ];
    for (const [x, s] of cases) expect(floatRepr(x), String(x)).toBe(s);
  });

  it("json.dumps(json.loads(text), indent=4, sort_keys=True, ensure_ascii=True) byte for byte", () => {
    const numbers = Array.from({ length: 300 }, (_, i) => {
      const m = Math.sin(i * 7.13) * 10 ** ((i % 41) - 20);
      return i % 3 === 0 ? String(Math.round(m * 1e6)) : m.toExponential(i % 17);
    });
    const text = `{"z": [${numbers.join(", ")}], "a": {"é\\u0001\\"\\\\": NaN, "\\ud83d\\ude00": -Infinity, "b": [], "c": {}}, "big": 123456789012345678901234567890, "neg0": -0, "f": -0.0, "t": true, "n": null, "A": "\\u007f/"}`;
    const ours = pyDumps(pyLoads(text, "x"));
    const theirs = python("import json, sys\nsys.stdout.write(json.dumps(json.loads(sys.stdin.read()), indent=4, sort_keys=True, ensure_ascii=True, separators=(',', ': ')))", text);
    if (theirs === null) return; // no python3 here: the cases above still hold
    expect(ours).toBe(theirs);
  });
});
