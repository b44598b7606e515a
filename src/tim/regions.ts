// REST domains per data center. Reference: /work/shared/reference/tencent-im-push.md §1.2.
// Use the region where the SDKAppID was created; a wrong one fails with 70016 / 70020.

export interface RegionInfo {
  label: string;
  domain: string;
  /** Tencent's documented fallback domain for when DNS is hijacked. */
  backupDomain?: string;
  note?: string;
}

export const REGIONS = {
  'chinese-mainland': { label: 'Chinese mainland', domain: 'console.tim.qq.com', backupDomain: 'adminapi.my-imcloud.com' },
  singapore: { label: 'Singapore', domain: 'adminapisgp.im.qcloud.com', backupDomain: 'adminapisgp.my-imcloud.com' },
  seoul: { label: 'Seoul', domain: 'adminapikr.im.qcloud.com', backupDomain: 'adminapikr.my-imcloud.com' },
  frankfurt: { label: 'Frankfurt', domain: 'adminapiger.im.qcloud.com', backupDomain: 'adminapiger.my-imcloud.com' },
  'silicon-valley': { label: 'Silicon Valley', domain: 'adminapiusa.im.qcloud.com', backupDomain: 'adminapiusa.my-imcloud.com' },
  jakarta: { label: 'Jakarta', domain: 'adminapiidn.im.qcloud.com', backupDomain: 'adminapiidn.my-imcloud.com' },
  tokyo: { label: 'Tokyo', domain: 'adminapijpn.im.qcloud.com' },
  india: {
    label: 'India (Mumbai)',
    domain: 'adminapiind.im.qcloud.com',
    backupDomain: 'adminapiind.my-imcloud.com',
    note: 'Dropped from the 2024 im_push docs; probably retired.',
  },
} as const satisfies Record<string, RegionInfo>;

export type RegionName = keyof typeof REGIONS;
export const REGION_NAMES = Object.keys(REGIONS) as readonly RegionName[];
export const DEFAULT_REGION: RegionName = 'chinese-mainland';

export function isRegionName(s: string): s is RegionName {
  return Object.hasOwn(REGIONS, s);
}

/** An explicit base URL (e.g. the local emulator) wins over the region. */
export function resolveBaseUrl(o: { region?: RegionName; baseUrl?: string }): string {
  if (o.baseUrl !== undefined && o.baseUrl.trim() !== '') {
    const base = o.baseUrl.trim().replace(/\/+$/, '');
    if (!/^https?:\/\/[^/]/i.test(base) || !URL.canParse(base)) {
      throw new TypeError('TIM_BASE_URL must be an http(s) URL such as http://127.0.0.1:9000');
    }
    return base;
  }
  const region = o.region ?? DEFAULT_REGION;
  if (!isRegionName(region)) {
    throw new RangeError(`Unknown TIM_REGION “${String(region)}”; use one of: ${REGION_NAMES.join(', ')}`);
  }
  return `https://${REGIONS[region].domain}`;
}
