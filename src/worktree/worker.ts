/**
 * The working copy's worker thread (started by shareWork): checks its job,
 * does the items it takes from the shared counter with the functions the main
 * thread uses, and posts one reply, its result or its error as data
 * (worker-protocol.ts). Started as a verify pool's worker, it serves that
 * pool's tasks instead (remote/verify-pool.ts).
 */
import { parentPort, workerData } from "node:worker_threads";
import { copyOnWorker } from "./checkout-copy.js";
import { scanOnWorker } from "./scan.js";
import { storeOnWorker } from "./store-files.js";
import { runVerifyTask } from "../store/verified-copy.js";
import { parseJob, parseVerifyMessage, sendError, type VerifyAnswer, type WorkerJob, type WorkerReply } from "./worker-protocol.js";

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

/** A verify pool's worker: answers each task it is sent until the pool lets it go. */
function serveVerifyTasks(): void {
  const block = Buffer.allocUnsafe(1 << 20);
  parentPort?.on("message", (m: unknown) => {
    let answer: VerifyAnswer;
    try {
      const task = parseVerifyMessage(m);
      answer = { seq: task.seq, outcome: runVerifyTask(task, block) };
    } catch (err) {
      answer = { seq: typeof (m as { seq?: unknown })?.seq === "number" ? (m as { seq: number }).seq : -1, error: sendError(err) };
    }
    parentPort?.postMessage(answer);
  });
}

async function main(): Promise<void> {
  let reply: WorkerReply;
  try {
    const job = parseJob(workerData);
    if (job.kind === "verify-pool") return serveVerifyTasks();
    reply = await run(job);
  } catch (err) {
    reply = { kind: "error", error: sendError(err) };
  }
  // a scan's numbers are handed over, not copied
  parentPort?.postMessage(reply, reply.kind === "scan" ? [reply.stats.buffer as ArrayBuffer] : []);
}

void main();
