/**
 * `tdv ui`: the full-screen terminal app. Loaded only by `cli/commands/ui.ts`
 * through a dynamic import, so Ink and React cost nothing to other commands.
 */
import { render } from "ink";
import type { Repository } from "../../src/index.js";
import { App } from "./components/App.js";
import { colorFromEnv } from "./components/theme.js";
import { depthFromEnv } from "./data/pixels.js";
import { repoSource } from "./data/source.js";

export interface RunOptions {
  repo: Repository;
  /** the revision whose history to show; null: every branch and tag */
  rev: string | null;
  /** `repo` is a remote read in place: its name or URL, for the header */
  remote?: string;
}

const ENTER_ALT_SCREEN = "\x1b[?1049h\x1b[H";
const LEAVE_ALT_SCREEN = "\x1b[?1049l";

/** Run the app until the user quits; the exit code. */
export async function runUi({ repo, rev, remote }: RunOptions): Promise<number> {
  const source = repoSource(repo, remote === undefined ? {} : { remote });
  if (rev !== null) await source.resolve(rev); // an unknown revision fails here, before the screen is taken
  const start = (await source.merging()) ? "conflicts" : "history";
  const out = process.stdout;
  out.write(ENTER_ALT_SCREEN);
  try {
    const app = render(<App source={source} rev={rev} color={colorFromEnv()} depth={depthFromEnv() === "24bit" ? "24bit" : "256"} start={start} />, { exitOnCtrlC: true, patchConsole: true });
    await app.waitUntilExit();
  } finally {
    out.write(LEAVE_ALT_SCREEN);
  }
  return 0;
}
