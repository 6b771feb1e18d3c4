import { fingerprint } from '@gtb/logger';
import { profileHosts, type ProfileConfig } from './profile-config.js';
import type { ProfileInfo } from '../ports.js';

/** One configured profile: its validated configuration and the view the admin API shows (no secrets). */
export interface RegisteredProfile {
  name: string;
  config: ProfileConfig;
  info: ProfileInfo;
}

/**
 * The broker's one list of profiles, built once from the validated configuration (the broker's
 * config schema refuses duplicate names). The token service, token access and the admin routes
 * all read it; nothing else keeps a list of profiles.
 */
export interface ProfileRegistry {
  get(name: string): RegisteredProfile | undefined;
  names(): string[];
  all(): readonly RegisteredProfile[];
}

export function createProfileRegistry(configs: readonly ProfileConfig[]): ProfileRegistry {
  const byName = new Map<string, RegisteredProfile>();
  for (const config of configs) {
    const info: ProfileInfo = { name: config.name, region: config.region, ...profileHosts(config), clientIdFingerprint: fingerprint(config.clientId) };
    byName.set(config.name, { name: config.name, config, info });
  }
  const all = [...byName.values()];
  const names = all.map((p) => p.name);
  return {
    get: (name) => byName.get(name),
    names: () => [...names],
    all: () => all,
  };
}
