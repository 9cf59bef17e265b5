/**
 * Versions: of the repository and remote layout (`formatVersion` in tdv.json;
 * a newer one is refused) and of tdv itself (recorded by init and in commits).
 */
export const REPO_FORMAT_VERSION = 1;
export const TDV_VERSION = "0.1.0";
