#!/usr/bin/env node
/**
 * The command line's entry: `dist/bin/tdv.js`, the bundle scripts/bundle.mjs
 * makes of it (what users run), or tsc's output `node dist/cli/bin.js`.
 */
import { main } from "./main.js";

await main(process.argv);
