/**
 * Where an S3 client finds its settings, as the AWS CLI and SDKs do:
 *
 *   endpoint     AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL (any S3-compatible server)
 *   region       AWS_REGION, AWS_DEFAULT_REGION, the profile's `region` in
 *                ~/.aws/config (AWS_CONFIG_FILE), else us-east-1
 *   credentials  AWS_ACCESS_KEY_ID + AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN),
 *                else the profile AWS_PROFILE (default "default") in
 *                ~/.aws/credentials (AWS_SHARED_CREDENTIALS_FILE) or ~/.aws/config
 *
 * SSO, credential_process, and instance/container metadata are not read.
 */
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface AwsSettings {
  endpoint: string | null;
  region: string;
  credentials: AwsCredentials | null;
  /** where the credentials came from, for messages */
  source: string;
}

/** Sections of an INI file: `[name]` → key → value. */
export function parseIni(text: string): Map<string, Map<string, string>> {
  const out = new Map<string, Map<string, string>>();
  let cur: Map<string, string> | null = null;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#") || line.startsWith(";")) continue;
    const sec = /^\[\s*(.+?)\s*\]$/.exec(line);
    if (sec) {
      cur = new Map();
      out.set(sec[1] as string, cur);
      continue;
    }
    const eq = line.indexOf("=");
    if (cur && eq > 0) cur.set(line.slice(0, eq).trim().toLowerCase(), line.slice(eq + 1).trim());
  }
  return out;
}

function readIni(file: string): Map<string, Map<string, string>> {
  try {
    return parseIni(readFileSync(file, "utf8"));
  } catch {
    return new Map();
  }
}

export function awsSettings(env: NodeJS.ProcessEnv = process.env): AwsSettings {
  const home = env.HOME ?? env.USERPROFILE ?? os.homedir();
  const profile = env.AWS_PROFILE ?? env.AWS_DEFAULT_PROFILE ?? "default";
  const credFile = env.AWS_SHARED_CREDENTIALS_FILE ?? path.join(home, ".aws", "credentials");
  const configFile = env.AWS_CONFIG_FILE ?? path.join(home, ".aws", "config");
  const config = readIni(configFile);
  const confSection = config.get(profile === "default" ? "default" : `profile ${profile}`) ?? config.get(profile);

  const endpoint = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || confSection?.get("endpoint_url") || null;
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION || confSection?.get("region") || "us-east-1";

  if (env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY) {
    return {
      endpoint,
      region,
      credentials: {
        accessKeyId: env.AWS_ACCESS_KEY_ID,
        secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
        ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
      },
      source: "the environment (AWS_ACCESS_KEY_ID)",
    };
  }
  for (const [file, section] of [
    [credFile, readIni(credFile).get(profile)],
    [configFile, confSection],
  ] as const) {
    const id = section?.get("aws_access_key_id");
    const secret = section?.get("aws_secret_access_key");
    if (id && secret) {
      const token = section?.get("aws_session_token");
      return {
        endpoint,
        region,
        credentials: { accessKeyId: id, secretAccessKey: secret, ...(token ? { sessionToken: token } : {}) },
        source: `profile '${profile}' in ${file}`,
      };
    }
  }
  return { endpoint, region, credentials: null, source: `none (no AWS_ACCESS_KEY_ID, no profile '${profile}' in ${credFile})` };
}
