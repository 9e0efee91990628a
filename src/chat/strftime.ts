/**
 * Python's `datetime.strftime` in the C locale, for chat templates that call `strftime_now(...)` (Llama 3.x
 * writes "Today Date: 26 Jul 2024"). Local time, as Python's `datetime.now()`. Unknown directives are kept.
 */
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

function dayOfYear(d: Date): number {
  const start = new Date(d.getFullYear(), 0, 1);
  const ms = Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()) - Date.UTC(start.getFullYear(), 0, 1);
  return Math.floor(ms / 86_400_000) + 1;
}

/** Zero-padded values; `%-d` style (glibc: no padding) strips the leading zeros. */
const DIRECTIVES: Readonly<Record<string, (d: Date) => string>> = {
  Y: (d) => String(d.getFullYear()),
  y: (d) => pad(d.getFullYear() % 100),
  m: (d) => pad(d.getMonth() + 1),
  d: (d) => pad(d.getDate()),
  e: (d) => String(d.getDate()).padStart(2, ' '),
  b: (d) => MONTHS[d.getMonth()].slice(0, 3),
  h: (d) => MONTHS[d.getMonth()].slice(0, 3),
  B: (d) => MONTHS[d.getMonth()],
  a: (d) => DAYS[d.getDay()].slice(0, 3),
  A: (d) => DAYS[d.getDay()],
  w: (d) => String(d.getDay()),
  H: (d) => pad(d.getHours()),
  I: (d) => pad(d.getHours() % 12 === 0 ? 12 : d.getHours() % 12),
  p: (d) => (d.getHours() < 12 ? 'AM' : 'PM'),
  M: (d) => pad(d.getMinutes()),
  S: (d) => pad(d.getSeconds()),
  j: (d) => pad(dayOfYear(d), 3),
  '%': () => '%',
};

export function strftime(date: Date, format: string): string {
  return format.replace(/%(-?)([A-Za-z%])/g, (whole: string, noPad: string, code: string) => {
    const directive = DIRECTIVES[code];
    if (!directive) return whole;
    const value = directive(date);
    return noPad ? value.replace(/^[0 ]+(?=.)/, '') : value;
  });
}
