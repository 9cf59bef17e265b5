export interface S3RequestLog {
  method: string;
  bucket: string;
  key: string;
  query: string;
  status: number;
  bytesIn: number;
  bytesOut: number;
  fault: boolean;
}

export interface S3Fault {
  method?: string;
  match?: RegExp;
  status?: number;
  code?: string;
  times?: number;
  kind?: "status" | "reset";
}

export interface S3TestServer {
  endpoint: string;
  port: number;
  dataDir: string;
  bucket: string;
  state: { etagStyle: "quoted" | "unquoted"; maxKeys: number | undefined; requireAuth: boolean; faults: Required<S3Fault>[]; requests: S3RequestLog[] };
  readonly requests: S3RequestLog[];
  resetLog(): void;
  fault(f: S3Fault): Required<S3Fault>;
  clearFaults(): void;
  objectPath(key: string, bucket?: string): string;
  env(extra?: Record<string, string>): Record<string, string>;
  stop(): Promise<void>;
}

export function startS3Server(opts?: {
  buckets?: string[];
  etagStyle?: "quoted" | "unquoted";
  maxKeys?: number;
  dir?: string;
}): Promise<S3TestServer>;
