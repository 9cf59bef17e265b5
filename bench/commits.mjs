// Make N commits in the tdv repository of the current folder (for the log benchmark).
import { commit, Repository } from "../dist/src/index.js";

const n = Number(process.argv[2] ?? 1000);
const repo = await Repository.open({ dir: process.cwd() });
for (let i = 0; i < n; i++) await commit(repo, { message: `c${i}`, allowEmpty: true });
