/** Small display helpers shared by the components. */

export function humanSize(bytes: number): string {
  if (!Number.isFinite(bytes)) {
    return '?';
  }
  const units = ['B', 'KB', 'MB', 'GB'];
  let size = bytes;
  let unit = 0;
  while (size >= 1024 && unit < units.length - 1) {
    size /= 1024;
    unit++;
  }
  return unit === 0 ? `${size} B` : `${size.toFixed(1)} ${units[unit]}`;
}

export function shortSha(sha: string): string {
  return (sha || '').slice(0, 12);
}

/** "2026-11-26 19:40" in the user's time zone; the raw value when it does not parse. */
export function shortDate(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) {
    return iso;
  }
  const pad = (n: number) => String(n).padStart(2, '0');
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}`
  );
}

export function usd(value: number | null | undefined, digits = 3): string {
  return value === null || value === undefined ? '—' : `$${value.toFixed(digits)}`;
}

/** The endpoint name the core would suggest for a version (`iris-v3`). */
export function suggestEndpointName(model: string, version: number): string {
  return `${model}-v${version}`.slice(0, 63).replace(/-+$/, '');
}

/** SageMaker's endpoint name rule: letters, digits and single hyphens, at most 63. */
export function endpointNameProblem(name: string): string | null {
  if (!name) {
    return 'Give the endpoint a name.';
  }
  if (!/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/.test(name)) {
    return 'Use letters, digits and hyphens (not at either end), at most 63 characters.';
  }
  return null;
}
