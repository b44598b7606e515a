import { describe, expect, it } from 'vitest';
import { REGIONS, REGION_NAMES, isRegionName, resolveBaseUrl, type RegionName } from '../../src/tim/regions.js';

describe('regions', () => {
  it('defaults to the Chinese mainland domain', () => {
    expect(resolveBaseUrl({})).toBe('https://console.tim.qq.com');
  });

  it.each([
    ['singapore', 'https://adminapisgp.im.qcloud.com'],
    ['seoul', 'https://adminapikr.im.qcloud.com'],
    ['frankfurt', 'https://adminapiger.im.qcloud.com'],
    ['silicon-valley', 'https://adminapiusa.im.qcloud.com'],
    ['jakarta', 'https://adminapiidn.im.qcloud.com'],
    ['tokyo', 'https://adminapijpn.im.qcloud.com'],
  ] as [RegionName, string][])('%s → %s', (region, url) => {
    expect(resolveBaseUrl({ region })).toBe(url);
  });

  it('an explicit base URL wins, without its trailing slash', () => {
    expect(resolveBaseUrl({ region: 'tokyo', baseUrl: 'http://127.0.0.1:9000/' })).toBe('http://127.0.0.1:9000');
  });

  it('rejects a base URL that is not http(s) and an unknown region', () => {
    expect(() => resolveBaseUrl({ baseUrl: 'console.tim.qq.com' })).toThrow(/TIM_BASE_URL/);
    expect(() => resolveBaseUrl({ region: 'mars' as RegionName })).toThrow(/TIM_REGION.*singapore/);
  });

  it('lists every region once, India marked as probably retired', () => {
    expect(REGION_NAMES).toEqual(Object.keys(REGIONS));
    expect(REGION_NAMES).toHaveLength(8);
    expect(REGIONS.india.note).toMatch(/retired/);
    expect(isRegionName('seoul')).toBe(true);
    expect(isRegionName('toString')).toBe(false);
  });
});
