#!/usr/bin/env node
/** The command line from tsc's output (`node dist/cli/bin.js`); users run the bundle, `dist/bin/tdv.js`. */
import { main } from "./main.js";

await main(process.argv);
