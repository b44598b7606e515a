// Where the CPU went: the self time of the hottest functions of a V8 .cpuprofile (node --cpu-prof).
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export function topSelfTime(path: string, root: string, limit = 15): string {
  const p = JSON.parse(readFileSync(path, 'utf8')) as Profile;
  const perNode = new Map<number, number>();
  p.samples.forEach((id, i) => perNode.set(id, (perNode.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  const perFunction = new Map<string, number>();
  for (const n of p.nodes) {
    const us = perNode.get(n.id);
    if (!us) continue;
    const url = n.callFrame.url.replace(/^file:\/\//, '');
    const where = url ? `${url.startsWith(root) ? relative(root, url) : url}:${n.callFrame.lineNumber + 1}` : '';
    const key = `${n.callFrame.functionName || '(anonymous)'} ${where}`.trim();
    perFunction.set(key, (perFunction.get(key) ?? 0) + us);
  }
  const total = [...perFunction.values()].reduce((a, b) => a + b, 0);
  const busy = [...perFunction].filter(([k]) => k !== '(idle)').reduce((a, [, v]) => a + v, 0);
  const lines = [...perFunction]
    .filter(([k]) => k !== '(idle)')
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([k, us]) => `${(us / 1000).toFixed(0).padStart(8)} ms ${((100 * us) / busy).toFixed(1).padStart(5)} %  ${k}`);
  return [`${relative(root, path)}: ${(busy / 1e6).toFixed(1)} s busy of ${(total / 1e6).toFixed(1)} s sampled; self time, hottest first`, ...lines].join('\n');
}
