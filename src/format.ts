import { nullTrans, TranslationBundle } from './trans';
import { Smops } from './types';

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

/**
 * The endpoint name the server uses when a deploy names none (`iris-v3`), from the server's
 * rule (`status.rules.names`); null until the status is known.
 */
export function suggestEndpointName(
  model: string,
  version: number,
  rule: Smops.IRules['names'] | undefined
): string | null {
  if (!rule) {
    return null;
  }
  const name = rule.endpoint_default
    .replace('{model}', model)
    .replace('{version}', String(version));
  return name.slice(0, rule.max_length).replace(/-+$/, '');
}

/** Why a name breaks the server's name rule (`status.rules.names`), or null. */
export function nameProblem(
  name: string,
  rule: Smops.IRules['names'] | undefined,
  trans: TranslationBundle = nullTrans
): string | null {
  if (!name) {
    return trans.__('Give the endpoint a name.');
  }
  if (rule && !new RegExp(rule.pattern).test(name)) {
    // The rule's description is the server's own words (its language, like its errors).
    return trans.__('Use %1.', rule.description);
  }
  return null;
}
