/** The functions of the public index that load with the first call of one of them (src/index.ts, `later`): remote. */
export { clone } from "../remote/clone.js";
export { fetch } from "../remote/fetch.js";
export { RemoteRepo } from "../remote/layout.js";
export { objectsToSend } from "../remote/negotiate.js";
export { pull } from "../remote/pull.js";
export { push } from "../remote/push.js";
export { remoteFsck } from "../remote/remote-fsck.js";
export { remoteGc } from "../remote/remote-gc.js";
export { remoteRepository, remoteSource } from "../remote/remote-source.js";
export { openRemoteWriteSession, remoteWriteRepository } from "../remote/remote-write.js";
export { commitStaged, stage, walkStageDir } from "../remote/stage.js";
export { lsRemote, remoteShow } from "../remote/upkeep.js";
