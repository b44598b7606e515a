// One slice of the seeded history, in its own process (see seedHistory in app-adapter.ts).
import { seedRange } from './app-adapter.js';

const { storeUrl, n, from, to } = JSON.parse(process.argv[2]!) as { storeUrl: string; n: number; from: number; to: number };
const result = await seedRange(storeUrl, n, from, to);
process.stdout.write(JSON.stringify(result));
