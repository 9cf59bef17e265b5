/**
 * The working copy's worker thread (started by shareWork): checks its job,
 * does the items it takes from the shared counter with the functions the main
 * thread uses, and posts one reply, its result or its error as data
 * (worker-protocol.ts).
 */
import { parentPort, workerData } from "node:worker_threads";
import { copyOnWorker } from "./checkout-copy.js";
import { scanOnWorker } from "./scan.js";
import { storeOnWorker } from "./store-files.js";
import { parseJob, sendError, type WorkerJob, type WorkerReply } from "./worker-protocol.js";

async function run(job: WorkerJob): Promise<WorkerReply> {
  switch (job.kind) {
    case "scan":
      return scanOnWorker(job);
    case "store":
      return storeOnWorker(job);
    case "copy":
      return copyOnWorker(job);
  }
}

async function main(): Promise<void> {
  let reply: WorkerReply;
  try {
    reply = await run(parseJob(workerData));
  } catch (err) {
    reply = { kind: "error", error: sendError(err) };
  }
  parentPort?.postMessage(reply);
}

void main();
