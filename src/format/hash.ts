import crypto, { createHash } from "node:crypto";

/** SHA-256 of a chunk object's exact bytes, as 64 lowercase hex digits. */
export type ChunkId = string & { readonly __brand: "ChunkId" };

/** A Git object id (SHA-1, 40 lowercase hex digits) as isomorphic-git uses it. */
export type GitOid = string & { readonly __brand: "GitOid" };

const CHUNK_ID = /^[0-9a-f]{64}$/;
const GIT_OID = /^[0-9a-f]{40}$/;

/** One-shot hashing where Node has it (20.12+): no Hash object per call, which counts for thousands of small objects. */
const oneShot = (crypto as { hash?: (algorithm: string, data: Uint8Array, encoding: "hex") => string }).hash;

function hexDigest(algorithm: "sha1" | "sha256", bytes: Uint8Array): string {
  return oneShot ? oneShot(algorithm, bytes, "hex") : createHash(algorithm).update(bytes).digest("hex");
}

export function sha256(bytes: Uint8Array): ChunkId {
  return hexDigest("sha256", bytes) as ChunkId;
}

/** SHA-1 of bytes, as Git names a whole object (header included). */
export function sha1(bytes: Uint8Array): GitOid {
  return hexDigest("sha1", bytes) as GitOid;
}

export function isChunkId(s: string): s is ChunkId {
  return CHUNK_ID.test(s);
}

export function isGitOid(s: string): s is GitOid {
  return GIT_OID.test(s);
}

export function chunkIdToBytes(id: ChunkId): Uint8Array {
  return Buffer.from(id, "hex");
}
