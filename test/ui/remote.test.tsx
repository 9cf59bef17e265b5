/** `tdv ui --remote`: a remote's history and a pushed commit's review, read in place without a fetch; no merge screen. */
import path from "node:path";
import { render } from "ink-testing-library";
import { describe, expect, it } from "vitest";
import { addRemote, push, remoteRepository, type Repository } from "../../src/index.js";
import { App } from "../../cli/ui/components/App.js";
import { repoSource } from "../../cli/ui/data/source.js";
import { counting } from "../helpers/counting-backend.js";
import { tempDir } from "../helpers/fixture.js";
import { historyRepo, KEYS, press, selectCommit, waitFor } from "./helpers.js";

describe("tdv ui --remote", () => {
  it("browses a remote's branches, reviews a pushed commit down to a chunk's values, and reads no chunk it does not show", async () => {
    const { repo, store } = await historyRepo();
    const url = path.join(await tempDir(), "remote");
    await addRemote(repo, { name: "origin", url });
    await push(repo, { remote: "origin", refs: ["main", "feature"], tags: true });
    const log: string[] = [];
    const there = await remoteRepository("origin", { repo, cacheDir: await tempDir(), wrapBackend: counting(log) });
    // as `tdv ui --remote` hands it: the working-copy verbs (merge, resolve) are never called on a remote
    const source = repoSource(there as unknown as Repository, { remote: "origin" });
    expect(await source.merging()).toBe(false);
    const ui = render(<App source={source} color={false} size={{ width: 80, height: 24 }} />);
    let f = await waitFor(ui.lastFrame, (s) => s.includes("feature: fix") && s.includes("9 arrays"), "the remote's history");
    expect(f.split("\n")[0]).toContain("tdv ui origin · history of all branches and tags");
    await selectCommit(ui, "feature: fix");
    await press(ui.stdin, KEYS.enter);
    f = await waitFor(ui.lastFrame, (s) => s.includes("ocean.zarr/sst  modified"), "the review");
    const chunksBefore = log.filter((k) => k.startsWith("chunks/")).length;
    expect(chunksBefore).toBe(0); // history and the diff: metadata and manifests only
    await press(ui.stdin, KEYS.enter);
    f = await waitFor(ui.lastFrame, (s) => /^\[0,3,4\]\s+21\.97\s+11\.5\s+10\.47\s*$/m.test(s), "chunk [0,0,0]'s values, read from the remote");
    // that chunk before and after, and one chunk each of the time, lat and lon coordinate arrays (the axes' labels)
    expect(log.filter((k) => k.startsWith("chunks/")).length).toBe(5);
    await press(ui.stdin, KEYS.escape, KEYS.escape);
    await waitFor(ui.lastFrame, (s) => s.includes("history of all branches"), "back to the history");
    await press(ui.stdin, "C");
    await waitFor(ui.lastFrame, (s) => s.includes("No merge in progress."), "no merge on a remote");
    ui.unmount();
    expect(store).toBe("ocean.zarr");
  });
});
