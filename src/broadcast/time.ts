// Wall-clock arithmetic in a named time zone (quota days, quiet hours), with the formatters cached:
// building an Intl.DateTimeFormat costs far more than using one, and these run on every command.

const partsFormatters = new Map<string, Intl.DateTimeFormat>();

function partsFormatter(timeZone: string): Intl.DateTimeFormat {
  let f = partsFormatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    partsFormatters.set(timeZone, f);
  }
  return f;
}

export interface LocalTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

/** The wall-clock reading of `at` in `timeZone`. */
export function localTime(at: Date, timeZone: string): LocalTime {
  const out: LocalTime = { year: 0, month: 0, day: 0, hour: 0, minute: 0, second: 0 };
  for (const p of partsFormatter(timeZone).formatToParts(at)) {
    if (p.type in out) out[p.type as keyof LocalTime] = Number(p.value);
  }
  return out;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** Local calendar date (YYYY-MM-DD) of `at` in `timeZone`. */
export function localDate(at: Date, timeZone: string): string {
  const t = localTime(at, timeZone);
  return `${pad(t.year, 4)}-${pad(t.month)}-${pad(t.day)}`;
}

/** "HH:MM" of `at` in `timeZone`. */
export function localClock(at: Date, timeZone: string): string {
  const t = localTime(at, timeZone);
  return `${pad(t.hour)}:${pad(t.minute)}`;
}

/** Offset of `timeZone` from UTC at `at`, in ms (positive east of Greenwich). */
function zoneOffsetMs(at: Date, timeZone: string): number {
  const t = localTime(at, timeZone);
  const asUtc = Date.UTC(t.year, t.month - 1, t.day, t.hour, t.minute, t.second);
  return asUtc - Math.floor(at.getTime() / 1000) * 1000;
}

/** The instant whose wall clock in `timeZone` reads the given local date and minute of the day. */
export function instantAt(year: number, month: number, day: number, minuteOfDay: number, timeZone: string): Date {
  const wall = Date.UTC(year, month - 1, day, 0, minuteOfDay);
  // Two passes settle the offset across a DST change.
  let guess = wall - zoneOffsetMs(new Date(wall), timeZone);
  guess = wall - zoneOffsetMs(new Date(guess), timeZone);
  return new Date(guess);
}

/** The instant the local day after `at` begins (next local midnight in `timeZone`). */
export function nextMidnight(at: Date, timeZone: string): Date {
  const t = localTime(at, timeZone);
  return instantAt(t.year, t.month, t.day + 1, 0, timeZone);
}

/** The first instant after `at` whose local time of day is `minuteOfDay`. */
export function nextLocalMinute(at: Date, minuteOfDay: number, timeZone: string): Date {
  const t = localTime(at, timeZone);
  const today = instantAt(t.year, t.month, t.day, minuteOfDay, timeZone);
  return today.getTime() > at.getTime() ? today : instantAt(t.year, t.month, t.day + 1, minuteOfDay, timeZone);
}

export function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
}

/** Quiet hours: local minutes of the day [start, end), which may wrap midnight (22:00-08:00). */
export interface QuietHours {
  startMinute: number;
  endMinute: number;
}

export function inQuietHours(at: Date, timeZone: string, q: QuietHours | undefined): boolean {
  if (!q) return false;
  const t = localTime(at, timeZone);
  const m = t.hour * 60 + t.minute;
  return q.startMinute < q.endMinute ? m >= q.startMinute && m < q.endMinute : m >= q.startMinute || m < q.endMinute;
}

/** When the quiet hours that contain `at` end. */
export function quietHoursEnd(at: Date, timeZone: string, q: QuietHours): Date {
  return nextLocalMinute(at, q.endMinute, timeZone);
}

/** "22:00–08:00". */
export function formatQuietHours(q: QuietHours): string {
  const hm = (m: number) => `${pad(Math.floor(m / 60))}:${pad(m % 60)}`;
  return `${hm(q.startMinute)}–${hm(q.endMinute)}`;
}
