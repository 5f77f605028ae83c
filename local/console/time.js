// The console's one time format: 24-hour time of day with the time zone, e.g. `14:05:09 UTC` or
// `23:05:09 GMT+9`. Every time the console and the commit view show goes through `formatTime`.

const FORMAT = new Intl.DateTimeFormat('en-GB', {
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hour12: false,
  timeZoneName: 'short',
});

/** An ISO 8601 string, epoch milliseconds or a Date in the console's format; '' when there is none. */
export function formatTime(value) {
  if (value === undefined || value === null || value === '') return '';
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? '' : FORMAT.format(date);
}

/** Writes every `<time datetime>` under `root` in the console's format. */
export function formatTimes(root) {
  for (const element of root.querySelectorAll('time[datetime]')) {
    const text = formatTime(element.getAttribute('datetime'));
    if (text) element.textContent = text;
  }
}
