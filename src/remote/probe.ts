/**
 * Which of a set of objects a remote already holds, for a resumed push: an
 * interrupted push leaves its uploaded chunks on the remote (content-
 * addressed, so they are valid), and the next push must not send them again.
 *
 * The cheaper of two ways, decided per fan-out folder ("chunks/ab/"):
 * - HEAD each object (its size is checked too: a wrong size is re-sent), or
 * - LIST the folder (one request per 1,000 keys).
 * A few objects are HEADed. For more, one folder is listed first to estimate
 * how full the remote is; a remote nearly empty (a first push) is then listed
 * whole in a request or two, a full one folder by folder or by HEADs,
 * whichever takes fewer requests. Writes are atomic on every backend (S3 PUT,
 * temp + rename), so a listed key is a whole object.
 */
import type { ObjectBackend } from "./backend.js";
import { mapSettled } from "./transfer.js";

export interface ProbeItem {
  key: string;
  /** the size the object must have, when known */
  size?: number;
}

export interface ProbeResult {
  /** keys found on the remote (with the right size where it was checked) */
  present: Set<string>;
  heads: number;
  /** listing requests (pages) */
  lists: number;
}

/** HEAD requests below this count are always cheaper than estimating. */
const FEW = 32;
/** keys per listing page (S3's default and maximum) */
const PAGE = 1000;
/** fan-out folders per area ("chunks/00/" … "chunks/ff/") */
const FANOUT = 256;

export async function probeRemote(backend: ObjectBackend, items: readonly ProbeItem[], concurrency: number, signal?: AbortSignal): Promise<ProbeResult> {
  const res: ProbeResult = { present: new Set(), heads: 0, lists: 0 };
  if (items.length === 0) return res;
  const headAll = async (list: readonly ProbeItem[]) => {
    const found = await mapSettled(list, concurrency, async (it) => {
      signal?.throwIfAborted();
      res.heads++;
      const info = await backend.head(it.key);
      return info !== null && (it.size === undefined || info.size === it.size);
    });
    list.forEach((it, i) => {
      if (found[i]) res.present.add(it.key);
    });
  };
  if (items.length <= FEW) {
    await headAll(items);
    return res;
  }
  const listKeys = async (prefix: string): Promise<Set<string>> => {
    const keys = new Set<string>();
    let n = 0;
    for await (const k of backend.list(prefix)) {
      keys.add(k);
      n++;
    }
    res.lists += Math.max(1, Math.ceil(n / PAGE));
    return keys;
  };
  // group by area ("chunks/", "git/objects/") and fan-out folder
  const areas = new Map<string, Map<string, ProbeItem[]>>();
  for (const it of items) {
    const folder = it.key.slice(0, it.key.lastIndexOf("/") + 1);
    const area = folder.slice(0, folder.slice(0, -1).lastIndexOf("/") + 1);
    let byFolder = areas.get(area);
    if (!byFolder) {
      byFolder = new Map();
      areas.set(area, byFolder);
    }
    const list = byFolder.get(folder);
    if (list) list.push(it);
    else byFolder.set(folder, [it]);
  }
  for (const [area, byFolder] of areas) {
    signal?.throwIfAborted();
    const count = [...byFolder.values()].reduce((s, l) => s + l.length, 0);
    if (count <= FEW || area === "") {
      await headAll([...byFolder.values()].flat());
      continue;
    }
    // sample the fullest folder: its size estimates every folder's
    const [sampleFolder, sampleItems] = [...byFolder].reduce((a, b) => (b[1].length > a[1].length ? b : a));
    const sample = await listKeys(sampleFolder);
    for (const it of sampleItems) if (sample.has(it.key)) res.present.add(it.key);
    const perFolderPages = Math.max(1, Math.ceil(sample.size / PAGE));
    const wholeAreaPages = Math.max(1, Math.ceil((sample.size * FANOUT) / PAGE));
    const rest = [...byFolder].filter(([f]) => f !== sampleFolder);
    const restCost = rest.reduce((s, [, l]) => s + Math.min(l.length, perFolderPages), 0);
    if (rest.length > 0 && wholeAreaPages < restCost) {
      const all = await listKeys(area);
      for (const [, l] of rest) for (const it of l) if (all.has(it.key)) res.present.add(it.key);
      continue;
    }
    const toHead: ProbeItem[] = [];
    const toList = rest.filter(([, l]) => {
      if (perFolderPages < l.length) return true;
      toHead.push(...l);
      return false;
    });
    await mapSettled(toList, Math.min(concurrency, 8), async ([folder, l]) => {
      const keys = await listKeys(folder);
      for (const it of l) if (keys.has(it.key)) res.present.add(it.key);
    });
    await headAll(toHead);
  }
  return res;
}
