import { createHash } from "node:crypto";

/** SHA-256 of a chunk object's exact bytes, as 64 lowercase hex digits. */
export type ChunkId = string & { readonly __brand: "ChunkId" };

/** A Git object id (SHA-1, 40 lowercase hex digits) as isomorphic-git uses it. */
export type GitOid = string & { readonly __brand: "GitOid" };

const CHUNK_ID = /^[0-9a-f]{64}$/;
const GIT_OID = /^[0-9a-f]{40}$/;

export function sha256(bytes: Uint8Array): ChunkId {
  return createHash("sha256").update(bytes).digest("hex") as ChunkId;
}

export function isChunkId(s: string): s is ChunkId {
  return CHUNK_ID.test(s);
}

export function isGitOid(s: string): s is GitOid {
  return GIT_OID.test(s);
}

export function chunkIdFromBytes(raw: Uint8Array): ChunkId {
  return Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString("hex") as ChunkId;
}

export function chunkIdToBytes(id: ChunkId): Uint8Array {
  return Buffer.from(id, "hex");
}
