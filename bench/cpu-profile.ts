// Summarises a V8 .cpuprofile (node --cpu-prof): self time per function, top first, so the bench
// can say where the service spends its CPU without a viewer.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
}

export interface SelfTime {
  name: string;
  location: string;
  selfMs: number;
  share: number;
}

export async function summariseProfiles(folder: string, top = 15): Promise<{ totalMs: number; rows: SelfTime[] }> {
  const files = (await readdir(folder)).filter((name) => name.endsWith('.cpuprofile'));
  const byFunction = new Map<string, SelfTime>();
  let totalMs = 0;
  for (const file of files) {
    const profile = JSON.parse(await readFile(path.join(folder, file), 'utf8')) as CpuProfile;
    const sampleMs = (profile.endTime - profile.startTime) / 1000 / Math.max(1, profile.samples.length);
    for (const node of profile.nodes) {
      const hits = node.hitCount ?? 0;
      if (hits === 0) continue;
      const { functionName, url, lineNumber } = node.callFrame;
      const location = url ? `${shorten(url)}:${lineNumber + 1}` : '';
      const name = functionName || '(anonymous)';
      const key = `${name}@${location}`;
      const row = byFunction.get(key) ?? { name, location, selfMs: 0, share: 0 };
      row.selfMs += hits * sampleMs;
      byFunction.set(key, row);
      totalMs += hits * sampleMs;
    }
  }
  const rows = [...byFunction.values()]
    .filter((row) => row.name !== '(idle)')
    .sort((a, b) => b.selfMs - a.selfMs)
    .slice(0, top)
    .map((row) => ({ ...row, share: row.selfMs / totalMs }));
  return { totalMs, rows };
}

function shorten(url: string): string {
  const marker = url.lastIndexOf('node_modules/');
  if (marker >= 0) return url.slice(marker + 'node_modules/'.length);
  return url.replace(/^file:\/\/.*?\/(src|machines)\//, '$1/');
}
