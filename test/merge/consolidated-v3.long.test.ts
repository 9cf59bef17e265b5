/**
 * v3 consolidated metadata (zarr-python 3 keeps it in the root zarr.json)
 * rebuilt after a merge is byte for byte what zarr-python 3's
 * consolidate_metadata writes: its order (by depth, then NFKC-casefolded
 * name) and its `json.dumps(d, indent=2)` (keys in order, floats as Python's
 * repr, ASCII only), here reproduced with Python's json module.
 */
import { promises as fsp } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { merge } from "../../src/index.js";
import { hasZarrPython, python } from "../helpers/zarr-python.js";
import { commitAll, diverge, repoFrom } from "./helpers.js";

/** Every zarr.json below `store` as zarr-python 3 writes it; then `edit` (Python) on one node's attributes; then consolidation. */
const script = (store: string, edit: string) => `
import os, unicodedata
root = '${store}'
def load(p): return json.load(open(p))
def save(p, d): open(p, 'w').write(json.dumps(d, indent=2))
for d, _, files in os.walk(root):
  if 'zarr.json' in files and d != root: save(d + '/zarr.json', load(d + '/zarr.json'))
${edit}
doc = load(root + '/zarr.json')
listed = doc['consolidated_metadata']['metadata']
nodes = sorted((os.path.relpath(d, root) for d, _, f in os.walk(root) if 'zarr.json' in f and d != root), key=lambda k: (k.count('/'), unicodedata.normalize('NFKC', k).casefold()))
md = {}
for k in nodes:
  c = load(root + '/' + k + '/zarr.json')
  if 'consolidated_metadata' in listed.get(k, {}): c['consolidated_metadata'] = listed[k]['consolidated_metadata']
  else: c.pop('consolidated_metadata', None)
  md[k] = c
doc['consolidated_metadata']['metadata'] = md
save(root + '/zarr.json', doc)
`;

const attrs = (node: string, code: string) => `p = root + '/${node}/zarr.json'\nd = load(p)\n${code}\nsave(p, d)`;

describe.skipIf(!hasZarrPython())("v3 consolidated metadata after a merge", () => {
  it("is the bytes zarr-python 3's consolidate_metadata writes (floats, non-ASCII, order)", async () => {
    const { repo, dir, store } = await repoFrom("v3/consolidated.zarr");
    await python(dir, script(store, attrs("pressure", "d['attributes'].update({'scale': 1e-05, 'offset': 0.0, 'label': 'pression \\u00e9'})")));
    await commitAll(repo, "zarr-python 3 style");
    await diverge(
      repo,
      dir,
      () => python(dir, script(store, attrs("pressure", "d['attributes']['note'] = 'ours \\u00e9t\\u00e9'"))).then(() => undefined),
      () => python(dir, script(store, attrs("nested/humidity", "d['attributes']['units'] = '%'; d['attributes']['gain'] = 2.0"))).then(() => undefined),
    );
    const r = await merge(repo, { rev: "feature" });
    expect(r.kind).toBe("merged");
    const root = path.join(dir, store, "zarr.json");
    const merged = await fsp.readFile(root, "utf8");
    await python(dir, script(store, ""));
    expect(merged).toBe(await fsp.readFile(root, "utf8"));
    expect(merged).toContain('"scale": 1e-05');
    expect(merged).toContain('"note": "ours \\u00e9t\\u00e9"');
    expect(merged).toContain('"gain": 2.0');
  });
});
