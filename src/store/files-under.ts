import type { Dirent } from "node:fs";
import { promises as fsp } from "node:fs";
import path from "node:path";

export interface FileUnder {
  /** path relative to the folder walked, parts joined by "/" */
  rel: string;
  abs: string;
  ent: Dirent;
}

/**
 * Every entry under `dir` that is not a folder, recursively (a symbolic link is
 * listed, never followed), in no particular order. A folder that cannot be read
 * (missing, removed meanwhile) is passed over; `skipDir` names folders not to
 * enter. The one walker of refs, reflogs, locks and fsck's listings.
 */
export async function filesUnder(dir: string, skipDir?: (abs: string) => boolean): Promise<FileUnder[]> {
  const out: FileUnder[] = [];
  const walk = async (d: string, rel: string): Promise<void> => {
    let ents: Dirent[];
    try {
      ents = await fsp.readdir(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const ent of ents) {
      const abs = path.join(d, ent.name);
      const r = rel ? `${rel}/${ent.name}` : ent.name;
      if (!ent.isDirectory()) out.push({ rel: r, abs, ent });
      else if (!skipDir?.(abs)) await walk(abs, r);
    }
  };
  await walk(dir, "");
  return out;
}
