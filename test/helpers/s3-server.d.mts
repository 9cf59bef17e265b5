export interface S3RequestLog {
  method: string;
  bucket: string;
  key: string;
  query: string;
  status: number;
  bytesIn: number;
  bytesOut: number;
  fault: boolean;
  /** the If-Match header as sent, if any */
  ifMatch: string | undefined;
  /** the If-None-Match header as sent, if any */
  ifNoneMatch: string | undefined;
}

export interface S3Fault {
  method?: string;
  match?: RegExp;
  status?: number;
  code?: string;
  times?: number;
  kind?: "status" | "reset";
}

export interface S3Behaviour {
  etagStyle: "quoted" | "unquoted";
  ifMatch: "exact" | "lenient" | "bare-only" | "never";
  raceStatus: 412 | 409 | 500;
  ignoreConditions: boolean;
}

export type S3Mode = "verbatim-quoted" | "lenient" | "quoted-refused" | "verbatim-unquoted" | "race-409" | "race-500" | "ignores-conditions";

export const MODES: Record<S3Mode, S3Behaviour>;

export interface S3TestServer {
  endpoint: string;
  port: number;
  dataDir: string;
  bucket: string;
  state: S3Behaviour & { beforeConditionalPut?: ((key: string) => Promise<void>) | undefined; maxKeys: number | undefined; requireAuth: boolean; faults: Required<S3Fault>[]; requests: S3RequestLog[] };
  readonly requests: S3RequestLog[];
  resetLog(): void;
  fault(f: S3Fault): Required<S3Fault>;
  clearFaults(): void;
  /** behave as MODES[name] from now on */
  mode(name: S3Mode): void;
  objectPath(key: string, bucket?: string): string;
  env(extra?: Record<string, string>): Record<string, string>;
  stop(): Promise<void>;
}

export function startS3Server(opts?: {
  buckets?: string[];
  etagStyle?: "quoted" | "unquoted";
  maxKeys?: number;
  dir?: string;
  mode?: S3Mode;
}): Promise<S3TestServer>;
