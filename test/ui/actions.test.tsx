/** Acting from the history on a real repository: a branch and a tag at a commit, a switch (asked first), a merge of a marked branch that stops on conflicts. */
import { render } from "ink-testing-library";
import { describe, expect, it } from "vitest";
import { currentBranch, listBranches, listTags, resolveRevision, status, switchBranch } from "../../src/index.js";
import { App } from "../../cli/ui/components/App.js";
import { repoSource } from "../../cli/ui/data/source.js";
import { answer, planMerge, planSwitch } from "../../cli/ui/state/actions.js";
import { commitAll, flat, repoFrom, setPoints, values } from "../merge/helpers.js";
import { historyRepo, KEYS, press, selectCommit, selectedLine, waitFor } from "./helpers.js";

const SIZE = { width: 80, height: 24 };

describe("acting from the history", () => {
  it("plans: a switch to the commit's branch or a detached checkout; a merge needs a mark and a current branch; a name is typed", () => {
    const e = { oid: "a".repeat(40), parents: [], author: { name: "", email: "", timestamp: 0, tzOffset: 0 }, committer: { timestamp: 0 }, message: "", refs: ["HEAD", "main", "feature", "tag: v1"] };
    expect(planSwitch(e, "main")).toMatchObject({ deed: { what: "switch", branch: "feature" } });
    expect(planSwitch({ ...e, refs: ["HEAD", "main"] }, "main")).toEqual({ note: "already on 'main'" });
    expect(planSwitch({ ...e, refs: [] }, "main")).toMatchObject({ deed: { what: "checkout", rev: e.oid } });
    expect(planMerge(null, "main")).toHaveProperty("note");
    expect(planMerge(e, null)).toHaveProperty("note");
    expect(planMerge(e, "main")).toMatchObject({ deed: { what: "merge", rev: "feature", into: "main" }, text: "merge 'feature' into 'main'? y/n" });
    const p = { kind: "name" as const, what: "tag" as const, at: e.oid, name: "v" };
    const k = { input: "", enter: false, escape: false, backspace: false };
    expect(answer(p, { ...k, input: "2" }).pending).toMatchObject({ name: "v2" });
    expect(answer(p, { ...k, backspace: true }).pending).toMatchObject({ name: "" });
    expect(answer(p, { ...k, enter: true }).deed).toEqual({ what: "tag", at: e.oid, name: "v" });
    expect(answer({ ...p, name: "" }, { ...k, enter: true })).toEqual({ pending: { ...p, name: "" }, deed: null });
    expect(answer(p, { ...k, escape: true })).toEqual({ pending: null, deed: null });
  });

  it("B and t create a branch and a tag at the selected commit; s asks, n keeps, y switches", async () => {
    const { repo, dir, store } = await historyRepo();
    const ui = render(<App source={repoSource(repo)} color={false} size={SIZE} />);
    await waitFor(ui.lastFrame, (s) => s.includes("9 arrays"));
    await selectCommit(ui, "feature: fix");
    const at = await resolveRevision(repo, "feature");
    await press(ui.stdin, "B");
    await waitFor(ui.lastFrame, (s) => s.includes(`new branch at ${at.slice(0, 7)}: _`), "the name prompt");
    ui.stdin.write("qa"); // q is a letter of the name here, not quit
    await press(ui.stdin, KEYS.backspace, "-review", KEYS.enter);
    await waitFor(ui.lastFrame, (s) => s.includes(`branch 'q-review' created at ${at.slice(0, 7)}`), "the branch made");
    expect((await listBranches(repo)).find((b) => b.name === "q-review")?.oid).toBe(at);
    await waitFor(ui.lastFrame, (s) => selectedLine(s).includes("q-review"), "the new branch decorated");
    await press(ui.stdin, "t", "v", "2", KEYS.enter);
    await waitFor(ui.lastFrame, (s) => s.includes("tag 'v2' created"), "the tag made");
    expect((await listTags(repo)).find((t) => t.name === "v2")?.oid).toBe(at);
    await press(ui.stdin, "s");
    await waitFor(ui.lastFrame, (s) => /switch to branch '(feature|q-review)'\? y\/n/.test(s), "the question");
    await press(ui.stdin, "n");
    await waitFor(ui.lastFrame, (s) => !s.includes("y/n"), "no");
    expect(await currentBranch(repo)).toBe("main");
    await press(ui.stdin, "s", "y");
    await waitFor(ui.lastFrame, (s) => /switched to branch '(feature|q-review)'/.test(s), "switched");
    const on = await currentBranch(repo);
    expect(["feature", "q-review"]).toContain(on);
    // the command's own safety: uncommitted work in a chunk the switch would change is not overwritten
    await setPoints(dir, `${store}/sst`, { "5,15,22": 77 }); // chunk [2,1,2]: main changed it, feature did not
    await press(ui.stdin, "g"); // the first commit: main's merge
    await waitFor(ui.lastFrame, (s) => selectedLine(s).includes("Merge branch"), "main's commit");
    await press(ui.stdin, "s", "y");
    const f = await waitFor(ui.lastFrame, (s) => s.includes("error:"), "the refusal");
    expect(f.split("\n").find((l) => l.startsWith("error:"))).toMatch(/sst/);
    expect(await currentBranch(repo)).toBe(on);
    expect((await values(dir, `${store}/sst`))[flat([6, 16, 24], [5, 15, 22])]).toBe(77);
    ui.unmount();
  });

  it("m marks a branch's commit, M merges it into the current branch; conflicts open their screen", async () => {
    const { repo, dir, store } = await repoFrom("v3/ocean.zarr");
    await switchBranch(repo, { name: "feature", create: true });
    await setPoints(dir, `${store}/sst`, { "0,3,4": 22 });
    await commitAll(repo, "theirs: 22");
    await switchBranch(repo, { name: "main" });
    await setPoints(dir, `${store}/sst`, { "0,3,4": 11 });
    await commitAll(repo, "ours: 11");
    const ui = render(<App source={repoSource(repo)} color={false} size={SIZE} />);
    await waitFor(ui.lastFrame, (s) => s.includes("theirs: 22"));
    await press(ui.stdin, "M");
    await waitFor(ui.lastFrame, (s) => s.includes("mark the commit or branch to merge first"), "a mark needed");
    await selectCommit(ui, "theirs: 22");
    await press(ui.stdin, "m", "M");
    await waitFor(ui.lastFrame, (s) => s.includes("merge 'feature' into 'main'? y/n"), "the question");
    await press(ui.stdin, "y");
    const f = await waitFor(ui.lastFrame, (s) => s.includes("Merging 'feature' into main: 1 open"), "the conflicts screen");
    expect(f).toMatch(/chunk \[0,0,0\]/);
    expect((await status(repo)).merge?.conflicts).toHaveLength(1);
    ui.unmount();
  });
});
